// Table layout shared by both engines: one table per entity (JSON body + key columns), tags, version.
import { ENTITIES, ENTITY_ORDER, type EntityDefinition } from '../entities/index.js';
import type { EntityName } from '../types.js';

export const q = (name: string) => `"${name}"`;

/** Columns besides `body`, in insert order: id, created_at, unique fields, cache_key, foreign ids. */
export function keyColumns(def: EntityDefinition): string[] {
  return [
    'id',
    'created_at',
    ...def.unique,
    ...(def.cacheKey ? ['cache_key'] : []),
    ...def.foreign.map((fk) => `${fk.field}_id`),
  ];
}

/** The column values of a row, matching keyColumns, then the body. */
export function rowValues(def: EntityDefinition, row: Record<string, unknown>): unknown[] {
  return [
    row.id,
    row.created_at,
    ...def.unique.map((f) => row[f] ?? null),
    ...(def.cacheKey ? [def.cacheKey(row)] : []),
    ...def.foreign.map((fk) => (row[fk.field] as { id?: string } | null)?.id ?? null),
    JSON.stringify(row),
  ];
}

function entityTable(name: EntityName): string[] {
  const def = ENTITIES[name];
  const columns = [
    `${q('id')} TEXT PRIMARY KEY`,
    `${q('created_at')} BIGINT NOT NULL`,
    ...def.unique.map((f) => `${q(f)} TEXT UNIQUE`),
    ...(def.cacheKey ? [`${q('cache_key')} TEXT UNIQUE`] : []),
    // Deferred so a transaction may write parents and children in any order; cascades are done by the store.
    ...def.foreign.map(
      (fk) =>
        `${q(`${fk.field}_id`)} TEXT REFERENCES ${q(fk.reference)} (${q('id')}) DEFERRABLE INITIALLY DEFERRED`,
    ),
    `${q('body')} TEXT NOT NULL`,
  ];
  return [
    `CREATE TABLE ${q(name)} (\n  ${columns.join(',\n  ')}\n)`,
    ...def.foreign.map(
      (fk) => `CREATE INDEX ${q(`${name}_${fk.field}_id_idx`)} ON ${q(name)} (${q(`${fk.field}_id`)})`,
    ),
  ];
}

/** The first schema: every entity table, tags, and the config version counter. */
export function baseSchema(): string[] {
  return [
    ...ENTITY_ORDER.flatMap(entityTable),
    `CREATE TABLE ${q('tags')} (
  ${q('entity_name')} TEXT NOT NULL,
  ${q('entity_id')} TEXT NOT NULL,
  ${q('tag')} TEXT NOT NULL,
  PRIMARY KEY (${q('entity_name')}, ${q('tag')}, ${q('entity_id')})
)`,
    `CREATE INDEX ${q('tags_entity_idx')} ON ${q('tags')} (${q('entity_id')})`,
    `CREATE TABLE ${q('hybrid_meta')} (${q('key')} TEXT PRIMARY KEY, ${q('value')} BIGINT NOT NULL)`,
    `INSERT INTO ${q('hybrid_meta')} (${q('key')}, ${q('value')}) VALUES ('config_version', 0)`,
  ];
}
