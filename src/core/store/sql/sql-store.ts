// The Store on any SQL engine: each write is one transaction that bumps the config version; subscribers hear of it.
import { HybridError } from '../../errors.js';
import { StoreError, StoreErrorCode } from '../errors.js';
import type {
  ChangeListener,
  DataPlaneRows,
  EntityName,
  EntityRow,
  GetOptions,
  ListOptions,
  Page,
  Snapshot,
  Store,
  StoreTransaction,
} from '../types.js';
import type { SqlClient, SqlDriver } from './driver.js';
import { DataPlaneRowsOnSql } from './data-planes.js';
import { EntityOperationsOnSql } from './entity-operations.js';

export async function readVersion(client: SqlClient): Promise<number> {
  const rows = await client.query(`SELECT value FROM hybrid_meta WHERE key = 'config_version'`);
  return Number(rows[0]?.value ?? 0);
}

/** Wraps engine failures that are not ours (lost connection, disk full…) as Kong's DATABASE_ERROR. */
function asStoreError(err: unknown): unknown {
  // Our own errors (StoreError, or a caller's HybridError thrown inside a transaction) pass unchanged.
  if (err instanceof HybridError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const unique = /UNIQUE constraint failed|duplicate key value violates unique constraint/i.test(message);
  if (unique)
    return new StoreError(
      StoreErrorCode.UNIQUE_VIOLATION,
      `UNIQUE violation detected (${message})`,
      undefined,
      err,
    );
  return new StoreError(StoreErrorCode.DATABASE_ERROR, `database error: ${message}`, undefined, err);
}

export class SqlStore implements Store {
  private readonly listeners = new Set<ChangeListener>();
  private lastAnnounced = 0;
  readonly dataPlanes: DataPlaneRows;

  constructor(private readonly driver: SqlDriver) {
    this.dataPlanes = new DataPlaneRowsOnSql(driver);
  }

  get engine(): 'sqlite' | 'postgres' {
    return this.driver.engine;
  }

  /** Subscribes to other processes' commits (PostgreSQL); called once by openStore. */
  async listenForOthers(): Promise<void> {
    this.lastAnnounced = await this.version();
    await this.driver.subscribe((version) => this.emit(version));
  }

  /** Versions only grow: a notification we already told (our own, echoed by NOTIFY) is not repeated. */
  private emit(version: number): void {
    if (!(version > this.lastAnnounced)) return;
    this.lastAnnounced = version;
    for (const listener of [...this.listeners]) {
      try {
        listener(version);
      } catch {
        // A failing subscriber must not break the write that already committed, nor the others.
      }
    }
  }

  async transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    let version = 0;
    let result: T;
    try {
      result = await this.driver.write(async (client) => {
        const ops = new EntityOperationsOnSql(client);
        const value = await fn(ops);
        if (ops.changed) {
          const rows = await client.query(
            `UPDATE hybrid_meta SET value = value + 1 WHERE key = 'config_version' RETURNING value`,
          );
          version = Number(rows[0]?.value);
          await this.driver.announce(client, version);
        }
        return value;
      });
    } catch (err) {
      throw asStoreError(err);
    }
    if (version > 0) this.emit(version);
    return result;
  }

  private async reading<T>(fn: (ops: EntityOperationsOnSql) => Promise<T>): Promise<T> {
    try {
      return await this.driver.read((client) => fn(new EntityOperationsOnSql(client)));
    } catch (err) {
      throw asStoreError(err);
    }
  }

  insert(entity: EntityName, input: Record<string, unknown>): Promise<EntityRow> {
    return this.transaction((tx) => tx.insert(entity, input));
  }

  update(entity: EntityName, idOrName: string, patch: Record<string, unknown>): Promise<EntityRow> {
    return this.transaction((tx) => tx.update(entity, idOrName, patch));
  }

  upsert(entity: EntityName, idOrName: string, input: Record<string, unknown>): Promise<EntityRow> {
    return this.transaction((tx) => tx.upsert(entity, idOrName, input));
  }

  delete(entity: EntityName, idOrName: string): Promise<void> {
    return this.transaction((tx) => tx.delete(entity, idOrName));
  }

  get(entity: EntityName, idOrName: string, options?: GetOptions): Promise<EntityRow | null> {
    return this.reading((ops) => ops.get(entity, idOrName, options));
  }

  list(entity: EntityName, options?: ListOptions): Promise<Page> {
    return this.reading((ops) => ops.list(entity, options));
  }

  snapshot(): Promise<{ version: number; entities: Snapshot }> {
    return this.driver
      .read(async (client) => ({
        entities: await new EntityOperationsOnSql(client).snapshot(),
        version: await readVersion(client),
      }))
      .catch((err: unknown) => {
        throw asStoreError(err);
      });
  }

  version(): Promise<number> {
    return this.driver.read(readVersion).catch((err: unknown) => {
      throw asStoreError(err);
    });
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.driver.close();
  }
}
