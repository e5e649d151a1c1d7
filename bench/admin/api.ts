// Benchmark: create 10k services, 10k routes and 10k consumers through the Admin API; throughput and latency.
// Usage: node --import tsx bench/admin/api.ts [--engine sqlite|postgres|both] [--count 10000] [--concurrency 1]
//        [--baseline: also time the same service creates straight on the store, without HTTP]
import { Agent, request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startAdminApi } from '../../src/core/admin/index.js';
import { openStore, type Store } from '../../src/core/store/index.js';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'both' },
    count: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '1' },
    baseline: { type: 'boolean', default: false },
  },
});
const COUNT = Number(values.count);
const CONCURRENCY = Number(values.concurrency);
const BASELINE = values.baseline === true;

const PG = {
  host: process.env.HYBRID_BENCH_PG_HOST ?? '127.0.0.1',
  port: Number(process.env.HYBRID_BENCH_PG_PORT ?? 5432),
  user: process.env.HYBRID_BENCH_PG_USER ?? 'postgres',
  database: process.env.HYBRID_BENCH_PG_DATABASE ?? 'test',
};

function post(agent: Agent, port: number, path: string, body: unknown): Promise<number> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface PhaseResult {
  entity: string;
  count: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
}

/** Sends `count` creates with `CONCURRENCY` in flight, timing each request from send to last byte. */
async function phase(
  entity: string,
  count: number,
  send: (i: number) => Promise<number>,
): Promise<PhaseResult> {
  const latencies: number[] = new Array(count);
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const t0 = performance.now();
      const status = await send(i);
      latencies[i] = performance.now() - t0;
      if (status !== 201) throw new Error(`${entity} #${i}: HTTP ${status}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    entity,
    count,
    seconds,
    perSecond: count / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1]!,
  };
}

async function run(engine: 'sqlite' | 'postgres'): Promise<PhaseResult[]> {
  let store: Store;
  let cleanup: () => Promise<void>;
  if (engine === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'hybrid-bench-admin-'));
    store = await openStore({ engine: 'sqlite', path: join(dir, 'hybrid.sqlite') });
    cleanup = () => rm(dir, { recursive: true, force: true });
  } else {
    const schema = `hybrid_bench_${randomBytes(4).toString('hex')}`;
    store = await openStore({ engine: 'postgres', ...PG, schema, listen: false }, { migrate: true });
    cleanup = async () => {
      const client = new pg.Client(PG);
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    };
  }
  const api = await startAdminApi({
    store,
    listen: [{ host: '127.0.0.1', port: 0 }],
    log: { info: () => {}, warn: () => {}, error: (m) => console.error(`[admin] ${m}`) },
  });
  const port = api.addresses[0]!.port;
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    const results: PhaseResult[] = [];
    results.push(
      await phase('services', COUNT, (i) =>
        post(agent, port, '/services', {
          name: `svc-${i}`,
          url: `http://upstream-${i % 50}.internal:8080/api`,
        }),
      ),
    );
    results.push(
      await phase('routes', COUNT, (i) =>
        post(agent, port, `/services/svc-${i}/routes`, {
          name: `route-${i}`,
          paths: [`/r/${i}`],
          hosts: ['api.example.com'],
        }),
      ),
    );
    results.push(
      await phase('consumers', COUNT, (i) =>
        post(agent, port, '/consumers', { username: `user-${i}`, tags: ['bench'] }),
      ),
    );
    if (BASELINE) {
      // The same creates straight on the store, in another collection namespace: what the API adds.
      results.push(
        await phase('services (store, no HTTP)', COUNT, async (i) => {
          await store.insert('services', {
            name: `direct-${i}`,
            url: `http://upstream-${i % 50}.internal:8080/api`,
          });
          return 201;
        }),
      );
    }
    return results;
  } finally {
    agent.destroy();
    await api.close();
    await store.close();
    await cleanup();
  }
}

const engines: Array<'sqlite' | 'postgres'> =
  values.engine === 'both' ? ['sqlite', 'postgres'] : [values.engine as 'sqlite' | 'postgres'];
console.log(
  `Admin API create benchmark: ${COUNT} each of services, routes, consumers; concurrency ${CONCURRENCY}`,
);
for (const engine of engines) {
  const results = await run(engine);
  const api = results.filter((r) => !r.entity.includes('no HTTP'));
  const total = api.reduce((s, r) => s + r.count, 0);
  const seconds = api.reduce((s, r) => s + r.seconds, 0);
  console.log(`\n${engine}: ${total} creates in ${seconds.toFixed(2)} s (${(total / seconds).toFixed(0)}/s)`);
  console.table(
    results.map((r) => ({
      entity: r.entity,
      'creates/s': Math.round(r.perSecond),
      'p50 ms': Number(r.p50.toFixed(2)),
      'p99 ms': Number(r.p99.toFixed(2)),
      'max ms': Number(r.max.toFixed(2)),
    })),
  );
  const p99 = Math.max(...api.map((r) => r.p99));
  if (engine === 'sqlite')
    console.log(
      `target: API create p99 <= 10 ms on SQLite -> ${p99 <= 10 ? 'met' : 'MISSED'} (${p99.toFixed(2)} ms)`,
    );
}
