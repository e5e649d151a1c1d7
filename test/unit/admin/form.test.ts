// Kong's form conventions decoded into nested objects, and the coercion of form strings by schema.
import assert from 'node:assert/strict';
import { decodeForm, FormDecodeError, parseFormKey } from '../../../src/core/admin/form.js';
import { inferRecord, inferValue, type RecordShape } from '../../../src/core/admin/infer.js';

const form = (body: string) => decodeForm(new URLSearchParams(body));

describe('admin form decoding', () => {
  it('reads plain keys as strings', () => {
    assert.deepEqual(form('name=example-service&url=http%3A%2F%2Fhttpbin.org'), {
      name: 'example-service',
      url: 'http://httpbin.org',
    });
  });

  it('reads paths[]=/a&paths[]=/b as a list', () => {
    assert.deepEqual(form('paths[]=/a&paths[]=/b'), { paths: ['/a', '/b'] });
  });

  it('reads a repeated key as a list, as Kong does', () => {
    assert.deepEqual(form('hosts=a.com&hosts=b.com'), { hosts: ['a.com', 'b.com'] });
  });

  it('reads explicit 1-based indexes in order and compacts holes', () => {
    assert.deepEqual(form('paths[2]=/b&paths[1]=/a'), { paths: ['/a', '/b'] });
    assert.deepEqual(form('paths[3]=/c'), { paths: ['/c'] });
  });

  it('reads config.minute=5 and service.id=… as nested objects', () => {
    assert.deepEqual(form('name=rate-limiting&config.minute=5&config.policy=local&service.id=abc'), {
      name: 'rate-limiting',
      config: { minute: '5', policy: 'local' },
      service: { id: 'abc' },
    });
  });

  it('reads lists inside nested objects (config.key_names[]=apikey)', () => {
    assert.deepEqual(form('config.key_names[]=apikey&config.key_names[]=x-key'), {
      config: { key_names: ['apikey', 'x-key'] },
    });
  });

  it('reads tags[]=x&tags[]=y', () => {
    assert.deepEqual(form('username=Jason&tags[]=x&tags[]=y'), { username: 'Jason', tags: ['x', 'y'] });
  });

  it('keeps keys that start or end with a dot literal', () => {
    assert.deepEqual(form('.a=1&b.=2'), { '.a': '1', 'b.': '2' });
  });

  it('never lets a key reach an object prototype', () => {
    const decoded = form('__proto__.polluted=yes&constructor.prototype.x=1');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.ok(Object.prototype.hasOwnProperty.call(decoded, '__proto__'));
    assert.deepEqual(Object.keys(decoded).sort(), ['__proto__', 'constructor']);
  });

  it('refuses a key given both as a value and as an object', () => {
    assert.throws(() => form('config=1&config.minute=5'), FormDecodeError);
    assert.throws(() => form('config.minute=5&config=1'), FormDecodeError);
    assert.throws(() => form('paths[]=/a&paths.x=1'), FormDecodeError);
  });

  it('refuses absurd indexes and nesting', () => {
    assert.throws(() => parseFormKey('a[0]'), FormDecodeError);
    assert.throws(() => parseFormKey('a[99999999]'), FormDecodeError);
    assert.throws(() => parseFormKey(Array.from({ length: 40 }, () => 'a').join('.')), FormDecodeError);
  });

  it('treats an empty key as a plain (unknown) field', () => {
    assert.deepEqual(form('=x'), { '': 'x' });
  });
});

describe('admin form typing by schema', () => {
  const route: RecordShape = {
    paths: { type: 'array', elements: { type: 'string' } },
    methods: { type: 'set', elements: { type: 'string' } },
    strip_path: { type: 'boolean' },
    regex_priority: { type: 'integer' },
    service: { type: 'foreign' },
    headers: { type: 'map', values: { type: 'array', elements: { type: 'string' } } },
  };

  it('coerces numbers, booleans, and single values given for lists', () => {
    assert.deepEqual(
      inferRecord(
        { paths: '/a', methods: ['GET'], strip_path: 'false', regex_priority: '10', service: { id: 'x' } },
        route,
      ),
      { paths: ['/a'], methods: ['GET'], strip_path: false, regex_priority: 10, service: { id: 'x' } },
    );
  });

  it('reads an empty value as null', () => {
    assert.deepEqual(inferRecord({ paths: '', strip_path: '' }, route), { paths: null, strip_path: null });
  });

  it('leaves values that do not fit for the schema to report', () => {
    assert.deepEqual(inferRecord({ regex_priority: 'ten', strip_path: 'yes' }, route), {
      regex_priority: 'ten',
      strip_path: 'yes',
    });
  });

  it('passes unknown fields through unchanged', () => {
    assert.deepEqual(inferRecord({ nope: '1' }, route), { nope: '1' });
  });

  it('types map values and record fields', () => {
    assert.deepEqual(inferRecord({ headers: { 'x-a': 'b' } }, route), { headers: { 'x-a': ['b'] } });
    const shape = { type: 'record', fields: { minute: { type: 'number' }, policy: { type: 'string' } } };
    assert.deepEqual(inferValue({ minute: '5', policy: 'local' }, shape), { minute: 5, policy: 'local' });
  });

  it('reads numbers the way Lua tonumber does, but not words', () => {
    assert.equal(inferValue(' 42 ', { type: 'integer' }), 42);
    assert.equal(inferValue('1.5e3', { type: 'number' }), 1500);
    assert.equal(inferValue('Infinity', { type: 'number' }), 'Infinity');
    assert.equal(inferValue('0x10', { type: 'number' }), '0x10');
  });
});
