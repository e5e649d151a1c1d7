// Benchmark: db_import of 10k services + 10k routes + 10k consumers from a decK file, re-import, then export.
// Usage: node --import tsx bench/admin/import-export.ts [--engine sqlite|postgres|both] [--count 10000]
// Targets (issue): import of 30k entities ≤ 10 s, export ≤ 1 s.
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  exportDeclarative,
  importDeclarative,
  readDeclarativeFile,
  serializeDeclarative,
} from '../../src/core/declarative/index.js';
import { openStore, type Store } from '../../src/core/store/index.js';

const { values } = parseArgs({
  options: { engine: { type: 'string', default: 'both' }, count: { type: 'string', default: '10000' } },
});
const COUNT = Number(values.count);
const PG = {
  host: process.env.HYBRID_BENCH_PG_HOST ?? '127.0.0.1',
  port: Number(process.env.HYBRID_BENCH_PG_PORT ?? 5432),
  user: process.env.HYBRID_BENCH_PG_USER ?? 'postgres',
  database: process.env.HYBRID_BENCH_PG_DATABASE ?? 'test',
};

function document(count: number): Record<string, unknown> {
  return {
    _format_version: '3.0',
    services: Array.from({ length: count }, (_, i) => ({
      name: `service-${i}`,
      url: `http://backend-${i % 50}.internal:8080/api/${i}`,
      tags: [`team-${i % 10}`],
      routes: [{ name: `route-${i}`, paths: [`/s${i}`], methods: ['GET', 'POST'], strip_path: false }],
    })),
    consumers: Array.from({ length: count }, (_, i) => ({ username: `user-${i}`, custom_id: `c-${i}` })),
  };
}

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

async function timed<T>(fn: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return { value, ms: ms(start) };
}

async function run(engine: 'sqlite' | 'postgres', file: string, dir: string): Promise<void> {
  let store: Store;
  let drop = async () => {};
  if (engine === 'sqlite') {
    store = await openStore({ engine, path: join(dir, `bench-${randomBytes(4).toString('hex')}.sqlite`) });
  } else {
    const schema = `hybrid_bench_${randomBytes(4).toString('hex')}`;
    store = await openStore({ engine, ...PG, schema, listen: false }, { migrate: true });
    drop = async () => {
      const client = new pg.Client(PG);
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    };
  }
  try {
    const parse = await timed(() => readDeclarativeFile(file));
    const first = await timed(() => importDeclarative(store, parse.value, file));
    const again = await timed(() => importDeclarative(store, parse.value, file));
    const exported = await timed(() => exportDeclarative(store));
    const yaml = await timed(() => serializeDeclarative(exported.value.doc, 'yaml'));
    const json = await timed(() => serializeDeclarative(exported.value.doc, 'json'));
    const total = first.value.created;
    const row = (label: string, value: number, target?: number) =>
      console.log(
        `${engine.padEnd(9)}${label.padEnd(44)}${value.toFixed(0).padStart(9)} ms` +
          (target === undefined ? '' : `   target ≤ ${target} ms: ${value <= target ? 'ok' : 'OVER'}`),
      );
    row(`parse YAML file`, parse.ms);
    row(`db_import ${total} entities (empty db)`, first.ms, 10_000);
    row(`db_import parse + import`, parse.ms + first.ms, 10_000);
    row(`re-import, nothing changes (${again.value.unchanged} unchanged)`, again.ms);
    row(`export (snapshot → document)`, exported.ms, 1_000);
    row(`export serialised as YAML (${(yaml.value.length / 1e6).toFixed(1)} MB)`, yaml.ms);
    row(`export serialised as JSON (${(json.value.length / 1e6).toFixed(1)} MB)`, json.ms);
  } finally {
    await store.close();
    await drop();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'hybrid-bench-'));
try {
  const file = join(dir, 'kong.yml');
  writeFileSync(file, serializeDeclarative(document(COUNT), 'yaml'));
  console.log(
    `db_import / db_export of ${COUNT} services + ${COUNT} routes + ${COUNT} consumers, ${new Date().toISOString()}`,
  );
  const engines =
    values.engine === 'both' ? (['sqlite', 'postgres'] as const) : [values.engine as 'sqlite' | 'postgres'];
  for (const engine of engines) await run(engine, file, dir);
} finally {
  await rm(dir, { recursive: true, force: true });
}
