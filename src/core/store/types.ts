// The store contract: what the Admin API, declarative import/export and clustering may ask of the CP database.
// Both engines (SQLite, PostgreSQL) implement `Store` and pass one contract test suite.
// Changes since the first draft: `transaction()` / `StoreTransaction`, `snapshot()`, `get()` options,
// and `StoreError` (errors.ts) carrying Kong's {code, name, message, fields} body and its HTTP status.

/** Entity collections, named as Kong names its DAOs and Admin API paths. */
export type EntityName =
  | 'services'
  | 'routes'
  | 'consumers'
  | 'plugins'
  | 'upstreams'
  | 'targets'
  | 'certificates'
  | 'snis'
  | 'ca_certificates'
  | 'keyauth_credentials';

/** A stored entity as the Admin API returns it (Kong's field names; foreign keys as `{ id }`). */
export interface EntityRow {
  id: string;
  created_at: number;
  updated_at?: number;
  tags: string[] | null;
  [field: string]: unknown;
}

/** Tag filter from `?tags=a,b` (and) or `?tags=a/b` (or). */
export interface TagFilter {
  mode: 'and' | 'or';
  tags: string[];
}

export interface ListOptions {
  /** Page size, 1..1000 (Kong's default 100). */
  size?: number;
  /** Opaque cursor returned as `offset` by the previous page. */
  offset?: string;
  tags?: TagFilter;
  /** Restrict to children of a parent, e.g. `{ field: 'service', id }` for /services/{s}/routes. */
  parent?: { field: string; id: string };
}

export interface Page {
  data: EntityRow[];
  /** Cursor for the next page, absent on the last page. */
  offset?: string;
}

/** A subscriber is told the new config version after each committed write. */
export type ChangeListener = (version: number) => void;

/** Restricts get() to a parent, e.g. a target `host:port` within `{ field: 'upstream', id }`. */
export interface GetOptions {
  parent?: { field: string; id: string };
}

/** The entity operations; on a `StoreTransaction` they all commit (or roll back) together. */
export interface EntityOperations {
  /** POST semantics. Throws StoreError: SCHEMA_VIOLATION, UNIQUE_VIOLATION, FOREIGN_KEY_VIOLATION, PRIMARY_KEY_VIOLATION. */
  insert(entity: EntityName, input: Record<string, unknown>): Promise<EntityRow>;
  /** PATCH semantics: merge `patch` into the existing row (records merged deeply). NOT_FOUND if absent. */
  update(entity: EntityName, idOrName: string, patch: Record<string, unknown>): Promise<EntityRow>;
  /** PUT semantics: create or replace the whole entity at that id or endpoint key. */
  upsert(entity: EntityName, idOrName: string, input: Record<string, unknown>): Promise<EntityRow>;
  /** Deleting a missing entity is not an error (Kong answers 204). Restrict → FOREIGN_KEY_VIOLATION; cascades follow Kong. */
  delete(entity: EntityName, idOrName: string): Promise<void>;
  /** By id, or by endpoint key (services/routes/snis/upstreams: name, consumers: username, key-auth: key). */
  get(entity: EntityName, idOrName: string, options?: GetOptions): Promise<EntityRow | null>;
  /** Ordered by id; the `offset` cursor stays valid while rows are added. INVALID_SIZE / INVALID_OFFSET / INVALID_FILTER. */
  list(entity: EntityName, options?: ListOptions): Promise<Page>;
}

export interface StoreTransaction extends EntityOperations {
  /**
   * Writes rows that the caller has already validated and checked (declarative import):
   * insert or replace by id, in bulk. Database constraints still apply.
   */
  bulkWrite(entity: EntityName, rows: EntityRow[]): Promise<void>;
  /** Every row of every entity as this transaction sees it. */
  snapshot(): Promise<Snapshot>;
}

/** Every row of every entity, each collection ordered by id: the input of export. */
export type Snapshot = Record<EntityName, EntityRow[]>;

export interface Store extends EntityOperations {
  readonly engine: 'sqlite' | 'postgres';

  /**
   * Runs `fn` in one transaction: all its writes commit together with a single version bump,
   * or none do (any throw rolls back). Use `tx` inside, never the store itself (that would wait forever on SQLite).
   */
  transaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /** A consistent read of everything (export, config push), plus the version it corresponds to. */
  snapshot(): Promise<{ version: number; entities: Snapshot }>;

  /** Current config version; bumped in the same transaction as every committed write. */
  version(): Promise<number>;
  /** Subscribe to committed changes (this process, and other CPs on PostgreSQL). Returns unsubscribe. */
  onChange(listener: ChangeListener): () => void;

  /** The data plane registry: written without a version bump, so it never triggers a config push. */
  readonly dataPlanes: DataPlaneRows;

  close(): Promise<void>;
}

export { StoreError, StoreErrorCode, type StoreErrorBody } from './errors.js';

/** Kong's `sync_status` values of a data plane (CLUSTERING_SYNC_STATUS). */
export const SYNC_STATUSES = [
  'unknown',
  'normal',
  'kong_version_incompatible',
  'plugin_set_incompatible',
  'plugin_version_incompatible',
] as const;
export type SyncStatus = (typeof SYNC_STATUSES)[number];

/**
 * One data plane as the control plane records it (Kong's `clustering_data_planes`, plus this project's
 * `status` and the id of the control plane holding its connection). Times are unix seconds.
 * Not configuration: it never bumps the config version, is never exported and never pushed.
 */
export interface DataPlaneRow {
  /** The data plane's node id (its `<prefix>/node.id`). */
  id: string;
  hostname: string;
  ip: string;
  version: string;
  sync_status: SyncStatus;
  /** The hash the data plane last reported in a ping; null before its first one. */
  config_hash: string | null;
  last_seen: number;
  labels: Record<string, string>;
  cert_details: { expiry_timestamp: number | null };
  status: 'connected' | 'disconnected';
  /** Node id of the control plane that last held this data plane's connection. */
  control_plane_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface DataPlanePage {
  data: DataPlaneRow[];
  /** Cursor for the next page, absent on the last page. */
  offset?: string;
}

/** The control plane's registry of data planes, kept beside (not inside) the configuration. */
export interface DataPlaneRows {
  /** Inserts or replaces each row by id in one transaction; `created_at` of an existing row is kept. */
  upsert(rows: DataPlaneRow[]): Promise<void>;
  get(id: string): Promise<DataPlaneRow | null>;
  /** Ordered by id; `size` 1..1000 (default 100). INVALID_SIZE / INVALID_OFFSET. */
  list(options?: { size?: number; offset?: string }): Promise<DataPlanePage>;
  /** Marks `connected` rows held by that control plane as disconnected (its restart); returns how many. */
  disconnectAll(controlPlaneId: string, at: number): Promise<number>;
  /** Deletes rows last seen before `lastSeenBefore`; returns how many. */
  purge(lastSeenBefore: number): Promise<number>;
}
