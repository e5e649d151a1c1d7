// What the store needs to know about an entity beyond its schema: keys, references, shorthands.
import type { ErrorTree, Field, Schema } from '../../schema/schema.js';
import { tags, timestamp, uuid } from '../../schema/typedefs.js';
import type { EntityName } from '../types.js';

export interface ForeignKey {
  field: string;
  reference: EntityName;
  /** Kong's on_delete: `cascade` deletes the children, `restrict` refuses to delete the parent. */
  onDelete: 'cascade' | 'restrict';
}

export interface EntityDefinition {
  name: EntityName;
  schema: Schema;
  /** Single fields that are unique across the collection (and may be used instead of the id). */
  unique: string[];
  /** The field Admin API paths accept instead of the id (`/services/{name}`). */
  endpointKey?: string;
  foreign: ForeignKey[];
  /** Composite uniqueness (Kong's cache_key), e.g. a plugin per name+scope. Null: not constrained. */
  cacheKey?: (row: Record<string, unknown>) => string | null;
  /** Rewrites shorthands and fills generated values before validation (service `url`, key-auth `key`). */
  prepare?: (input: Record<string, unknown>) => { input: Record<string, unknown>; errors?: ErrorTree };
  /** Checks and rewrites needing more than the field schema (plugin config against its plugin). */
  refine?: (row: Record<string, unknown>) => { row: Record<string, unknown>; errors?: ErrorTree };
  /** Fields shown in messages for the composite key, e.g. UNIQUE violation on '{name="x",route=null}'. */
  cacheKeyFields?: string[];
}

/** The fields every entity has: id, timestamps, tags. */
export function baseFields(
  extra: Record<string, Field>,
  options: { updatedAt?: boolean } = {},
): Record<string, Field> {
  return {
    id: uuid,
    created_at: timestamp,
    ...(options.updatedAt === false ? {} : { updated_at: timestamp }),
    ...extra,
    tags,
  };
}

export const foreign = (reference: EntityName, required = false): Field => ({
  type: 'foreign',
  reference,
  required,
});

/** Kong's "at least one of" check. */
export function atLeastOneOf(...fields: string[]) {
  return (row: Record<string, unknown>): ErrorTree | null => {
    const set = fields.some((f) => {
      const v = row[f];
      return v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0);
    });
    return set
      ? null
      : {
          '@entity': [
            `at least one of these fields must be non-empty: ${fields.map((f) => `'${f}'`).join(', ')}`,
          ],
        };
  };
}
