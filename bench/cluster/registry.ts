// Registry write cost: N data planes pinging, flushed in one batch — how long a flush takes on each engine.
// node --import tsx bench/cluster/registry.ts [--count 500] [--engine sqlite|postgres|both]
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DataPlaneRegistry } from '../../src/core/cluster/registry.js';
import { openStore, type Store } from '../../src/core/store/index.js';
import { tempPostgresStore } from '../../test/helpers/postgres.js';
import { makeTempDir } from '../../test/helpers/tmp.js';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '500' }, engine: { type: 'string', default: 'both' } },
});
const count = Number(values.count);

async function measure(engine: string, store: Store): Promise<void> {
  const registry = new DataPlaneRegistry({
    rows: store.dataPlanes,
    controlPlaneId: randomUUID(),
    purgeDelaySeconds: 1_209_600,
    flushIntervalMs: 3_600_000, // flushed by hand below
  });
  const sessions = Array.from({ length: count }, () => ({
    id: randomUUID(),
    hostname: 'dp',
    ip: '10.0.0.1',
    version: '3.4.0',
    labels: { region: 'eu' },
    configHash: 'a'.repeat(32),
    lastSeen: Date.now(),
    incompatible: null,
    certExpiry: 1_900_000_000,
  }));
  for (const s of sessions) registry.connected(s);
  let t = performance.now();
  await registry.flush();
  const insertMs = performance.now() - t;
  const rounds = 5;
  t = performance.now();
  for (let round = 0; round < rounds; round++) {
    for (const s of sessions) {
      s.lastSeen = Date.now();
      registry.updated(s);
    }
    await registry.flush();
  }
  const updateMs = (performance.now() - t) / rounds;
  console.log(
    `${engine}: ${count} data planes — first flush (insert) ${insertMs.toFixed(1)} ms, ` +
      `a flush of ${count} pings ${updateMs.toFixed(1)} ms (one transaction per second at most)`,
  );
  await registry.close();
}

if (values.engine !== 'postgres') {
  const tmp = await makeTempDir();
  const store = await openStore({ engine: 'sqlite', path: join(tmp.dir, 'hybrid.sqlite'), listen: false });
  await measure('sqlite', store);
  await store.close();
  await tmp.cleanup();
}
if (values.engine !== 'sqlite') {
  const { store, cleanup } = await tempPostgresStore();
  await measure('postgres', store);
  await cleanup();
}
