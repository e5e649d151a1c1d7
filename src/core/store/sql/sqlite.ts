// SQLite engine: one better-sqlite3 connection in WAL mode; every transaction runs alone through a queue.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Row, SqlClient, SqlDriver } from './driver.js';

/** How often a listening SQLite store looks for other processes' commits. */
export const SQLITE_WATCH_INTERVAL_MS = 500;

export class SqliteDriver implements SqlDriver {
  readonly engine = 'sqlite' as const;
  private readonly db: Database.Database;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly statements = new Map<string, Database.Statement>();
  private readonly client: SqlClient;
  private watcher?: NodeJS.Timeout;
  private readonly listeners: ((version: number) => void)[] = [];

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.client = {
      engine: 'sqlite',
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

  /**
   * Another process (e.g. `hybrid config db_import`) may write the same file. SQLite has no
   * notifications, so while someone listens, PRAGMA data_version (which only moves on other
   * connections' commits) is checked twice a second and the version read when it moved.
   */
  async subscribe(listener: (version: number) => void): Promise<void> {
    if (this.watcher) {
      this.listeners.push(listener);
      return;
    }
    this.listeners.push(listener);
    let seen = this.db.pragma('data_version', { simple: true }) as number;
    this.watcher = setInterval(() => {
      void this.exclusive(async () => {
        if (!this.db.open) return;
        const now = this.db.pragma('data_version', { simple: true }) as number;
        if (now === seen) return;
        seen = now;
        const row = this.prepare(`SELECT value FROM hybrid_meta WHERE key = 'config_version'`).get() as
          { value: number } | undefined;
        if (row) for (const l of this.listeners) l(Number(row.value));
      }).catch(() => undefined);
    }, SQLITE_WATCH_INTERVAL_MS);
    this.watcher.unref();
  }

  async close(): Promise<void> {
    if (this.watcher) clearInterval(this.watcher);
    await this.exclusive(async () => this.db.close());
  }
}

/** better-sqlite3 binds booleans only as numbers. */
const bind = (v: unknown) => (typeof v === 'boolean' ? (v ? 1 : 0) : v);
