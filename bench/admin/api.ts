// Benchmark: create 10k services, 10k routes and 10k consumers through the Admin API; throughput and latency.
// Usage: node --import tsx bench/admin/api.ts [--engine sqlite|postgres|both] [--count 10000] [--concurrency 1]
//        [--baseline: also time the same service creates straight on the store, without HTTP]
import { Agent, request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
    /** Internal: run only the server side (the benchmark starts itself with it as a child process). */
    serve: { type: 'string' },
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

/** A fresh store of `engine` (temp SQLite file or throwaway PostgreSQL schema) and its removal. */
async function freshStore(
  engine: 'sqlite' | 'postgres',
): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  if (engine === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'hybrid-bench-admin-'));
    const store = await openStore({ engine: 'sqlite', path: join(dir, 'hybrid.sqlite') });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `hybrid_bench_${randomBytes(4).toString('hex')}`;
  const store = await openStore({ engine: 'postgres', ...PG, schema, listen: false }, { migrate: true });
  return {
    store,
    cleanup: async () => {
      await store.close();
      const client = new pg.Client(PG);
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

/**
 * Server side: the Admin API on a fresh store in this process; prints its port, stops on stdin EOF.
 * The benchmark runs it as a child process so that, as with curl, client and server do not share a thread.
 */
async function serve(engine: 'sqlite' | 'postgres'): Promise<void> {
  const { store, cleanup } = await freshStore(engine);
  const api = await startAdminApi({
    store,
    listen: [{ host: '127.0.0.1', port: 0 }],
    log: { info: () => {}, warn: () => {}, error: (m) => console.error(`[admin] ${m}`) },
  });
  console.log(JSON.stringify({ port: api.addresses[0]!.port }));
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.on('end', resolve));
  await api.close();
  await cleanup();
}

/** Starts `serve` in a child process and waits for its port. */
async function spawnServer(
  engine: 'sqlite' | 'postgres',
): Promise<{ port: number; stop: () => Promise<void> }> {
  const script = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--import', 'tsx', script, '--serve', engine], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`admin server exited (${code}) before listening`)));
  });
  return {
    port,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

async function run(engine: 'sqlite' | 'postgres'): Promise<PhaseResult[]> {
  const server = await spawnServer(engine);
  const port = server.port;
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
      // The same creates straight on a store of the same engine, without HTTP: what the API adds.
      const { store, cleanup } = await freshStore(engine);
      try {
        results.push(
          await phase('services (store, no HTTP)', COUNT, async (i) => {
            await store.insert('services', {
              name: `svc-${i}`,
              url: `http://upstream-${i % 50}.internal:8080/api`,
            });
            return 201;
          }),
        );
      } finally {
        await cleanup();
      }
    }
    return results;
  } finally {
    agent.destroy();
    await server.stop();
  }
}

if (values.serve) {
  await serve(values.serve as 'sqlite' | 'postgres');
  process.exit(0);
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
