// Schema migrations: an ordered list, recorded in hybrid_migrations; automatic on SQLite, explicit on PostgreSQL.
import type { SqlClient } from './driver.js';
import { dataPlaneSchema } from './data-planes.js';
import { baseSchema } from './tables.js';

export interface Migration {
  name: string;
  statements: () => string[];
}

/** Append-only: a released migration is never edited, a change is a new entry. */
export const MIGRATIONS: readonly Migration[] = [
  { name: '000_base', statements: baseSchema },
  { name: '001_clustering_data_planes', statements: dataPlaneSchema },
];

export interface MigrationState {
  bootstrapped: boolean;
  executed: string[];
  pending: string[];
}

export async function migrationState(
  client: SqlClient,
  hasTable: (name: string) => Promise<boolean>,
): Promise<MigrationState> {
  if (!(await hasTable('hybrid_migrations')))
    return { bootstrapped: false, executed: [], pending: MIGRATIONS.map((m) => m.name) };
  const rows = await client.query('SELECT name FROM hybrid_migrations ORDER BY name');
  const executed = rows.map((r) => String(r.name));
  return {
    bootstrapped: true,
    executed,
    pending: MIGRATIONS.map((m) => m.name).filter((n) => !executed.includes(n)),
  };
}

/** Creates the bookkeeping table (bootstrap) and/or runs the pending migrations; returns their names. */
export async function runPending(client: SqlClient, state: MigrationState): Promise<string[]> {
  if (!state.bootstrapped)
    await client.run('CREATE TABLE hybrid_migrations (name TEXT PRIMARY KEY, executed_at BIGINT NOT NULL)');
  const ran: string[] = [];
  for (const migration of MIGRATIONS) {
    if (!state.pending.includes(migration.name)) continue;
    for (const statement of migration.statements()) await client.run(statement);
    await client.run('INSERT INTO hybrid_migrations (name, executed_at) VALUES (?, ?)', [
      migration.name,
      Math.floor(Date.now() / 1000),
    ]);
    ran.push(migration.name);
  }
  return ran;
}
