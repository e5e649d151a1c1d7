// What the shared SQL store needs from an engine: transactions, queries, and cross-process change signals.

export type Row = Record<string, unknown>;

/** A connection inside a transaction. SQL uses `?` placeholders; engines translate. */
export interface SqlClient {
  /** For the rare statement the two dialects spell differently. */
  readonly engine: 'sqlite' | 'postgres';
  query(sql: string, params?: unknown[]): Promise<Row[]>;
  run(sql: string, params?: unknown[]): Promise<void>;
}

export interface WriteOptions {
  /** Default true: the transaction may change the configuration, so it takes the version row lock. */
  configuration?: boolean;
}

export interface SqlDriver {
  readonly engine: 'sqlite' | 'postgres';
  /**
   * A write transaction that excludes every other writer (on PostgreSQL: of every process). With
   * `{ configuration: false }` it writes rows outside the configuration (the data plane registry) and,
   * on PostgreSQL, does not queue behind configuration writers.
   */
  write<T>(fn: (client: SqlClient) => Promise<T>, options?: WriteOptions): Promise<T>;
  /** A read-only transaction over a consistent snapshot. */
  read<T>(fn: (client: SqlClient) => Promise<T>): Promise<T>;
  /** A transaction for schema changes, serialised against other processes migrating the same database. */
  migrate<T>(fn: (client: SqlClient) => Promise<T>): Promise<T>;
  hasTable(client: SqlClient, name: string): Promise<boolean>;
  /** Inside the write transaction, after the version bump: tell other processes once it commits. */
  announce(client: SqlClient, version: number): Promise<void>;
  /** Called with versions committed by other processes (PostgreSQL); a no-op for SQLite. */
  subscribe(listener: (version: number) => void): Promise<void>;
  close(): Promise<void>;
}
