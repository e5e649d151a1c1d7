// The data plane registry on both engines: rows, coalesced writes, restart recovery, purge, and no config side effects.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { DataPlaneRegistry, type RegisteredSession } from '../../../src/core/cluster/registry.js';
import { exportDeclarative } from '../../../src/core/declarative/index.js';
import {
  openStore,
  runMigrations,
  StoreErrorCode,
  type DataPlaneRow,
  type DataPlaneRows,
  type Store,
} from '../../../src/core/store/index.js';
import { rejectsWith } from '../store/contract.js';
import { PG_BASE, tempPostgresStore, tempSchema } from '../../helpers/postgres.js';
import { tempSqliteStore } from '../../helpers/sqlite.js';
import { waitUntil } from '../../helpers/wait.js';

const engines: Record<string, () => Promise<{ store: Store; cleanup: () => Promise<void> }>> = {
  sqlite: tempSqliteStore,
  postgres: tempPostgresStore,
};

const T0 = 1_800_000_000_000; // ms; any fixed instant works with an injected clock
const CP = randomUUID();

function session(overrides: Partial<RegisteredSession> = {}): RegisteredSession {
  return {
    id: randomUUID(),
    hostname: 'dp-host',
    ip: '10.0.0.7',
    version: '3.4.0',
    labels: { region: 'eu', tier: 'gold' },
    configHash: 'a'.repeat(32),
    lastSeen: T0,
    incompatible: null,
    certExpiry: 1_900_000_000,
    ...overrides,
  };
}

/** Counts the upserts (and rows) the registry sends to the store. */
function counting(rows: DataPlaneRows): DataPlaneRows & { upserts: number[]; at: number[] } {
  const upserts: number[] = [];
  const at: number[] = [];
  return Object.assign(Object.create(rows) as DataPlaneRows, {
    upserts,
    at,
    upsert: async (batch: DataPlaneRow[]) => {
      upserts.push(batch.length);
      at.push(Date.now());
      await rows.upsert(batch);
    },
  });
}

