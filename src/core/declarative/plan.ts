// From a decK document to rows: flatten nesting, resolve references, identify entities, validate — every problem with its path.
import { createHash } from 'node:crypto';
import { flattenErrors, isUuid } from '../schema/schema.js';
import { ENTITIES, ENTITY_ORDER } from '../store/entities/index.js';
import { StoreError } from '../store/errors.js';
import { buildRow } from '../store/sql/entity-operations.js';
import type { EntityName, EntityRow, Snapshot } from '../store/types.js';
import type { DeclarativeProblem } from './errors.js';

export const FORMAT_VERSION = '3.0';
const ACCEPTED_VERSIONS = ['1.1', '2.1', '3.0'];

/** Children that decK files may nest inside a parent, and the foreign field that links them. */
const NESTED: Partial<Record<EntityName, Record<string, { entity: EntityName; field: string }>>> = {
  services: {
    routes: { entity: 'routes', field: 'service' },
    plugins: { entity: 'plugins', field: 'service' },
  },
  routes: { plugins: { entity: 'plugins', field: 'route' } },
  consumers: {
    plugins: { entity: 'plugins', field: 'consumer' },
    keyauth_credentials: { entity: 'keyauth_credentials', field: 'consumer' },
  },
  upstreams: { targets: { entity: 'targets', field: 'upstream' } },
  certificates: { snis: { entity: 'snis', field: 'certificate' } },
};

interface Item {
  entity: EntityName;
  path: string;
  input: Record<string, unknown>;
  /** Foreign fields: a parent item (nesting) or what the file wrote (name, id, `{id}`, `{name}`). */
  refs: Record<string, Item | unknown>;
  /** Known once identified, even when the item is invalid, so its children are still checked. */
  id?: string;
  row?: EntityRow;
  failed?: boolean;
}

