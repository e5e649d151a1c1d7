// The entity rules on top of SQL, shared by both engines: validation, keys, references, cascades, paging, tags.
import { randomUUID } from 'node:crypto';
import { isUuid, validate, type ErrorTree } from '../../schema/schema.js';
import { ENTITIES, ENTITY_ORDER, referencesTo, type EntityDefinition } from '../entities/index.js';
import {
  invalidOffset,
  invalidSize,
  missingForeign,
  notFound,
  primaryKeyViolation,
  referencedBy,
  schemaViolation,
  StoreError,
  StoreErrorCode,
  uniqueViolation,
} from '../errors.js';
import type {
  EntityName,
  EntityRow,
  GetOptions,
  ListOptions,
  Page,
  Snapshot,
  StoreTransaction,
} from '../types.js';
import type { SqlClient } from './driver.js';
import { keyColumns, q, rowValues } from './tables.js';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const now = () => Math.floor(Date.now() / 1000);

function definition(entity: EntityName): EntityDefinition {
  const def = ENTITIES[entity];
  if (!def) throw new StoreError(StoreErrorCode.INVALID_OPTIONS, `unknown entity '${String(entity)}'`);
  return def;
}

/** PATCH merge: records (plain objects) merge recursively, everything else is replaced. */
export function mergePatch(
  base: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key];
    out[key] =
      isPlainObject(value) && isPlainObject(current) && !('id' in value && Object.keys(value).length === 1)
        ? mergePatch(current, value)
        : value;
  }
  return out;
}

export const encodeOffset = (id: string) => Buffer.from(JSON.stringify([id])).toString('base64url');
export function decodeOffset(offset: string): string {
  try {
    const value = JSON.parse(Buffer.from(offset, 'base64url').toString('utf8')) as unknown;
    // Cursors hold a row id: anything else (a NUL byte, say) must not reach the database as a 500.
    if (Array.isArray(value) && value.length === 1 && isUuid(value[0])) return value[0];
  } catch {
    // falls through to the error below
  }
  throw invalidOffset(offset);
}

/** Validates an input into a complete row (defaults, shorthands, plugin config) or throws SCHEMA_VIOLATION. */
export function buildRow(
  def: EntityDefinition,
  input: unknown,
  fixed: { id: string; created_at: number; updated_at: number },
): EntityRow {
  if (!isPlainObject(input)) throw schemaViolation({ '@entity': ['expected a record'] });
  let prepared = input;
  let errors: ErrorTree = {};
  if (def.prepare) {
    const result = def.prepare(input);
    prepared = result.input;
    if (result.errors) errors = { ...result.errors };
  }
  const candidate: Record<string, unknown> = {
    ...prepared,
    id: fixed.id,
    created_at: prepared.created_at ?? fixed.created_at,
  };
  if ('updated_at' in def.schema.fields) candidate.updated_at = fixed.updated_at;
  else delete candidate.updated_at;
  const result = validate(def.schema, candidate);
  if (!result.ok) throw schemaViolation({ ...result.errors, ...errors });
  if (Object.keys(errors).length > 0) throw schemaViolation(errors);
  let row = result.value;
  if (def.refine) {
    const refined = def.refine(row);
    if (refined.errors) throw schemaViolation(refined.errors);
    row = refined.row;
  }
  return row as EntityRow;
}

/** Operations bound to one open transaction (or read snapshot). `changed` tells the store to bump the version. */
export class EntityOperationsOnSql implements StoreTransaction {
  changed = false;

  constructor(private readonly client: SqlClient) {}

  private async one(sql: string, params: unknown[]): Promise<EntityRow | null> {
    const rows = await this.client.query(sql, params);
    return rows[0] ? (JSON.parse(String(rows[0].body)) as EntityRow) : null;
  }

