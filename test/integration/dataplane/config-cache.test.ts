// The config cache on real lmdb files: round trips in both modes, off, damage, the wrong key, 10k routes.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { openConfigCache, type ConfigCacheMode } from '../../../src/core/dataplane/config-cache.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { KNOWN_CREDENTIAL, largeConfig } from './large-config.js';

const newKeyPem = () =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    format: 'pem',
    type: 'pkcs8',
  }) as string;

describe('data plane config cache (lmdb)', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  const clusterKey = newKeyPem();

  before(async () => ({ dir, cleanup } = await makeTempDir()));
  after(async () => cleanup());

  /** A cache in a fresh directory (or `path`), with its warnings collected. */
  function cache(mode: ConfigCacheMode, options: { path?: string; key?: string } = {}) {
    const warnings: string[] = [];
    const path = options.path ?? join(dir, `prefix-${++n}`, 'dbless.lmdb');
    const opened = openConfigCache({
      path,
      mapSize: 256 * 1024 * 1024,
      mode,
      clusterKeyPem: options.key ?? clusterKey,
      log: { warn: (m) => warnings.push(m), info: () => undefined },
    });
    return { cache: opened, path, warnings };
  }

  const small = (tag: string) => ({ hash: tag.repeat(32).slice(0, 32), table: largeConfig(3, tag) });

  it('unencrypted: a saved config loads back in a new process view, in a 0700 directory of 0600 files', async () => {
    const first = cache('unencrypted');
    assert.equal(first.cache.load(), null, 'nothing cached yet');
    const config = small('a');
    assert.equal(await first.cache.save({ ...config, version: 7 }), true);
    await first.cache.close();

    const again = cache('unencrypted', { path: first.path });
    const loaded = again.cache.load();
    await again.cache.close();
    assert.ok(loaded);
    assert.equal(loaded.hash, config.hash);
    assert.deepEqual(loaded.table, config.table);
    assert.equal(loaded.version, 7);
    assert.equal(loaded.entities, 3 + 1 + 1 + 1);
    assert.ok(Date.now() - loaded.savedAt < 60_000);
    assert.deepEqual(again.warnings, []);
    assert.equal(statSync(first.path).mode & 0o777, 0o700);
    for (const file of ['data.mdb', 'lock.mdb'])
      assert.equal(statSync(join(first.path, file)).mode & 0o777, 0o600);
    assert.ok(
      readFileSync(join(first.path, 'data.mdb')).includes(Buffer.from('HDPC')),
      'the record is in data.mdb',
    );
  });

  it('encrypted: round trip; the bytes never hold a credential; another cluster key reads nothing (warning)', async () => {
    const first = cache('encrypted');
    const config = small('b');
    assert.equal(await first.cache.save(config), true);
    await first.cache.close();
    assert.ok(JSON.stringify(config.table).includes(KNOWN_CREDENTIAL));
    for (const file of ['data.mdb', 'lock.mdb']) {
      const bytes = readFileSync(join(first.path, file));
      assert.equal(bytes.includes(Buffer.from(KNOWN_CREDENTIAL)), false, `${file} holds the credential`);
      assert.equal(bytes.includes(Buffer.from(config.hash)), false, `${file} holds the hash in clear`);
    }

    const same = cache('encrypted', { path: first.path });
    assert.deepEqual(same.cache.load()?.table, config.table);
    await same.cache.close();

    const other = cache('encrypted', { path: first.path, key: newKeyPem() });
    assert.equal(other.cache.load(), null);
    await other.cache.close();
    assert.equal(other.warnings.length, 1);
    assert.match(other.warnings[0]!, /cannot decrypt it \(written with another cluster_cert_key/);
  });

  it('a cache written in the other mode is skipped with a warning, then replaced by the next save', async () => {
    const plain = cache('unencrypted');
    await plain.cache.save(small('c'));
    await plain.cache.close();
    const encrypted = cache('encrypted', { path: plain.path });
    assert.equal(encrypted.cache.load(), null);
    assert.match(encrypted.warnings.join('\n'), /not encrypted but data_plane_config_cache_mode = encrypted/);
    assert.equal(await encrypted.cache.save(small('d')), true);
    await encrypted.cache.close();
    const back = cache('unencrypted', { path: plain.path });
    assert.equal(back.cache.load(), null);
    assert.match(back.warnings.join('\n'), /encrypted but data_plane_config_cache_mode = unencrypted/);
    await back.cache.close();
  });

  it('off: nothing is created, and an existing cache is not read', async () => {
    const off = cache('off');
    assert.equal(off.cache.load(), null);
    assert.equal(await off.cache.save(small('e')), true);
    await off.cache.close();
    assert.equal(existsSync(join(off.path, '..')), false, 'not even the prefix directory');

    const written = cache('unencrypted');
    await written.cache.save(small('f'));
    await written.cache.close();
    const offAgain = cache('off', { path: written.path });
    assert.equal(offAgain.cache.load(), null);
    assert.deepEqual(offAgain.warnings, []);
  });

  const damages: Record<string, (file: string) => void> = {
    'truncated to a third': (file) => truncateSync(file, Math.floor(statSync(file).size / 3)),
    'truncated to 100 bytes': (file) => truncateSync(file, 100),
    'with garbage over the meta pages': (file) => overwrite(file, 0, 8192),
    'with garbage over the middle': (file) => overwrite(file, 8192, statSync(file).size - 16384),
    'with garbage everywhere': (file) => overwrite(file, 0, statSync(file).size),
  };
  for (const [damage, apply] of Object.entries(damages)) {
    it(`a data.mdb ${damage}: load returns null with a warning, the cache is set aside and works again`, async () => {
      const first = cache('unencrypted');
      await first.cache.save({ hash: 'a'.repeat(32), table: largeConfig(200, 'a') });
      await first.cache.save({ hash: 'b'.repeat(32), table: largeConfig(200, 'b') });
      await first.cache.close();
      apply(join(first.path, 'data.mdb'));

      const damaged = cache('unencrypted', { path: first.path });
      assert.equal(damaged.cache.load(), null);
      assert.equal(damaged.warnings.length, 1, damaged.warnings.join('\n'));
      assert.match(
        damaged.warnings[0]!,
        /is corrupt or unreadable \(.+\); moving it aside to .*dbless\.lmdb\.corrupt/,
      );
      assert.ok(existsSync(`${first.path}.corrupt`), 'kept for inspection');
      const next = small('c');
      assert.equal(await damaged.cache.save(next), true, damaged.warnings.join('\n'));
      await damaged.cache.close();

      const fresh = cache('unencrypted', { path: first.path });
      assert.equal(fresh.cache.load()?.hash, next.hash);
      await fresh.cache.close();
    });
  }

  it('a location that cannot hold a cache: save answers false with a warning, never throws', async () => {
    const file = join(dir, 'not-a-directory');
    writeFileSync(file, 'x');
    const blocked = cache('unencrypted', { path: join(file, 'dbless.lmdb') });
    assert.equal(blocked.cache.load(), null);
    assert.equal(await blocked.cache.save(small('g')), false);
    assert.equal(await blocked.cache.save(small('h')), false);
    await blocked.cache.close();
    assert.equal(blocked.warnings.length, 1, 'said once');
    assert.match(blocked.warnings[0]!, /cannot be opened, configs will not be cached: ENOTDIR/);
  });

  it('saves run in order: the last one started is the one on disk', async () => {
    const c = cache('unencrypted');
    const saves = ['a', 'b', 'c', 'd'].map((tag) => c.cache.save(small(tag)));
    assert.deepEqual(await Promise.all(saves), [true, true, true, true]);
    await c.cache.close();
    const again = cache('unencrypted', { path: c.path });
    assert.equal(again.cache.load()?.hash, small('d').hash);
    await again.cache.close();
  });

  for (const mode of ['unencrypted', 'encrypted'] as const) {
    it(`10k routes, ${mode}: save and load times`, async () => {
      const table = largeConfig(10_000, 'big');
      const json = JSON.stringify(table).length;
      const first = cache(mode);
      let t = performance.now();
      assert.equal(await first.cache.save({ hash: 'f'.repeat(32), table }), true);
      const saveMs = performance.now() - t;
      await first.cache.close();
      const size = statSync(join(first.path, 'data.mdb')).size;

      const again = cache(mode, { path: first.path });
      t = performance.now();
      const loaded = again.cache.load();
      const loadMs = performance.now() - t;
      await again.cache.close();
      assert.ok(loaded);
      assert.equal((loaded.table.routes as unknown[]).length, 10_000);
      assert.deepEqual(loaded.table, table);
      console.log(
        `      10k routes (${(json / 1e6).toFixed(1)} MB JSON), ${mode}: save ${saveMs.toFixed(0)} ms, load ${loadMs.toFixed(0)} ms (probe process included), data.mdb ${(size / 1e6).toFixed(1)} MB`,
      );
    });
  }
});

function overwrite(file: string, offset: number, length: number): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, randomBytes(length), 0, length, offset);
  } finally {
    closeSync(fd);
  }
}
