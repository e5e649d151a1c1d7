// Kong's configuration hash: Kong's own unit vectors, then each rule of the canonical string.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { configHash, luaNumber } from '../../../src/core/cluster/hash.js';
import { EMPTY_CONFIG_HASH } from '../../../src/core/cluster/protocol.js';

const md5 = (s: string | Buffer): string => createHash('md5').update(s).digest('hex');
/** Hash of a config whose only content is `rest`, to observe one canonical string at a time. */
const restOnly = (canonical: string): string => md5(EMPTY_CONFIG_HASH.repeat(5) + md5(canonical));

describe('configHash', () => {
  describe("Kong's vectors", () => {
    it('{} hashes to 2da3c26e4dbd6dd6ea3ab60a3dd7fb3e', () => {
      assert.equal(configHash({}).hash, '2da3c26e4dbd6dd6ea3ab60a3dd7fb3e');
    });

    it('{routes={}, services={}, plugins={}} hashes to 81aac97a81ad03c0cf0b36663806488e', () => {
      assert.equal(
        configHash({ routes: [], services: [], plugins: [] }).hash,
        '81aac97a81ad03c0cf0b36663806488e',
      );
    });

    it('{upstreams={}, targets={}} hashes to 4d60dd9998ea4314039da5ca2f1db96f', () => {
      assert.equal(configHash({ upstreams: [], targets: [] }).hash, '4d60dd9998ea4314039da5ca2f1db96f');
    });

    it('empty objects and empty arrays are the same Lua table', () => {
      assert.equal(
        configHash({ routes: {}, services: {}, plugins: {} }).hash,
        '81aac97a81ad03c0cf0b36663806488e',
      );
    });
  });

  it('reports each part, with the empty hash for absent parts', () => {
    const { hash, hashes } = configHash({ services: [{ name: 'a' }], _format_version: '3.0' });
    assert.equal(hashes.config, hash);
    assert.equal(hashes.services, md5('name:a;'));
    assert.equal(hashes.routes, EMPTY_CONFIG_HASH);
    assert.equal(hashes.targets, EMPTY_CONFIG_HASH);
    assert.equal(
      hash,
      md5(EMPTY_CONFIG_HASH + md5('name:a;') + EMPTY_CONFIG_HASH.repeat(3) + md5('_format_version:3.0;')),
    );
  });

  it('sorts object keys byte-wise, whatever their insertion order', () => {
    assert.equal(configHash({ b: 1, a: 2, B: 3 }).hash, restOnly('B:3;a:2;b:1;'));
    assert.equal(configHash({ a: 2, B: 3, b: 1 }).hash, configHash({ b: 1, a: 2, B: 3 }).hash);
    // UTF-16 order (JavaScript's default sort) puts U+1F600 before U+FF01; UTF-8 bytes (Lua) do the opposite.
    assert.equal(configHash({ '\u{1F600}': 1, '\uFF01': 2 }).hash, restOnly('\uFF01:2;\u{1F600}:1;'));
  });

  it('joins arrays of up to five items with ";" and ends longer ones with ";" after every item', () => {
    assert.equal(configHash({ x: ['a'] }).hash, restOnly('x:a;'));
    assert.equal(configHash({ x: [1, 2, 3, 4, 5] }).hash, restOnly('x:1;2;3;4;5;'));
    assert.equal(configHash({ x: [1, 2, 3, 4, 5, 6] }).hash, restOnly('x:1;2;3;4;5;6;;'));
  });

  it('writes null as /null/, booleans as true/false, and skips undefined fields', () => {
    assert.equal(
      configHash({ a: null, b: true, c: false, d: undefined }).hash,
      restOnly('a:/null/;b:true;c:false;'),
    );
  });

  it('formats numbers as LuaJIT does (%.14g)', () => {
    assert.equal(luaNumber(80), '80');
    assert.equal(luaNumber(60000), '60000');
    assert.equal(luaNumber(0.1), '0.1');
    assert.equal(luaNumber(1 / 3), '0.33333333333333');
    assert.equal(luaNumber(1e15), '1e+15');
    // An exact tie rounds to even, as glibc's printf does (JavaScript's toExponential rounds up).
    assert.equal(luaNumber(123456789012345), '1.2345678901234e+14');
    assert.equal(luaNumber(123456789012355), '1.2345678901236e+14');
    assert.equal(luaNumber(0.30000000000000004), '0.3');
    assert.equal(luaNumber(2 ** 70), '1.1805916207174e+21');
    assert.equal(luaNumber(5e-324), '4.9406564584125e-324');
    assert.equal(luaNumber(99999999999999.5), '1e+14');
    assert.equal(luaNumber(999999999999995), '1e+15');
    assert.equal(luaNumber(12345678901234), '12345678901234');
    assert.equal(luaNumber(99999999999999), '99999999999999');
    assert.equal(luaNumber(1e14), '1e+14');
    assert.equal(luaNumber(-42), '-42');
    assert.equal(luaNumber(0.0001), '0.0001');
    assert.equal(luaNumber(0.00001), '1e-05');
    assert.equal(luaNumber(-2.5), '-2.5');
    assert.equal(luaNumber(0), '0');
  });

  it('folds the buffer into a binary md5 once it passes 1,000,000 bytes, as Kong does', () => {
    const big = 'x'.repeat(1_000_001);
    // Kong checks the size on entering each value: the fold happens before 'y', so it takes "b:" in.
    const folded = Buffer.concat([createHash('md5').update(`a:${big};b:`).digest(), Buffer.from('y;')]);
    assert.equal(configHash({ a: big, b: 'y' }).hash, md5(EMPTY_CONFIG_HASH.repeat(5) + md5(folded)));
  });

  it('hashes a 1.3 MB config (several folds, multi-byte names, fractions) to its pinned value', () => {
    // Pinned from the byte-per-piece implementation this one replaced, to keep the faster one honest.
    const routes = Array.from({ length: 6000 }, (_, i) => ({
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      name: `route-é-${i}`,
      paths: [`/p${i}`],
      hosts: i % 3 ? [`h${i}.example.com`] : [],
      protocols: ['http', 'https'],
      regex_priority: i % 7,
      weight: i / 8,
      strip_path: i % 2 === 0,
      created_at: 1700000000 + i,
    }));
    const config = { _format_version: '3.0', routes, services: [{ id: 's', host: 'example.com', port: 80 }] };
    assert.equal(configHash(config).hash, '8da4206b189fac5825f802e00345ca2e');
  });

  it('refuses values JSON cannot carry', () => {
    assert.throws(() => configHash({ f: () => 1 }), /only JSON values/);
  });
});