  /** Finds by id, or by endpoint key (targets: `host:port` within an upstream). */
  private async find(
    def: EntityDefinition,
    idOrKey: string,
    options: GetOptions = {},
  ): Promise<EntityRow | null> {
    if (typeof idOrKey !== 'string' || idOrKey === '') return null;
    const table = q(def.name);
    if (isUuid(idOrKey)) {
      const row = await this.one(`SELECT body FROM ${table} WHERE id = ?`, [idOrKey.toLowerCase()]);
      if (
        row &&
        options.parent &&
        (row[options.parent.field] as { id?: string } | null)?.id !== options.parent.id
      )
        return null;
      return row;
    }
    if (def.name === 'targets' && options.parent && def.cacheKey) {
      const key = def.cacheKey({
        upstream: { id: options.parent.id },
        target: normalizeTarget(def, idOrKey),
      });
      return this.one(`SELECT body FROM ${table} WHERE cache_key = ?`, [key]);
    }
    if (!def.endpointKey) return null;
    const row = await this.one(`SELECT body FROM ${table} WHERE ${q(def.endpointKey)} = ?`, [idOrKey]);
    if (
      row &&
      options.parent &&
      (row[options.parent.field] as { id?: string } | null)?.id !== options.parent.id
    )
      return null;
    return row;
  }

  private keyOf(def: EntityDefinition, idOrKey: string): Record<string, unknown> {
    return isUuid(idOrKey) || !def.endpointKey ? { id: idOrKey } : { [def.endpointKey]: idOrKey };
  }

  /** Unique fields, composite key and references; `selfId` is the row being replaced. */
  private async checkConstraints(
    def: EntityDefinition,
    row: EntityRow,
    selfId: string | null,
  ): Promise<void> {
    const table = q(def.name);
    for (const field of def.unique) {
      const value = row[field];
      if (value === null || value === undefined) continue;
      const hit = await this.client.query(`SELECT id FROM ${table} WHERE ${q(field)} = ?`, [value]);
      if (hit.some((r) => r.id !== selfId)) throw uniqueViolation({ [field]: value });
    }
    if (def.cacheKey) {
      const hit = await this.client.query(`SELECT id FROM ${table} WHERE cache_key = ?`, [def.cacheKey(row)]);
      if (hit.some((r) => r.id !== selfId))
        throw uniqueViolation(Object.fromEntries((def.cacheKeyFields ?? []).map((f) => [f, row[f] ?? null])));
    }
    for (const fk of def.foreign) {
      const id = (row[fk.field] as { id?: string } | null)?.id;
      if (!id) continue;
      const hit = await this.client.query(`SELECT id FROM ${q(fk.reference)} WHERE id = ?`, [id]);
      if (hit.length === 0) throw missingForeign(fk.field, fk.reference, id);
    }
  }

  private async writeRow(def: EntityDefinition, row: EntityRow, exists: boolean): Promise<void> {
    const columns = keyColumns(def);
    const values = rowValues(def, row);
    if (exists) {
      const sets = [...columns.slice(1), 'body'].map((c) => `${q(c)} = ?`).join(', ');
      await this.client.run(`UPDATE ${q(def.name)} SET ${sets} WHERE id = ?`, [...values.slice(1), row.id]);
      await this.client.run('DELETE FROM tags WHERE entity_name = ? AND entity_id = ?', [def.name, row.id]);
    } else {
      const names = [...columns, 'body'].map(q).join(', ');
      const marks = values.map(() => '?').join(', ');
      await this.client.run(`INSERT INTO ${q(def.name)} (${names}) VALUES (${marks})`, values);
    }
    for (const tag of row.tags ?? [])
      await this.client.run('INSERT INTO tags (entity_name, entity_id, tag) VALUES (?, ?, ?)', [
        def.name,
        row.id,
        tag,
      ]);
    this.changed = true;
  }

  async insert(entity: EntityName, input: Record<string, unknown>): Promise<EntityRow> {
    const def = definition(entity);
    const time = now();
    const id = isPlainObject(input) && typeof input.id === 'string' ? input.id.toLowerCase() : randomUUID();
    const row = buildRow(def, input, { id, created_at: time, updated_at: time });
    if ((await this.client.query(`SELECT id FROM ${q(def.name)} WHERE id = ?`, [row.id])).length > 0)
      throw primaryKeyViolation(row.id);
    await this.checkConstraints(def, row, null);
    await this.writeRow(def, row, false);
    return row;
  }

