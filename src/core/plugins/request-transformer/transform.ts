// request-transformer's rules as pure functions over headers, arguments and JSON objects (Kong's access.lua).
import { renamePart, textPart, type MultipartPart } from '../../http/multipart.js';
import { appendValue, pairsOf } from './config-pairs.js';
import { jsonObject } from '../../http/json-object.js';

/** One operation's lists (`config.remove`, `config.rename`, …). */
export interface TargetLists {
  body: string[];
  headers: string[];
  querystring: string[];
}

export interface RequestTransformerConfig {
  http_method?: string | null;
  remove: TargetLists;
  rename: TargetLists;
  replace: TargetLists & { uri?: string | null };
  add: TargetLists;
  append: TargetLists;
}

type Target = keyof TargetLists;
type Render = (value: string) => string;
export type HeaderTable = Record<string, string | string[]>;

/** The request body kinds Kong's request-transformer edits, from the Content-Type. */
export type BodyKind = 'json' | 'multipart' | 'form';

export function bodyKind(contentType: string | undefined): BodyKind | null {
  if (!contentType) return null;
  const lower = contentType.toLowerCase();
  if (lower.includes('application/json')) return 'json';
  if (lower.includes('multipart/form-data')) return 'multipart';
  if (lower.includes('application/x-www-form-urlencoded')) return 'form';
  return null;
}

export function hasOperations(conf: RequestTransformerConfig, target: Target): boolean {
  return (
    conf.remove[target].length > 0 ||
    conf.rename[target].length > 0 ||
    conf.replace[target].length > 0 ||
    conf.add[target].length > 0 ||
    conf.append[target].length > 0
  );
}

/**
 * Headers as they go upstream after remove → rename → replace → add → append. Names are lowercase. Host is
 * left alone except by `replace` (which sets it even when absent); `add` and `append` never touch it. An
 * entry without a value changes nothing (Kong sets nil, which its header write ignores).
 */
export function transformHeaders(
  conf: RequestTransformerConfig,
  headers: HeaderTable,
  render: Render,
): HeaderTable {
  const out: HeaderTable = { ...headers };
  delete out.host;
  for (const { name } of pairsOf(conf.remove.headers)) delete out[name.toLowerCase()];
  for (const { name, value } of pairsOf(conf.rename.headers)) {
    if (value === undefined) continue;
    const from = name.toLowerCase();
    const to = value.toLowerCase();
    if (from === to || out[from] === undefined) continue;
    out[to] = out[from]!;
    delete out[from];
  }
  for (const { name, value } of pairsOf(conf.replace.headers)) {
    const lower = name.toLowerCase();
    if (value !== undefined && (out[lower] !== undefined || lower === 'host')) out[lower] = render(value);
  }
  for (const { name, value } of pairsOf(conf.add.headers)) {
    const lower = name.toLowerCase();
    if (value !== undefined && out[lower] === undefined && lower !== 'host') out[lower] = render(value);
  }
  for (const { name, value } of pairsOf(conf.append.headers)) {
    const lower = name.toLowerCase();
    if (value !== undefined && lower !== 'host')
      out[lower] = appendValue(out[lower], render(value)) as string[];
  }
  return out;
}

/**
 * Applies one target's lists to a table of values (query arguments, form fields, JSON object members), in
 * place. Lua truthiness decides presence: an absent member or a JSON `false` counts as missing for rename,
 * replace and add. Remove, rename and replace act only when the table came with content (`hasContent`);
 * `replace` with an empty value deletes the member, as Kong's `t[name] = nil` does. Returns whether Kong
 * would write the table back.
 */
export function applyOperations(
  conf: RequestTransformerConfig,
  target: Target,
  table: Map<string, unknown>,
  render: Render,
  hasContent: boolean,
): boolean {
  const present = (name: string): boolean => {
    const v = table.get(name);
    return v !== undefined && v !== false;
  };
  let changed = false;
  if (hasContent) {
    for (const { name } of pairsOf(conf.remove[target])) {
      table.delete(name);
      changed = true;
    }
    for (const { name, value } of pairsOf(conf.rename[target])) {
      if (value === undefined || value === name || !present(name)) continue;
      table.set(value, table.get(name));
      table.delete(name);
      changed = true;
    }
    for (const { name, value } of pairsOf(conf.replace[target])) {
      if (!present(name)) continue;
      if (value === undefined) table.delete(name);
      else table.set(name, render(value));
      changed = true;
    }
  }
  for (const { name, value } of pairsOf(conf.add[target])) {
    if (value === undefined || present(name)) continue;
    table.set(name, render(value));
    changed = true;
  }
  for (const { name, value } of pairsOf(conf.append[target])) {
    if (value === undefined) continue;
    table.set(name, appendValue(table.get(name), render(value)));
    changed = true;
  }
  return changed;
}

/**
 * A JSON body after the body lists, or null when it stays as it is: a body that is not a JSON object
 * (invalid JSON, an array, a scalar) is left untouched; an empty body counts as `{}` for add and append.
 */
export function transformJsonBody(
  conf: RequestTransformerConfig,
  body: string,
  render: Render,
): string | null {
  let members: Map<string, unknown>;
  if (body.length === 0) members = new Map();
  else {
    const parsed = jsonObject(body);
    if (typeof parsed !== 'object') return null;
    members = new Map(Object.entries(parsed));
  }
  if (!applyOperations(conf, 'body', members, render, body.length > 0)) return null;
  return JSON.stringify(Object.fromEntries(members));
}

/**
 * A multipart/form-data body's parts after the body lists, or null when nothing changed. Kong's order for
 * multipart: rename → remove → replace → add; then append, which Kong ignores for multipart and which adds
 * one more field here. Parts are matched by name, every part of a repeated name together. Remove, rename and
 * replace act only on a body that came with content (`hasContent`). A renamed part keeps its file name, type
 * and bytes, in place, and replaces parts that had the new name; a replaced one becomes a text field where
 * the first of that name was (an empty replacement deletes it); added and appended fields go last.
 */
export function transformMultipart(
  conf: RequestTransformerConfig,
  original: readonly MultipartPart[],
  render: Render,
  hasContent: boolean,
): MultipartPart[] | null {
  let parts = [...original];
  let changed = false;
  const has = (name: string) => parts.some((p) => p.name === name);
  if (hasContent) {
    for (const { name, value } of pairsOf(conf.rename.body)) {
      if (value === undefined || value === name || !has(name)) continue;
      parts = parts.filter((p) => p.name !== value).map((p) => (p.name === name ? renamePart(p, value) : p));
      changed = true;
    }
    for (const { name } of pairsOf(conf.remove.body)) {
      if (!has(name)) continue;
      parts = parts.filter((p) => p.name !== name);
      changed = true;
    }
    for (const { name, value } of pairsOf(conf.replace.body)) {
      const first = parts.findIndex((p) => p.name === name);
      if (first === -1) continue;
      const rest = parts.filter((p, i) => i === first || p.name !== name);
      if (value === undefined) rest.splice(first, 1);
      else rest[first] = textPart(name, render(value));
      parts = rest;
      changed = true;
    }
  }
  for (const { name, value } of pairsOf(conf.add.body)) {
    if (value === undefined || has(name)) continue;
    parts.push(textPart(name, render(value)));
    changed = true;
  }
  for (const { name, value } of pairsOf(conf.append.body)) {
    if (value === undefined) continue;
    parts.push(textPart(name, render(value)));
    changed = true;
  }
  return changed ? parts : null;
}
