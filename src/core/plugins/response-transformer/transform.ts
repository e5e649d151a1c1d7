// response-transformer's rules (Kong's header_transformer.lua and body_transformer.lua) as pure functions.
import type { OutgoingHttpHeaders } from 'node:http';
import { isJsonMediaType } from '../proxy-cache/media-type.js';
import { appendValue, pairsOf } from '../request-transformer/config-pairs.js';
import { jsonObject } from '../../http/json-object.js';

type JsonType = 'boolean' | 'number' | 'string';

export interface ResponseTransformerConfig {
  remove: { json: string[]; headers: string[] };
  rename: { json: string[]; headers: string[] };
  replace: { json: string[]; json_types: JsonType[]; headers: string[] };
  add: { json: string[]; json_types: JsonType[]; headers: string[] };
  append: { json: string[]; json_types: JsonType[]; headers: string[] };
}

/** The header operations a response goes through, on the live response. */
export interface HeaderWriter {
  set(name: string, value: string | number | string[]): void;
  remove(name: string): void;
  /** Current value, for append. */
  get(name: string): string | number | string[] | undefined;
}

export function hasJsonOperations(conf: ResponseTransformerConfig): boolean {
  return (
    conf.remove.json.length > 0 ||
    conf.rename.json.length > 0 ||
    conf.replace.json.length > 0 ||
    conf.add.json.length > 0 ||
    conf.append.json.length > 0
  );
}

function headerText(value: string | number | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value === undefined ? undefined : String(value);
}

/**
 * Whether the body will be rewritten: JSON lists are configured and the response is `application/json`. An
 * encoded (gzip…) body is not JSON to Kong's parser and passes unchanged, so it is left out here.
 */
export function transformsBody(conf: ResponseTransformerConfig, headers: OutgoingHttpHeaders): boolean {
  const encoding = headerText(headers['content-encoding'])?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') return false;
  return hasJsonOperations(conf) && isJsonMediaType(headerText(headers['content-type']));
}

/**
 * remove → rename → replace → add → append on the response headers. As in Kong, rename, replace and add look
 * at the headers as they were before any change (a header renamed to `x` is not then replaced as `x`).
 * Content-Length is dropped when the body is going to change.
 */
export function transformHeaders(
  conf: ResponseTransformerConfig,
  headers: OutgoingHttpHeaders,
  out: HeaderWriter,
): void {
  const before: OutgoingHttpHeaders = { ...headers };
  const has = (name: string): boolean => before[name.toLowerCase()] !== undefined;
  for (const { name } of pairsOf(conf.remove.headers)) out.remove(name);
  for (const { name, value } of pairsOf(conf.rename.headers)) {
    if (value === undefined || !has(name)) continue;
    out.set(value, before[name.toLowerCase()]!);
    out.remove(name);
  }
  for (const { name, value } of pairsOf(conf.replace.headers))
    if (value !== undefined && has(name)) out.set(name, value);
  for (const { name, value } of pairsOf(conf.add.headers))
    if (value !== undefined && !has(name)) out.set(name, value);
  for (const { name, value } of pairsOf(conf.append.headers)) {
    if (value === undefined) continue;
    const current = out.get(name);
    if (current === undefined) out.set(name, value);
    else out.set(name, [...(Array.isArray(current) ? current : [String(current)]), value]);
  }
  if (transformsBody(conf, before)) out.remove('content-length');
}

/**
 * A configured value as Kong's json_value gives it: text, or cast by its json_types entry (a number that does
 * not parse drops the entry; a boolean is `true` only for "true"). An empty value is the text "null", as in Kong.
 */
function jsonValue(
  value: string | undefined,
  type: JsonType | undefined,
): string | number | boolean | undefined {
  const text = value ?? 'null';
  if (type === 'number') {
    const n = text.trim() === '' ? NaN : Number(text);
    return Number.isFinite(n) ? n : undefined;
  }
  if (type === 'boolean') return text === 'true';
  return text;
}

/**
 * The JSON body after remove → rename → replace → add → append on its top-level members, or null when the body
 * is not a JSON object (invalid JSON, an array, a scalar): Kong leaves those as they are. Lua truthiness
 * decides presence for replace and add: an absent member or `false` is missing, `null` is present.
 */
export function transformJsonBody(conf: ResponseTransformerConfig, body: string): string | null {
  const parsed = jsonObject(body);
  if (typeof parsed !== 'object') return null;
  const members = new Map(Object.entries(parsed));
  const truthy = (name: string): boolean => {
    const v = members.get(name);
    return v !== undefined && v !== false;
  };
  for (const { name } of pairsOf(conf.remove.json)) members.delete(name);
  for (const { name, value } of pairsOf(conf.rename.json)) {
    if (value === undefined || !members.has(name)) continue;
    const moved = members.get(name);
    members.delete(name);
    members.set(value, moved);
  }
  for (const { name, value, index } of pairsOf(conf.replace.json)) {
    const v = jsonValue(value, conf.replace.json_types[index]);
    if (v !== undefined && truthy(name)) members.set(name, v);
  }
  for (const { name, value, index } of pairsOf(conf.add.json)) {
    const v = jsonValue(value, conf.add.json_types[index]);
    if (v !== undefined && !truthy(name)) members.set(name, v);
  }
  for (const { name, value, index } of pairsOf(conf.append.json)) {
    const v = jsonValue(value, conf.append.json_types[index]);
    if (v !== undefined) members.set(name, appendValue(members.get(name), v));
  }
  return JSON.stringify(Object.fromEntries(members));
}