for (const [engine, open] of Object.entries(engines)) {
  describe(`data plane registry (${engine})`, function () {
    this.timeout(30_000);
    let store: Store;
    let cleanup: () => Promise<void>;
    let now: number;
    const registries: DataPlaneRegistry[] = [];
    const registry = (
      rows: DataPlaneRows = store.dataPlanes,
      options: { cp?: string; flushMs?: number } = {},
    ) => {
      const r = new DataPlaneRegistry({
        rows,
        controlPlaneId: options.cp ?? CP,
        purgeDelaySeconds: 120,
        now: () => now,
        flushIntervalMs: options.flushMs ?? 1000,
      });
      registries.push(r);
      return r;
    };

    beforeEach(async () => {
      ({ store, cleanup } = await open());
      now = T0;
    });
    afterEach(async () => {
      for (const r of registries.splice(0)) await r.close();
      await cleanup();
    });

    it('records a connected data plane with every field, then its pings and its disconnect', async () => {
      const r = registry();
      await r.start();
      const dp = session();
      r.connected(dp);
      await r.flush();
      const row = await store.dataPlanes.get(dp.id);
      assert.deepEqual(row, {
        id: dp.id,
        hostname: 'dp-host',
        ip: '10.0.0.7',
        version: '3.4.0',
        sync_status: 'normal',
        config_hash: 'a'.repeat(32),
        last_seen: T0 / 1000,
        labels: { region: 'eu', tier: 'gold' },
        cert_details: { expiry_timestamp: 1_900_000_000 },
        status: 'connected',
        control_plane_id: CP,
        created_at: T0 / 1000,
        updated_at: T0 / 1000,
      });

      now += 30_000;
      Object.assign(dp, {
        lastSeen: now,
        configHash: 'b'.repeat(32),
        incompatible: { reason: 'plugin_set_incompatible', message: 'plugin x missing' },
      });
      r.updated(dp);
      await r.flush();
      let later = await store.dataPlanes.get(dp.id);
      assert.equal(later?.last_seen, T0 / 1000 + 30);
      assert.equal(later?.config_hash, 'b'.repeat(32));
      assert.equal(later?.sync_status, 'plugin_set_incompatible');
      assert.equal(later?.created_at, T0 / 1000);

      dp.incompatible = { reason: 'plugin_version_incompatible', message: 'configured plugin x 2.0.0' };
      r.updated(dp);
      await r.flush();
      later = await store.dataPlanes.get(dp.id);
      assert.equal(later?.sync_status, 'plugin_version_incompatible');

      r.disconnected(dp);
      await r.flush();
      later = await store.dataPlanes.get(dp.id);
      assert.equal(later?.status, 'disconnected');
      assert.equal(later?.last_seen, T0 / 1000 + 30, 'last_seen stays the last time it was heard');
    });

    it('never touches the configuration: no version bump, no change event, nothing exported', async () => {
      await store.insert('services', { name: 's', host: 'a.example' });
      const version = await store.version();
      const before = await exportDeclarative(store);
      const heard: number[] = [];
      store.onChange((v) => heard.push(v));
      const r = registry();
      await r.start();
      for (let i = 0; i < 5; i++) r.connected(session());
      await r.flush();
      assert.equal((await store.dataPlanes.list()).data.length, 5);
      assert.equal(await store.version(), version);
      assert.deepEqual(heard, []);
      const after = await exportDeclarative(store);
      assert.deepEqual(after, before);
      assert.ok(!JSON.stringify(after.doc).includes('dp-host'));
    });

    it('coalesces the pings of many data planes into one write per interval; connects still show within it', async () => {
      const rows = counting(store.dataPlanes);
      const r = registry(rows, { flushMs: 300 });
      const dps = Array.from({ length: 600 }, () => session());
      for (const dp of dps) r.connected(dp);
      for (let ping = 1; ping <= 5; ping++) {
        for (const dp of dps) {
          dp.lastSeen = T0 + ping * 1000;
          r.updated(dp);
        }
      }
      await waitUntil(async () => (await store.dataPlanes.list({ size: 1000 })).data.length === 600, {
        message: '600 rows written',
      });
      assert.deepEqual(rows.upserts, [600], '3600 hook calls, one write of 600 rows');
      const first = await store.dataPlanes.get(dps[0]!.id);
      assert.equal(first?.last_seen, T0 / 1000 + 5, 'the latest ping wins');

      r.disconnected(dps[0]!);
      await waitUntil(async () => (await store.dataPlanes.get(dps[0]!.id))?.status === 'disconnected', {
        timeoutMs: 2000,
        message: 'the disconnect written within the interval',
      });
      assert.deepEqual(rows.upserts, [600, 1]);
      assert.ok(rows.at[1]! - rows.at[0]! >= 290, `writes ${rows.at[1]! - rows.at[0]!} ms apart`);
    });

    it('an upsert given the same id twice keeps the last', async () => {
      const r = registry(counting(store.dataPlanes));
      const dp = session();
      r.connected(dp);
      await r.flush();
      const row = (await store.dataPlanes.get(dp.id))!;
      await store.dataPlanes.upsert([
        { ...row, hostname: 'first' },
        { ...row, hostname: 'second' },
      ]);
      assert.equal((await store.dataPlanes.get(dp.id))?.hostname, 'second');
    });

    it('one row per data plane: a reconnect replaces the row, a late close of the old connection does not win', async () => {
      const r = registry();
      const id = randomUUID();
      const before = session({ id });
      const after = session({ id, hostname: 'dp-host-2', lastSeen: T0 + 5000 });
      r.connected(before);
      r.connected(after);
      r.disconnected(before);
      await r.flush();
      const page = await store.dataPlanes.list();
      assert.equal(page.data.length, 1);
      assert.equal(page.data[0]!.status, 'connected');
      assert.equal(page.data[0]!.hostname, 'dp-host-2');
    });

    it('a restarted control plane marks the rows it held disconnected, not those of another control plane', async () => {
      const first = registry();
      const mine = session();
      first.connected(mine);
      const other = registry(store.dataPlanes, { cp: randomUUID() });
      const theirs = session();
      other.connected(theirs);
      await first.flush();
      await other.flush();
      // The first control plane dies without closing its connections; a new process starts.
      const restarted = registry();
      await restarted.start();
      assert.equal((await store.dataPlanes.get(mine.id))?.status, 'disconnected');
      assert.equal((await store.dataPlanes.get(theirs.id))?.status, 'connected');
    });

    it('purges rows not seen for cluster_data_plane_purge_delay, at start and on demand', async () => {
      const r = registry();
      const old = session({ lastSeen: T0 });
      r.connected(old);
      r.disconnected(old);
      await r.flush();
      now = T0 + 100_000;
      const recent = session({ lastSeen: now });
      r.connected(recent);
      await r.flush();
      assert.equal(await r.purge(), 0, '100 s < 120 s purge delay');
      now = T0 + 121_000;
      assert.equal(await r.purge(), 1);
      assert.equal(await store.dataPlanes.get(old.id), null);
      assert.ok(await store.dataPlanes.get(recent.id));
      now = T0 + 300_000;
      await registry().start();
      assert.equal((await store.dataPlanes.list()).data.length, 0, 'start purges too');
    });

    it('records a version-incompatible data plane as disconnected with kong_version_incompatible', async () => {
      const r = registry();
      const dp = session({ version: '9.0.0' });
      r.refused(dp, 'kong_version_incompatible');
      await r.flush();
      const row = await store.dataPlanes.get(dp.id);
      assert.equal(row?.sync_status, 'kong_version_incompatible');
      assert.equal(row?.status, 'disconnected');
    });

    it('pages by id with an opaque offset, refuses bad sizes and offsets, skips ids that are not UUIDs', async () => {
      const r = registry();
      const ids = Array.from({ length: 5 }, () => randomUUID()).sort();
      for (const id of ids) r.connected(session({ id }));
      r.connected(session({ id: 'not-a-uuid' }));
      await r.flush();
      const first = await store.dataPlanes.list({ size: 2 });
      assert.deepEqual(
        first.data.map((d) => d.id),
        ids.slice(0, 2),
      );
      const second = await store.dataPlanes.list({ size: 2, offset: first.offset });
      assert.deepEqual(
        second.data.map((d) => d.id),
        ids.slice(2, 4),
      );
      const last = await store.dataPlanes.list({ size: 2, offset: second.offset });
      assert.deepEqual(
        last.data.map((d) => d.id),
        ids.slice(4),
      );
      assert.equal(last.offset, undefined);
      await rejectsWith(store.dataPlanes.list({ size: 1001 }), StoreErrorCode.INVALID_SIZE);
      await rejectsWith(store.dataPlanes.list({ offset: 'garbage' }), StoreErrorCode.INVALID_OFFSET);
    });
  });
}

describe('clustering_data_planes migration on PostgreSQL', function () {
  this.timeout(30_000);
  it('a database bootstrapped before the registry existed has it pending, and `up` adds it', async () => {
    const { schema, drop } = tempSchema();
    const options = { engine: 'postgres' as const, ...PG_BASE, schema };
    try {
      assert.deepEqual((await runMigrations(options, 'bootstrap')).ran, [
        '000_base',
        '001_clustering_data_planes',
      ]);
      // Back to the schema of a release without the registry.
      const client = new pg.Client({ ...PG_BASE, options: `-c search_path=${schema}` });
      await client.connect();
      await client.query(`DROP TABLE clustering_data_planes`);
      await client.query(`DELETE FROM hybrid_migrations WHERE name = '001_clustering_data_planes'`);
      await client.end();
      assert.deepEqual((await runMigrations(options, 'status')).pending, ['001_clustering_data_planes']);
      assert.deepEqual((await runMigrations(options, 'up')).ran, ['001_clustering_data_planes']);
      const store = await openStore({ ...options, listen: false });
      try {
        assert.deepEqual(await store.dataPlanes.list(), { data: [] });
      } finally {
        await store.close();
      }
    } finally {
      await drop();
    }
  });
});
