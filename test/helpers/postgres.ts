// A throwaway PostgreSQL schema on the local test server (127.0.0.1:5432, user postgres, db test).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../../src/core/store/index.js';

export const PG_BASE = {
  host: process.env.HYBRID_TEST_PG_HOST ?? '127.0.0.1',
  port: Number(process.env.HYBRID_TEST_PG_PORT ?? 5432),
  user: process.env.HYBRID_TEST_PG_USER ?? 'postgres',
  database: process.env.HYBRID_TEST_PG_DATABASE ?? 'test',
};

/** A fresh schema name; `drop()` removes it with everything in it. */
export function tempSchema(): { schema: string; drop: () => Promise<void> } {
  const schema = `hybrid_test_${randomBytes(6).toString('hex')}`;
  return {
    schema,
    drop: async () => {
      const client = new pg.Client(PG_BASE);
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** The kong.conf lines of a node whose store is `schema` on the test server. */
export const pgConfLines = (schema: string): string[] => [
  'database = postgres',
  `pg_host = ${PG_BASE.host}`,
  `pg_port = ${PG_BASE.port}`,
  `pg_user = ${PG_BASE.user}`,
  `pg_database = ${PG_BASE.database}`,
  `pg_schema = ${schema}`,
];

/** A migrated store in a fresh schema (no LISTEN connection); `cleanup()` closes it and drops the schema. */
export async function tempPostgresStore(): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  const { schema, drop } = tempSchema();
  const store = await openStore({ engine: 'postgres', ...PG_BASE, schema, listen: false }, { migrate: true });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await drop();
    },
  };
}
