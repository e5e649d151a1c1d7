// The store contract on the embedded SQLite engine (a file in a temp dir, WAL).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../../src/core/store/index.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';
import { storeContract } from './contract.js';

storeContract('sqlite', async () => {
  const tmp = await makeTempDir();
  const store = await openStore({ engine: 'sqlite', path: join(tmp.dir, 'prefix', 'hybrid.sqlite') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await tmp.cleanup();
    },
  };
});

describe('sqlite store file', () => {
  it('creates the file (and its directory), persists across reopen, uses WAL', async () => {
    const tmp = await makeTempDir();
    try {
      const path = join(tmp.dir, 'nested', 'hybrid.sqlite');
      let store = await openStore({ engine: 'sqlite', path });
      await store.insert('services', { name: 'kept', host: 'a.example' });
      await store.close();
      assert.ok(existsSync(path));
      store = await openStore({ engine: 'sqlite', path });
      assert.equal((await store.get('services', 'kept'))?.host, 'a.example');
      assert.equal(await store.version(), 1);
      await store.close();
      assert.ok(existsSync(`${path}-wal`) || existsSync(path));
    } finally {
      await tmp.cleanup();
    }
  });
});

describe('sqlite change feed across processes', () => {
  it('a store hears commits made to the same file by another connection', async () => {
    const tmp = await makeTempDir();
    const path = join(tmp.dir, 'hybrid.sqlite');
    const listening = await openStore({ engine: 'sqlite', path });
    const writer = await openStore({ engine: 'sqlite', path, listen: false });
    try {
      const heard: number[] = [];
      listening.onChange((v) => heard.push(v));
      await writer.insert('consumers', { username: 'from-elsewhere' });
      await waitUntil(() => heard.includes(1), { message: 'the version written by the other connection' });
      await listening.insert('consumers', { username: 'local' });
      assert.deepEqual(heard, [1, 2]);
    } finally {
      await writer.close();
      await listening.close();
      await tmp.cleanup();
    }
  });
});
