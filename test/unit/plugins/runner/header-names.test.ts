// Lowercased header names kept once made.
import assert from 'node:assert/strict';
import { lowerHeaderName } from '../../../../src/core/plugins/runner/header-names.js';

describe('header names', () => {
  it('lowercases, the same way on every call', () => {
    assert.equal(lowerHeaderName('X-RateLimit-Limit-Minute'), 'x-ratelimit-limit-minute');
    assert.equal(lowerHeaderName('X-RateLimit-Limit-Minute'), 'x-ratelimit-limit-minute');
    assert.equal(lowerHeaderName('already-lower'), 'already-lower');
  });

  it('still lowercases once it keeps no more names', () => {
    for (let i = 0; i < 2000; i++) assert.equal(lowerHeaderName(`X-Made-Up-${i}`), `x-made-up-${i}`);
    assert.equal(lowerHeaderName('X-After-The-Limit'), 'x-after-the-limit');
  });
});
