// Opening the CP store: options for each engine, automatic SQLite migrations, PostgreSQL bootstrap/up/status.
import { join } from 'node:path';
import { HybridError, ExitCode } from '../errors.js';
import type { SqlDriver } from './sql/driver.js';
import { migrationState, runPending, type MigrationState } from './sql/migrations.js';
import { PostgresDriver, type PostgresOptions } from './sql/postgres.js';
import { SqliteDriver } from './sql/sqlite.js';
import { SqlStore } from './sql/sql-store.js';
import type { Store } from './types.js';

export * from './types.js';
export { ENTITIES, ENTITY_ORDER } from './entities/index.js';
export type { PostgresOptions } from './sql/postgres.js';
export type { MigrationState } from './sql/migrations.js';

/** The embedded database file inside the prefix. */
export const SQLITE_FILE = 'hybrid.sqlite';

export interface SqliteStoreOptions {
  engine: 'sqlite';
  /** Database file; `:memory:` for a throwaway store. */
  path: string;
  /** Watch for other processes' commits to the file (default true); one-shot commands turn it off. */
  listen?: boolean;
}

export interface PostgresStoreOptions extends Partial<PostgresOptions> {
  engine: 'postgres';
  /** LISTEN for other processes' changes (default true); one-shot commands turn it off. */
  listen?: boolean;
}

export type StoreOptions = SqliteStoreOptions | PostgresStoreOptions;

/** Kong's pg_* defaults. */
export const POSTGRES_DEFAULTS: PostgresOptions = {
  host: '127.0.0.1',
  port: 5432,
  user: 'kong',
  password: undefined,
  database: 'kong',
  schema: 'public',
  ssl: false,
  sslVerify: false,
  timeout: 5000,
  poolSize: 10,
};

/** The subset of the node configuration the store reads (kong.conf keys). */
export interface StoreConfigKeys {
  database?: string;
  prefix?: string;
  pg_host?: string;
  pg_port?: number;
  pg_user?: string;
  pg_password?: string | null;
  pg_database?: string;
  pg_schema?: string | null;
  pg_ssl?: boolean;
  pg_ssl_verify?: boolean;
  pg_timeout?: number;
  pg_pool_size?: number;
}

/** Maps kong.conf keys to store options; `database = off` has no store (a data plane). */
export function storeOptionsFromConfig(config: StoreConfigKeys): StoreOptions {
  const database = config.database ?? 'sqlite';
  if (database === 'sqlite') return { engine: 'sqlite', path: join(config.prefix ?? '.', SQLITE_FILE) };
  if (database === 'postgres')
    return {
      engine: 'postgres',
      host: config.pg_host ?? POSTGRES_DEFAULTS.host,
      port: config.pg_port ?? POSTGRES_DEFAULTS.port,
      user: config.pg_user ?? POSTGRES_DEFAULTS.user,
      password: config.pg_password || undefined,
      database: config.pg_database ?? POSTGRES_DEFAULTS.database,
      schema: config.pg_schema || POSTGRES_DEFAULTS.schema,
      ssl: config.pg_ssl ?? false,
      sslVerify: config.pg_ssl_verify ?? false,
      timeout: config.pg_timeout ?? POSTGRES_DEFAULTS.timeout,
      poolSize: config.pg_pool_size ?? POSTGRES_DEFAULTS.poolSize,
    };
  throw new HybridError('store_no_database', `database '${database}' has no store`, {
    hint: "A control plane needs 'database = sqlite' or 'database = postgres'.",
    exitCode: ExitCode.usage,
  });
}

function driverFor(options: StoreOptions): SqlDriver {
  if (options.engine === 'sqlite') return new SqliteDriver(options.path);
  return new PostgresDriver({ ...POSTGRES_DEFAULTS, ...definedOnly(options) });
}

const definedOnly = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

function unreachable(options: StoreOptions, err: unknown): HybridError {
  const where =
    options.engine === 'postgres'
      ? `PostgreSQL at ${options.host ?? POSTGRES_DEFAULTS.host}:${options.port ?? POSTGRES_DEFAULTS.port}`
      : `SQLite file ${options.path}`;
  return new HybridError(
    'store_unavailable',
    `cannot open the database (${where}): ${(err as Error).message}`,
    {
      cause: err,
      hint:
        options.engine === 'postgres'
          ? 'Check pg_host, pg_port, pg_user, pg_password and pg_database.'
          : undefined,
    },
  );
}

/**
 * Opens the store. SQLite migrates itself; PostgreSQL must have been bootstrapped and be up to date
 * (`hybrid migrations bootstrap|up`), unless `migrate: true` (what `start --run-migrations` uses).
 */
export async function openStore(
  options: StoreOptions,
  openOptions: { migrate?: boolean } = {},
): Promise<Store> {
  let driver: SqlDriver;
  try {
    driver = driverFor(options);
  } catch (err) {
    throw unreachable(options, err);
  }
  try {
    const state = await readState(driver);
    if (options.engine === 'sqlite' || openOptions.migrate) {
      if (state.pending.length > 0) await applyMigrations(driver);
    } else if (!state.bootstrapped) {
      throw new HybridError('store_not_bootstrapped', 'the database has not been bootstrapped', {
        hint: "Run 'hybrid migrations bootstrap -c <kong.conf>' once for this database.",
      });
    } else if (state.pending.length > 0) {
      throw new HybridError(
        'store_needs_migrations',
        `the database has pending migrations: ${state.pending.join(', ')}`,
        {
          hint: "Run 'hybrid migrations up -c <kong.conf>'.",
        },
      );
    }
    const store = new SqlStore(driver);
    if (options.listen !== false) await store.listenForOthers();
    return store;
  } catch (err) {
    await driver.close().catch(() => undefined);
    throw err instanceof HybridError ? err : unreachable(options, err);
  }
}

async function readState(driver: SqlDriver): Promise<MigrationState> {
  return driver.read((client) => migrationState(client, (name) => driver.hasTable(client, name)));
}

async function applyMigrations(driver: SqlDriver): Promise<string[]> {
  return driver.migrate(async (client) => {
    const state = await migrationState(client, (name) => driver.hasTable(client, name));
    return runPending(client, state);
  });
}

export type MigrationAction = 'bootstrap' | 'up' | 'status';

export interface MigrationReport extends MigrationState {
  engine: 'sqlite' | 'postgres';
  /** Migrations run by this call. */
  ran: string[];
}

/** `hybrid migrations bootstrap|up|status`: bootstrap refuses a bootstrapped database, up refuses a blank one. */
export async function runMigrations(
  options: StoreOptions,
  action: MigrationAction,
): Promise<MigrationReport> {
  let driver: SqlDriver;
  try {
    driver = driverFor(options);
  } catch (err) {
    throw unreachable(options, err);
  }
  try {
    const before = await readState(driver).catch((err: unknown) => {
      throw unreachable(options, err);
    });
    let ran: string[] = [];
    if (action === 'bootstrap') {
      if (before.bootstrapped)
        throw new HybridError('store_already_bootstrapped', 'the database is already bootstrapped', {
          hint: "Run 'hybrid migrations up' to apply new migrations.",
        });
      ran = await applyMigrations(driver);
    } else if (action === 'up') {
      if (!before.bootstrapped)
        throw new HybridError('store_not_bootstrapped', 'the database has not been bootstrapped', {
          hint: "Run 'hybrid migrations bootstrap' first.",
        });
      ran = await applyMigrations(driver);
    }
    const after = action === 'status' ? before : await readState(driver);
    return { engine: options.engine, ...after, ran };
  } finally {
    await driver.close().catch(() => undefined);
  }
}
