// PostgreSQL engine: a pg pool in the configured schema; writers serialise on the version row; LISTEN/NOTIFY for changes.
import pg from 'pg';
import type { Row, SqlClient, SqlDriver, WriteOptions } from './driver.js';

export interface PostgresOptions {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  /** Schema holding the tables (Kong's pg_schema); default `public`. */
  schema: string;
  ssl: boolean;
  sslVerify: boolean;
  /** Connect and statement timeout in ms (Kong's pg_timeout). */
  timeout: number;
  /** Pool size. */
  poolSize: number;
}

/** `?` placeholders to `$1…$n` (the store's SQL has no `?` inside literals). */
const numbered = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The NOTIFY channel is per schema, so CPs sharing a database but not a schema do not wake each other. */
export const channelOf = (schema: string) => `hybrid_config_${schema}`.slice(0, 63);

export function clientConfig(options: PostgresOptions): pg.ClientConfig {
  return {
    host: options.host,
    port: options.port,
    user: options.user,
    password: options.password,
    database: options.database,
    ssl: options.ssl ? { rejectUnauthorized: options.sslVerify } : undefined,
    connectionTimeoutMillis: options.timeout,
    statement_timeout: options.timeout,
    options: `-c search_path=${quoteIdent(options.schema)}`,
  };
}

const wrap = (client: pg.PoolClient | pg.Client): SqlClient => ({
  engine: 'postgres',
  query: async (sql, params = []) => (await client.query(numbered(sql), params as unknown[])).rows as Row[],
  run: async (sql, params = []) => {
    await client.query(numbered(sql), params as unknown[]);
  },
});

export class PostgresDriver implements SqlDriver {
  readonly engine = 'postgres' as const;
  readonly pool: pg.Pool;
  private listener?: pg.Client;
  private closed = false;
  private subscribers: ((version: number) => void)[] = [];

  constructor(readonly options: PostgresOptions) {
    this.pool = new pg.Pool({ ...clientConfig(options), max: options.poolSize });
    // An idle client losing its connection must not crash the process; the next checkout reconnects.
    this.pool.on('error', () => undefined);
  }

  private async transaction<T>(
    begin: string,
    fn: (client: SqlClient) => Promise<T>,
    lock: boolean,
  ): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query(begin);
      // Lock the version row first: writers of every CP on this database run one at a time,
      // so the store's uniqueness and reference checks see a stable world.
      if (lock) await client.query(`SELECT value FROM hybrid_meta WHERE key = 'config_version' FOR UPDATE`);
      const result = await fn(wrap(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  write<T>(fn: (client: SqlClient) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    return this.transaction('BEGIN', fn, options.configuration !== false);
  }

  read<T>(fn: (client: SqlClient) => Promise<T>): Promise<T> {
    return this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn, false);
  }

  async migrate<T>(fn: (client: SqlClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [
        `hybrid_migrations:${this.options.schema}`,
      ]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.options.schema)}`);
      const result = await fn(wrap(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async hasTable(client: SqlClient, name: string): Promise<boolean> {
    const rows = await client.query(
      'SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?',
      [this.options.schema, name],
    );
    return rows.length > 0;
  }

  async announce(client: SqlClient, version: number): Promise<void> {
    // Delivered by the server only when the transaction commits.
    await client.run('SELECT pg_notify(?, ?)', [channelOf(this.options.schema), String(version)]);
  }

  async subscribe(listener: (version: number) => void): Promise<void> {
    this.subscribers.push(listener);
    if (!this.listener) await this.listen();
  }

  /** One dedicated connection LISTENs; if it drops, reconnect and report the version we may have missed. */
  private async listen(): Promise<void> {
    const client = new pg.Client(clientConfig(this.options));
    this.listener = client;
    client.on('notification', (message) => {
      const version = Number(message.payload);
      if (Number.isFinite(version)) for (const s of this.subscribers) s(version);
    });
    const reconnect = () => {
      if (this.closed || this.listener !== client) return;
      this.listener = undefined;
      setTimeout(() => {
        if (this.closed) return;
        this.listen()
          .then(() => this.pool.query(`SELECT value FROM hybrid_meta WHERE key = 'config_version'`))
          .then((r) => {
            const version = Number(r.rows[0]?.value);
            for (const s of this.subscribers) s(version);
          })
          .catch(reconnect);
      }, 500).unref();
    };
    client.on('error', reconnect);
    client.on('end', reconnect);
    await client.connect();
    await client.query(`LISTEN ${quoteIdent(channelOf(this.options.schema))}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.pool.end();
  }
}
