// List query parameters (`size`, `offset`, `tags`) parsed with Kong's rules, and the `next` link of a page.
import { StoreErrorCode, type ListOptions, type TagFilter } from '../store/types.js';

export const PAGE_SIZE_DEFAULT = 100;
export const PAGE_SIZE_MAX = 1000;
/** Kong refuses filters on more tags than this. */
export const MAX_FILTER_TAGS = 5;

/** A Kong DAO error body (`{code, name, message, ...}`) the API answers with status 400. */
export interface QueryError {
  code: number;
  name: string;
  message: string;
  options?: Record<string, string>;
}

export type ParsedListQuery =
  { ok: true; options: Pick<ListOptions, 'size' | 'offset' | 'tags'> } | { ok: false; error: QueryError };

// Printable ASCII except ',' and '/', plus any non-ASCII character: Kong's tag alphabet.
const TAG_CHARS = '[\\x20-\\x2B\\x2D\\x2E\\x30-\\x7E\\u0080-\\u{10FFFF}]';
const TAGS_AND = new RegExp(`^${TAG_CHARS}+(?:,${TAG_CHARS}+)*$`, 'u');
const TAGS_OR = new RegExp(`^${TAG_CHARS}+(?:/${TAG_CHARS}+)+$`, 'u');

function invalidOption(option: string, reason: string): QueryError {
  return {
    code: StoreErrorCode.INVALID_OPTIONS,
    name: 'invalid options',
    message: `invalid option (${option}: ${reason})`,
    options: { [option]: reason },
  };
}

function invalidSize(message: string): QueryError {
  return { code: StoreErrorCode.INVALID_SIZE, name: 'invalid size', message };
}

/** `a,b` → all of a and b; `a/b` → any of them; a single tag is an 'and' of one; mixing both is refused. */
export function parseTagFilter(raw: string): TagFilter | QueryError {
  let filter: TagFilter;
  if (TAGS_AND.test(raw)) filter = { mode: 'and', tags: raw.split(',') };
  else if (TAGS_OR.test(raw)) filter = { mode: 'or', tags: raw.split('/') };
  else return invalidOption('tags', 'invalid filter syntax');
  if (filter.tags.length > MAX_FILTER_TAGS)
    return invalidOption('tags', `cannot query more than ${MAX_FILTER_TAGS} tags`);
  return filter;
}

/** Kong's page size rules and messages: a number, an integer, 1..1000. */
export function parsePageSize(values: string[]): number | QueryError {
  // A repeated `size` reads as a list in Kong, which is not a number either.
  if (values.length !== 1 || !/^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/.test(values[0]!))
    return invalidSize('size must be a number');
  const size = Number(values[0]);
  if (!Number.isInteger(size) || size < 1 || size > PAGE_SIZE_MAX)
    return invalidSize(`size must be an integer between 1 and ${PAGE_SIZE_MAX}`);
  return size;
}

function isQueryError(value: unknown): value is QueryError {
  return typeof value === 'object' && value !== null && 'code' in value && 'message' in value;
}

/** Reads `size`, `offset` and `tags` from a list request's query string. */
export function parseListQuery(query: URLSearchParams): ParsedListQuery {
  const options: Pick<ListOptions, 'size' | 'offset' | 'tags'> = { size: PAGE_SIZE_DEFAULT };
  if (query.has('size')) {
    const size = parsePageSize(query.getAll('size'));
    if (isQueryError(size)) return { ok: false, error: size };
    options.size = size;
  }
  const offset = query.get('offset');
  if (offset !== null) options.offset = offset;
  const tags = query.get('tags');
  if (tags !== null) {
    const filter = parseTagFilter(tags);
    if (isQueryError(filter)) return { ok: false, error: filter };
    options.tags = filter;
  }
  return { ok: true, options };
}

/**
 * The `next` link of a page: the same path with the new offset, keeping the caller's `tags` and `size`
 * so following `next` walks the same filtered listing. `null` on the last page.
 */
export function nextPageLink(
  path: string,
  offset: string | undefined,
  query: URLSearchParams,
): string | null {
  if (offset === undefined) return null;
  let link = `${path}?offset=${encodeURIComponent(offset)}`;
  const tags = query.get('tags');
  if (tags !== null) link += `&tags=${encodeURIComponent(tags)}`;
  const size = query.get('size');
  if (size !== null) link += `&size=${encodeURIComponent(size)}`;
  return link;
}