  async update(entity: EntityName, idOrKey: string, patch: Record<string, unknown>): Promise<EntityRow> {
    const def = definition(entity);
    const existing = await this.find(def, idOrKey);
    if (!existing) throw notFound(this.keyOf(def, idOrKey));
    if (!isPlainObject(patch)) throw schemaViolation({ '@entity': ['expected a record'] });
    const { id: _id, created_at: _created, updated_at: _updated, ...rest } = patch;
    // A url in the patch replaces the parts it covers.
    const base = 'url' in rest && def.name === 'services' ? { ...existing, path: null } : existing;
    const merged = mergePatch(base, rest);
    const row = buildRow(def, merged, {
      id: existing.id,
      created_at: existing.created_at,
      updated_at: now(),
    });
    await this.checkConstraints(def, row, existing.id);
    await this.writeRow(def, row, true);
    return row;
  }

  async upsert(entity: EntityName, idOrKey: string, input: Record<string, unknown>): Promise<EntityRow> {
    const def = definition(entity);
    if (!isPlainObject(input)) throw schemaViolation({ '@entity': ['expected a record'] });
    let body = { ...input };
    let existing: EntityRow | null;
    if (isUuid(idOrKey)) {
      existing = await this.find(def, idOrKey);
      body.id = idOrKey.toLowerCase();
    } else {
      if (!def.endpointKey)
        throw new StoreError(
          StoreErrorCode.INVALID_PRIMARY_KEY,
          `invalid primary key: '${idOrKey}' is not a valid UUID`,
          {
            id: 'expected a valid UUID',
          },
        );
      body = { ...body, [def.endpointKey]: idOrKey };
      existing = await this.find(def, idOrKey);
    }
    const time = now();
    const id = existing?.id ?? (typeof body.id === 'string' ? body.id.toLowerCase() : randomUUID());
    const { created_at: _created, updated_at: _updated, ...rest } = body;
    const row = buildRow(def, rest, { id, created_at: existing?.created_at ?? time, updated_at: time });
    if (
      !existing &&
      (await this.client.query(`SELECT id FROM ${q(def.name)} WHERE id = ?`, [row.id])).length > 0
    )
      throw primaryKeyViolation(row.id);
    await this.checkConstraints(def, row, existing?.id ?? null);
    await this.writeRow(def, row, existing !== null);
    return row;
  }

  async delete(entity: EntityName, idOrKey: string): Promise<void> {
    const def = definition(entity);
    const existing = await this.find(def, idOrKey);
    if (!existing) return;
    await this.deleteTree(def, existing.id);
  }

  /** Kong's on_delete: restrict refuses (FOREIGN_KEY_VIOLATION), cascade deletes children first. */
  private async deleteTree(def: EntityDefinition, id: string): Promise<void> {
    for (const ref of referencesTo(def.name)) {
      const children = await this.client.query(
        `SELECT id FROM ${q(ref.entity)} WHERE ${q(`${ref.field}_id`)} = ?`,
        [id],
      );
      if (children.length === 0) continue;
      if (ref.onDelete === 'restrict') throw referencedBy(ref.entity, def.name);
      for (const child of children) await this.deleteTree(ENTITIES[ref.entity], String(child.id));
    }
    await this.client.run('DELETE FROM tags WHERE entity_name = ? AND entity_id = ?', [def.name, id]);
    await this.client.run(`DELETE FROM ${q(def.name)} WHERE id = ?`, [id]);
    this.changed = true;
  }

  async get(entity: EntityName, idOrKey: string, options?: GetOptions): Promise<EntityRow | null> {
    return this.find(definition(entity), idOrKey, options);
  }

