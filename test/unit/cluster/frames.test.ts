// Reconfigure frames: encoded once, decoded with the hash checked, plugin names found wherever they sit.
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { decodeReconfigure, encodeReconfigure, pluginNames } from '../../../src/core/cluster/frames.js';
import { configHash } from '../../../src/core/cluster/hash.js';

const table = {
  _format_version: '3.0',
  services: [
    {
      name: 's',
      routes: [{ name: 'r', plugins: [{ name: 'cors', config: { plugins: [{ name: 'no' }] } }] }],
    },
  ],
  plugins: [{ name: 'key-auth' }],
};

describe('reconfigure frames', () => {
  it('round-trips a configuration with Kong hash and per-part hashes', () => {
    const encoded = encodeReconfigure(7, table, 1_700_000_000_000);
    const message = decodeReconfigure(encoded.frame, 1 << 20);
    assert.deepEqual(message.config_table, table);
    assert.equal(message.config_hash, configHash(table).hash);
    assert.equal(encoded.hash, message.config_hash);
    assert.equal(message.hashes.plugins, configHash(table).hashes.plugins);
    assert.equal(message.timestamp, 1_700_000_000);
  });

  it('finds plugins at any level, but not inside a plugin config', () => {
    assert.deepEqual([...pluginNames(table)].sort(), ['cors', 'key-auth']);
  });

  it('rejects a frame whose hash does not match its table', () => {
    const forged = gzipSync(
      JSON.stringify({ type: 'reconfigure', config_table: table, config_hash: 'f'.repeat(32) }),
    );
    assert.throws(() => decodeReconfigure(forged, 1 << 20), /does not match/);
  });

  it('rejects frames that inflate past the payload limit, and garbage', () => {
    const big = encodeReconfigure(1, { blob: 'x'.repeat(100_000) }).frame;
    assert.throws(() => decodeReconfigure(big, 10_000));
    assert.throws(() => decodeReconfigure(Buffer.from('not gzip'), 1 << 20));
    assert.throws(() => decodeReconfigure(gzipSync('{"type":"other"}'), 1 << 20), /not a reconfigure/);
  });
});
