// SQLite engine: one better-sqlite3 connection in WAL mode; every transaction runs alone through a queue.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Row, SqlClient, SqlDriver } from './driver.js';

export class SqliteDriver implements SqlDriver {
  readonly engine = 'sqlite' as const;
  private readonly db: Database.Database;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly statements = new Map<string, Database.Statement>();
  private readonly client: SqlClient;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.client = {
      query: async (sql, params = []) => this.prepare(sql).all(...(params as unknown[]).map(bind)) as Row[],
      run: async (sql, params = []) => {
        this.prepare(sql).run(...(params as unknown[]).map(bind));
      },
    };
  }

  /** Prepared statements are cached: the store reuses a small set of SQL texts. */
  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      if (this.statements.size > 500) this.statements.clear();
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** The single connection must not interleave two transactions: run them one after another. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  write<T>(fn: (client: SqlClient) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.client);
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    });
  }

  read<T>(fn: (client: SqlClient) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.db.exec('BEGIN');
      try {
        return await fn(this.client);
      } finally {
        if (this.db.inTransaction) this.db.exec('COMMIT');
      }
    });
  }

  migrate<T>(fn: (client: SqlClient) => Promise<T>): Promise<T> {
    return this.write(fn);
  }

  async hasTable(client: SqlClient, name: string): Promise<boolean> {
    return (
      (await client.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?`, [name]))
        .length > 0
    );
  }

  async announce(): Promise<void> {}

  async subscribe(): Promise<void> {}

  async close(): Promise<void> {
    await this.exclusive(async () => this.db.close());
  }
}

/** better-sqlite3 binds booleans only as numbers. */
const bind = (v: unknown) => (typeof v === 'boolean' ? (v ? 1 : 0) : v);
