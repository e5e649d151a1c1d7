// The store contract: what the Admin API, declarative import/export and clustering may ask of the CP database.
// Both engines (SQLite, PostgreSQL) implement `Store` and pass one contract test suite.

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

/** Kong's DAO error codes, as they appear in Admin API error bodies. */
export const StoreErrorCode = {
  INVALID_PRIMARY_KEY: 1,
  SCHEMA_VIOLATION: 2,
  PRIMARY_KEY_VIOLATION: 3,
  FOREIGN_KEY_VIOLATION: 4,
  UNIQUE_VIOLATION: 5,
  NOT_FOUND: 6,
  INVALID_OFFSET: 7,
  DATABASE_ERROR: 8,
  INVALID_SIZE: 9,
  INVALID_UNIQUE: 10,
  INVALID_OPTIONS: 11,
  OPERATION_UNSUPPORTED: 12,
  INVALID_FILTER: 13,
} as const;

/** A subscriber is told the new config version after each committed write. */
export type ChangeListener = (version: number) => void;

export interface Store {
  readonly engine: 'sqlite' | 'postgres';

  insert(entity: EntityName, input: Record<string, unknown>): Promise<EntityRow>;
  /** PATCH semantics: merge `patch` into the existing row. */
  update(entity: EntityName, idOrName: string, patch: Record<string, unknown>): Promise<EntityRow>;
  /** PUT semantics: create or replace the whole entity at that id or endpoint key. */
  upsert(entity: EntityName, idOrName: string, input: Record<string, unknown>): Promise<EntityRow>;
  /** Deleting a missing entity is not an error (Kong answers 204). */
  delete(entity: EntityName, idOrName: string): Promise<void>;
  get(entity: EntityName, idOrName: string): Promise<EntityRow | null>;
  list(entity: EntityName, options?: ListOptions): Promise<Page>;

  /** Current config version; bumped in the same transaction as every committed write. */
  version(): Promise<number>;
  /** Subscribe to committed changes (this process, and other CPs on PostgreSQL). Returns unsubscribe. */
  onChange(listener: ChangeListener): () => void;

  close(): Promise<void>;
}