export interface ImportPlan {
  /** Rows of the file, per entity, after defaults. */
  rows: Record<EntityName, EntityRow[]>;
  /** The subset that is new or different from the store. */
  changed: Record<EntityName, EntityRow[]>;
  counts: { created: number; updated: number; unchanged: number };
  problems: DeclarativeProblem[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const emptyBuckets = <T>(): Record<EntityName, T[]> =>
  Object.fromEntries(ENTITY_ORDER.map((e) => [e, []])) as unknown as Record<EntityName, T[]>;

/** Stable JSON: object keys sorted, so equal content gives equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value))
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

const NAMESPACE = Buffer.from('6c1f4a52b8e84f0d9a3e2b7c5d1e0f93', 'hex');
/** RFC 4122 v5: the same name always gives the same id, so re-importing a file without ids changes nothing. */
export function uuidV5(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function collect(doc: unknown, problems: DeclarativeProblem[]): Record<EntityName, Item[]> {
  const items = emptyBuckets<Item>();
  if (!isObject(doc)) {
    problems.push({ path: '', message: 'expected a mapping at the top of the file' });
    return items;
  }
  const version = doc._format_version;
  if (version === undefined) problems.push({ path: '_format_version', message: 'required field missing' });
  else if (!ACCEPTED_VERSIONS.includes(String(version)))
    problems.push({
      path: '_format_version',
      message: `unsupported version '${String(version)}', expected "${FORMAT_VERSION}"`,
    });
  for (const [key, value] of Object.entries(doc)) {
    if (key.startsWith('_')) continue;
    if (!(key in ENTITIES)) {
      problems.push({ path: key, message: 'unknown field' });
      continue;
    }
    walk(key as EntityName, value, key, undefined, items, problems);
  }
  return items;
}

function walk(
  entity: EntityName,
  list: unknown,
  path: string,
  parent: { item: Item; field: string } | undefined,
  items: Record<EntityName, Item[]>,
  problems: DeclarativeProblem[],
): void {
  if (list === null || list === undefined) return;
  if (!Array.isArray(list)) {
    problems.push({ path, message: 'expected an array' });
    return;
  }
  const def = ENTITIES[entity];
  list.forEach((raw, i) => {
    const itemPath = `${path}[${i}]`;
    // decK lets a certificate list its SNIs as plain names.
    const value = entity === 'snis' && typeof raw === 'string' ? { name: raw } : raw;
    if (!isObject(value)) {
      problems.push({ path: itemPath, message: 'expected a record' });
      return;
    }
    const input: Record<string, unknown> = { ...value };
    const item: Item = { entity, path: itemPath, input, refs: {} };
    const nested = NESTED[entity] ?? {};
    for (const key of Object.keys(nested)) delete input[key];
    for (const fk of def.foreign) {
      if (fk.field in input) {
        if (input[fk.field] !== null) item.refs[fk.field] = input[fk.field];
        delete input[fk.field];
      }
    }
    if (parent) item.refs[parent.field] = parent.item;
    items[entity].push(item);
    for (const [key, child] of Object.entries(nested))
      walk(child.entity, value[key], `${itemPath}.${key}`, { item, field: child.field }, items, problems);
  });
}

/** Indexes of the rows already stored, to find an entity by id, unique field or composite key. */
class Index {
  readonly byId = new Map<string, EntityRow>();
  readonly byUnique = new Map<string, Map<unknown, EntityRow>>();
  readonly byCacheKey = new Map<string, EntityRow>();

  constructor(
    readonly entity: EntityName,
    rows: EntityRow[],
  ) {
    const def = ENTITIES[entity];
    for (const field of def.unique) this.byUnique.set(field, new Map());
    for (const row of rows) this.add(row);
  }

  add(row: EntityRow): void {
    const def = ENTITIES[this.entity];
    this.byId.set(row.id, row);
    for (const field of def.unique)
      if (row[field] !== null && row[field] !== undefined) this.byUnique.get(field)!.set(row[field], row);
    const key = def.cacheKey?.(row);
    if (key) this.byCacheKey.set(key, row);
  }
}

/**
 * Plans an import of `doc` over `existing`: every row the file describes, which of them change,
 * and every problem (schema, references, uniqueness) with its path. Pure: no I/O.
 */
export function planImport(
  doc: unknown,
  existing: Snapshot,
  now = Math.floor(Date.now() / 1000),
): ImportPlan {
  const problems: DeclarativeProblem[] = [];
  const items = collect(doc, problems);
  const rows = emptyBuckets<EntityRow>();
  const changed = emptyBuckets<EntityRow>();
  const counts = { created: 0, updated: 0, unchanged: 0 };
  const stored = Object.fromEntries(ENTITY_ORDER.map((e) => [e, new Index(e, existing[e] ?? [])])) as Record<
    EntityName,
    Index
  >;
  const inFile = Object.fromEntries(ENTITY_ORDER.map((e) => [e, new Index(e, [])])) as Record<
    EntityName,
    Index
  >;
  const pathOfId = new Map<string, string>();

  for (const entity of ENTITY_ORDER) {
    const def = ENTITIES[entity];
    for (const item of items[entity]) {
      // 1. References, to ids.
      const resolved: Record<string, unknown> = {};
      for (const fk of def.foreign) {
        if (!(fk.field in item.refs)) continue;
        const ref = item.refs[fk.field];
        if (isItem(ref)) {
          // An invalid parent is reported on its own; its children are still checked against its id.
          if (!ref.id) item.failed = true;
          else resolved[fk.field] = { id: ref.id };
          continue;
        }
        const id = resolveReference(fk.reference, ref, stored, inFile);
        if (id) resolved[fk.field] = { id };
        else {
          problems.push({
            path: `${item.path}.${fk.field}`,
            message: `could not find ${fk.reference} '${describeRef(ref)}'`,
          });
          item.failed = true;
        }
      }
      if (item.failed) continue;
      // 2. Identity: the file's id, else the stored row with the same natural key, else a stable derived id.
      const candidate: Record<string, unknown> = { ...item.input, ...resolved };
      const prepared =
        def.prepare && entity !== 'keyauth_credentials' ? def.prepare(candidate).input : candidate;
      let id: string | undefined =
        typeof item.input.id === 'string' ? item.input.id.toLowerCase() : undefined;
      let previous = id ? stored[entity].byId.get(id) : undefined;
      if (!id) {
        previous = findByNaturalKey(entity, prepared, stored[entity]);
        id = previous?.id ?? uuidV5(`${entity}|${canonicalJson(candidate)}`);
        previous ??= stored[entity].byId.get(id);
      }
      item.id = id;
      // A generated key-auth key is kept across imports.
      if (entity === 'keyauth_credentials' && candidate.key == null && previous) candidate.key = previous.key;
      const { updated_at: fileUpdatedAt, ...withoutUpdated } = candidate;
      let row: EntityRow;
      try {
        row = buildRow(def, withoutUpdated, {
          id,
          created_at: previous?.created_at ?? now,
          updated_at: typeof fileUpdatedAt === 'number' ? fileUpdatedAt : now,
        });
      } catch (err) {
        if (!(err instanceof StoreError)) throw err;
        for (const p of flattenErrors((err.fields ?? {}) as Record<string, string>))
          problems.push({ path: p.path ? `${item.path}.${p.path}` : item.path, message: p.message });
        continue;
      }
      // 3. Uniqueness within the file and against other stored rows.
      const duplicate = pathOfId.get(row.id);
      if (duplicate) {
        problems.push({
          path: item.input.id === undefined ? item.path : `${item.path}.id`,
          message: `duplicate: the same ${entity} entity is also at ${duplicate}`,
        });
        continue;
      }
      let clash = false;
      for (const field of def.unique) {
        const value = row[field];
        if (value === null || value === undefined) continue;
        const sameInFile = inFile[entity].byUnique.get(field)!.get(value);
        if (sameInFile) {
          problems.push({
            path: `${item.path}.${field}`,
            message: `UNIQUE violation: ${field} '${String(value)}' is also used at ${pathOfId.get(sameInFile.id)}`,
          });
          clash = true;
        }
        const sameStored = stored[entity].byUnique.get(field)!.get(value);
        if (sameStored && sameStored.id !== row.id) {
          problems.push({
            path: `${item.path}.${field}`,
            message: `UNIQUE violation: ${field} '${String(value)}' is already used by ${entity} ${sameStored.id}`,
          });
          clash = true;
        }
      }
      const cacheKey = def.cacheKey?.(row);
      if (cacheKey) {
        const sameInFile = inFile[entity].byCacheKey.get(cacheKey);
        const sameStored = stored[entity].byCacheKey.get(cacheKey);
        if (sameInFile || (sameStored && sameStored.id !== row.id)) {
          const where = sameInFile ? `at ${pathOfId.get(sameInFile.id)}` : `by ${entity} ${sameStored!.id}`;
          problems.push({
            path: item.path,
            message: `UNIQUE violation: the same ${(def.cacheKeyFields ?? []).join('/')} is already used ${where}`,
          });
          clash = true;
        }
      }
      if (clash) continue;
      // 4. Unchanged rows keep their stored form (and updated_at); others are written.
      pathOfId.set(row.id, item.path);
      inFile[entity].add(row);
      if (previous && sameContent(previous, row)) {
        item.row = previous;
        rows[entity].push(previous);
        counts.unchanged++;
      } else {
        item.row = row;
        rows[entity].push(row);
        changed[entity].push(row);
        if (previous) counts.updated++;
        else counts.created++;
      }
    }
  }
  return { rows, changed, counts, problems };
}

const isItem = (v: unknown): v is Item => isObject(v) && 'entity' in v && 'refs' in v && 'path' in v;

function describeRef(ref: unknown): string {
  if (isObject(ref)) return String(ref.id ?? ref.name ?? JSON.stringify(ref));
  return String(ref);
}

/** A reference written as a name, an id, `{ id }` or `{ name }`; found in the file or the store. */
function resolveReference(
  reference: EntityName,
  ref: unknown,
  stored: Record<EntityName, Index>,
  inFile: Record<EntityName, Index>,
): string | null {
  let key: unknown = ref;
  if (isObject(ref)) key = ref.id ?? ref.name ?? ref[ENTITIES[reference].endpointKey ?? 'name'];
  if (typeof key !== 'string' || key === '') return null;
  if (isUuid(key)) {
    const id = key.toLowerCase();
    return inFile[reference].byId.has(id) || stored[reference].byId.has(id) ? id : null;
  }
  const field = ENTITIES[reference].endpointKey;
  if (!field) return null;
  return (
    inFile[reference].byUnique.get(field)?.get(key)?.id ??
    stored[reference].byUnique.get(field)?.get(key)?.id ??
    null
  );
}

function findByNaturalKey(
  entity: EntityName,
  input: Record<string, unknown>,
  index: Index,
): EntityRow | undefined {
  const def = ENTITIES[entity];
  for (const field of def.unique) {
    const value = input[field];
    if (value !== null && value !== undefined) {
      const hit = index.byUnique.get(field)!.get(value);
      if (hit) return hit;
    }
  }
  if (def.cacheKey) {
    const key = def.cacheKey(input);
    if (key) return index.byCacheKey.get(key);
  }
  return undefined;
}

/** Equal apart from updated_at: then the import leaves the row alone. */
function sameContent(a: EntityRow, b: EntityRow): boolean {
  // Rows are built in schema field order, so plain JSON usually decides; key order is only a fallback.
  if (JSON.stringify({ ...a, updated_at: 0 }) === JSON.stringify({ ...b, updated_at: 0 })) return true;
  const { updated_at: _a, ...restA } = a;
  const { updated_at: _b, ...restB } = b;
  return canonicalJson(restA) === canonicalJson(restB);
}
