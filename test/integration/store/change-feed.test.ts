// Two processes on one PostgreSQL database learn of each other's commits through LISTEN/NOTIFY.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openStore, type Store } from '../../../src/core/store/index.js';
import { PG_BASE, tempSchema } from '../../helpers/postgres.js';
import { waitUntil } from '../../helpers/wait.js';

const PEER = fileURLToPath(new URL('../../fixtures/store-feed-peer.ts', import.meta.url));

describe('change feed across processes (postgres LISTEN/NOTIFY)', function () {
  this.timeout(30_000);
  let store: Store;
  let peer: ChildProcessWithoutNullStreams;
  let drop: () => Promise<void>;
  const lines: Record<string, unknown>[] = [];

  before(async () => {
    const temp = tempSchema();
    drop = temp.drop;
    store = await openStore({ engine: 'postgres', ...PG_BASE, schema: temp.schema }, { migrate: true });
    peer = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        PEER,
        PG_BASE.host,
        String(PG_BASE.port),
        PG_BASE.user,
        PG_BASE.database,
        temp.schema,
      ],
      { stdio: 'pipe' },
    );
    createInterface({ input: peer.stdout }).on('line', (line) =>
      lines.push(JSON.parse(line) as Record<string, unknown>),
    );
    await waitUntil(() => lines.some((l) => 'ready' in l), { timeoutMs: 20_000, message: 'peer ready' });
  });

  after(async () => {
    peer?.stdin.write('quit\n');
    if (peer && peer.exitCode === null) {
      const exited = new Promise((resolve) => peer.once('exit', resolve));
      const timer = setTimeout(() => peer.kill(), 5000);
      await exited;
      clearTimeout(timer);
    }
    await store?.close();
    await drop?.();
  });

  it('the peer hears this process commit, once per write, never for a rejected write', async () => {
    await store.insert('services', { name: 'a', host: 'a.example' });
    await store.insert('services', { name: 'b', host: 'b.example' });
    await store.insert('services', { name: 'a', host: 'a.example' }).catch(() => undefined);
    await waitUntil(() => lines.filter((l) => 'heard' in l).length >= 2, {
      message: 'peer hears 2 versions',
    });
    await store.insert('services', { name: 'c', host: 'c.example' });
    await waitUntil(() => lines.filter((l) => 'heard' in l).length >= 3, { message: 'peer hears the third' });
    assert.deepEqual(
      lines.filter((l) => 'heard' in l).map((l) => l.heard),
      [1, 2, 3],
    );
  });

  it('this process hears the peer commit', async () => {
    const heard: number[] = [];
    const off = store.onChange((v) => heard.push(v));
    peer.stdin.write('from-peer\n');
    await waitUntil(() => heard.length > 0, { message: 'notification from the peer' });
    off();
    assert.equal(heard[0], 4);
    assert.equal((await store.get('consumers', 'from-peer'))?.username, 'from-peer');
  });
});