  async list(entity: EntityName, options: ListOptions = {}): Promise<Page> {
    const def = definition(entity);
    const size = options.size ?? 100;
    if (!Number.isInteger(size) || size < 1 || size > 1000) throw invalidSize();
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.offset !== undefined) {
      where.push('id > ?');
      params.push(decodeOffset(options.offset));
    }
    if (options.parent) {
      const fk = def.foreign.find((f) => f.field === options.parent!.field);
      if (!fk)
        throw new StoreError(
          StoreErrorCode.INVALID_FILTER,
          `'${entity}' has no foreign key '${options.parent.field}'`,
        );
      where.push(`${q(`${fk.field}_id`)} = ?`);
      params.push(options.parent.id);
    }
    if (options.tags && options.tags.tags.length > 0) {
      const tags = options.tags.tags;
      if (tags.some((t) => typeof t !== 'string' || t === '' || /[,/]/.test(t)))
        throw new StoreError(
          StoreErrorCode.INVALID_FILTER,
          'invalid tags filter: tags must be non-empty strings',
        );
      const marks = tags.map(() => '?').join(', ');
      const sub = `SELECT entity_id FROM tags WHERE entity_name = ? AND tag IN (${marks})`;
      if (options.tags.mode === 'and') {
        where.push(`id IN (${sub} GROUP BY entity_id HAVING COUNT(*) = ?)`);
        params.push(def.name, ...tags, new Set(tags).size);
      } else {
        where.push(`id IN (${sub})`);
        params.push(def.name, ...tags);
      }
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const rows = await this.client.query(
      `SELECT body FROM ${q(def.name)} ${clause} ORDER BY id LIMIT ${size + 1}`,
      params,
    );
    const data = rows.slice(0, size).map((r) => JSON.parse(String(r.body)) as EntityRow);
    const page: Page = { data };
    if (rows.length > size) page.offset = encodeOffset(data[data.length - 1]!.id);
    return page;
  }

  async snapshot(): Promise<Snapshot> {
    const entities = {} as Snapshot;
    // One JSON array per table, built by the database: one row to transfer and one parse, not thousands.
    const aggregate =
      this.client.engine === 'postgres'
        ? `string_agg(body, ',' ORDER BY id)`
        : `group_concat(body, ',' ORDER BY id)`;
    for (const name of ENTITY_ORDER) {
      const rows = await this.client.query(`SELECT ${aggregate} AS bodies FROM ${q(name)}`);
      const bodies = rows[0]?.bodies;
      entities[name] = bodies ? (JSON.parse(`[${String(bodies)}]`) as EntityRow[]) : [];
    }
    return entities;
  }

  async bulkWrite(entity: EntityName, rows: EntityRow[]): Promise<void> {
    const def = definition(entity);
    if (rows.length === 0) return;
    const columns = [...keyColumns(def), 'body'];
    const updates = columns
      .slice(1)
      .map((c) => `${q(c)} = excluded.${q(c)}`)
      .join(', ');
    const chunk = 200;
    for (let i = 0; i < rows.length; i += chunk) {
      const part = rows.slice(i, i + chunk);
      const values = part.flatMap((row) => rowValues(def, row));
      const marks = part.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
      await this.client.run(
        `INSERT INTO ${q(def.name)} (${columns.map(q).join(', ')}) VALUES ${marks} ON CONFLICT (id) DO UPDATE SET ${updates}`,
        values,
      );
      const ids = part.map((r) => r.id);
      await this.client.run(
        `DELETE FROM tags WHERE entity_name = ? AND entity_id IN (${ids.map(() => '?').join(', ')})`,
        [def.name, ...ids],
      );
      const tagged = part.flatMap((r) => (r.tags ?? []).map((tag) => [def.name, r.id, tag]));
      for (let j = 0; j < tagged.length; j += 300) {
        const slice = tagged.slice(j, j + 300);
        await this.client.run(
          `INSERT INTO tags (entity_name, entity_id, tag) VALUES ${slice.map(() => '(?, ?, ?)').join(', ')}`,
          slice.flat(),
        );
      }
    }
    this.changed = true;
  }
}

function normalizeTarget(def: EntityDefinition, target: string): string {
  const prepared = def.prepare?.({ target });
  return typeof prepared?.input.target === 'string' ? prepared.input.target : target;
}
