import assert from 'node:assert/strict';
import { jsonObject } from '../../../src/core/http/json-object.js';

describe('jsonObject', () => {
  it('gives the object, or says whether the text is not JSON or JSON of another kind', () => {
    assert.deepEqual(jsonObject('{"a":1}'), { a: 1 });
    assert.equal(jsonObject('{"a":'), 'invalid');
    assert.equal(jsonObject(''), 'invalid');
    for (const other of ['[1]', 'null', '3', '"x"', 'true']) assert.equal(jsonObject(other), 'other', other);
  });
});
