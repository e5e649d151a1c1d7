// `/tags` and `/tags/{tag}`: every tagged entity as `{entity_name, entity_id, tag}` rows, paginated.
import type { EntityName, EntityRow, Store } from '../store/types.js';
import type { AdminRoute } from './context.js';
import { nextPageLink, parsePageSize, parseTagFilter, PAGE_SIZE_DEFAULT } from './query.js';
import { ok, type AdminResponse } from './responses.js';

/** Collections walked by `/tags`, in a fixed order so an offset stays meaningful between pages. */
export const TAGGED_ENTITIES: readonly EntityName[] = [
  'services',
  'routes',
  'consumers',
  'plugins',
  'upstreams',
  'targets',
  'certificates',
  'snis',
  'ca_certificates',
  'keyauth_credentials',
];

export interface TagRow {
  entity_name: EntityName;
  entity_id: string;
  tag: string;
}

/** Where a `/tags` walk stopped: collection index, store cursor of that page, rows already given from it. */
export interface TagCursor {
  entity: number;
  storeOffset?: string;
  skip: number;
}

export function encodeTagCursor(cursor: TagCursor): string {
  return Buffer.from(JSON.stringify([cursor.entity, cursor.storeOffset ?? null, cursor.skip])).toString(
    'base64url',
  );
}

/** Null when the offset was not made by `encodeTagCursor`. */
export function decodeTagCursor(offset: string): TagCursor | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(offset, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 3) return null;
    const [entity, storeOffset, skip] = value as unknown[];
    if (!Number.isInteger(entity) || (entity as number) < 0 || (entity as number) >= TAGGED_ENTITIES.length)
      return null;
    if (storeOffset !== null && typeof storeOffset !== 'string') return null;
    if (!Number.isInteger(skip) || (skip as number) < 0) return null;
    return { entity: entity as number, storeOffset: storeOffset ?? undefined, skip: skip as number };
  } catch {
    return null;
  }
}

/** The tag rows of one entity, optionally only those for `tag`. */
export function tagRows(entity: EntityName, row: EntityRow, tag?: string): TagRow[] {
  const tags = Array.isArray(row.tags) ? row.tags : [];
  return tags
    .filter((t): t is string => typeof t === 'string' && (tag === undefined || t === tag))
    .map((t) => ({ entity_name: entity, entity_id: row.id, tag: t }));
}

function invalidOffset(offset: string): AdminResponse {
  return {
    status: 400,
    body: { code: 7, name: 'invalid offset', message: `'${offset}' is not a valid offset: bad cursor` },
  };
}

/** Walks the collections from `cursor`, filling one page of tag rows. */
async function tagPage(
  store: Store,
  size: number,
  cursor: TagCursor,
  tag: string | undefined,
): Promise<{ data: TagRow[]; next?: TagCursor }> {
  const data: TagRow[] = [];
  let { entity, storeOffset, skip } = cursor;
  while (entity < TAGGED_ENTITIES.length) {
    const name = TAGGED_ENTITIES[entity]!;
    const page = await store.list(name, {
      size: 1000,
      offset: storeOffset,
      tags: tag === undefined ? undefined : { mode: 'and', tags: [tag] },
    });
    const rows = page.data.flatMap((row) => tagRows(name, row, tag));
    const room = size - data.length;
    const available = rows.slice(skip);
    if (available.length > room) {
      data.push(...available.slice(0, room));
      return { data, next: { entity, storeOffset, skip: skip + room } };
    }
    data.push(...available);
    skip = 0;
    if (page.offset !== undefined) storeOffset = page.offset;
    else {
      entity++;
      storeOffset = undefined;
    }
    if (data.length === size) {
      return entity < TAGGED_ENTITIES.length ? { data, next: { entity, storeOffset, skip: 0 } } : { data };
    }
  }
  return { data };
}

export function tagRoutes(store: Store): AdminRoute[] {
  const list =
    (byTag: boolean) =>
    async (req: Parameters<AdminRoute['handler']>[0]): Promise<AdminResponse> => {
      let size = PAGE_SIZE_DEFAULT;
      if (req.query.has('size')) {
        const parsed = parsePageSize(req.query.getAll('size'));
        if (typeof parsed !== 'number') return { status: 400, body: parsed };
        size = parsed;
      }
      let tag: string | undefined;
      if (byTag) {
        tag = req.params.tag!;
        const filter = parseTagFilter(tag);
        if ('code' in filter || filter.tags.length !== 1) {
          return {
            status: 400,
            body: {
              code: 11,
              name: 'invalid options',
              message: 'invalid option (tags: must be a single tag)',
              options: { tags: 'must be a single tag' },
            },
          };
        }
      }
      let cursor: TagCursor = { entity: 0, skip: 0 };
      const offset = req.query.get('offset');
      if (offset !== null) {
        const decoded = decodeTagCursor(offset);
        if (!decoded) return invalidOffset(offset);
        cursor = decoded;
      }
      const page = await tagPage(store, size, cursor, tag);
      const nextOffset = page.next ? encodeTagCursor(page.next) : undefined;
      const query = new URLSearchParams(req.query);
      query.delete('tags');
      return ok({ data: page.data, offset: nextOffset, next: nextPageLink(req.path, nextOffset, query) });
    };
  return [
    { method: 'GET', path: '/tags', handler: list(false) },
    { method: 'GET', path: '/tags/:tag', handler: list(true) },
  ];
}
