// The one schema-validation engine: entities and plugin configs are both described and checked with it.

/** A value's error: a message, a nested tree for records/maps, or a per-index list for arrays. */
export type FieldError = string | ErrorTree | (FieldError | null)[];
/** Errors keyed by field name, as Kong puts them in `fields`; whole-entity errors under `@entity`. */
export interface ErrorTree {
  [field: string]: FieldError | string[] | undefined;
  '@entity'?: string[];
}

export type FieldType =
  'string' | 'integer' | 'number' | 'boolean' | 'array' | 'set' | 'map' | 'record' | 'foreign' | 'any';

/** A field, in the vocabulary of Kong's schemas (`one_of`, `between`, `len_min`, …). */
export interface Field {
  type: FieldType;
  required?: boolean;
  /** Filled in when the value is absent (records get their nested defaults even without one). */
  default?: unknown;
  one_of?: readonly (string | number)[];
  between?: readonly [number, number];
  gt?: number;
  len_min?: number;
  len_max?: number;
  /** For strings: a pattern the value must match; `match_err` replaces the generic message. */
  match?: RegExp;
  match_err?: string;
  /** For array/set elements. */
  elements?: Field;
  /** For maps. */
  keys?: Field;
  values?: Field;
  /** For records: ordered fields. */
  fields?: Record<string, Field>;
  /** For foreign keys: the referenced collection. The value is `{ id }`. */
  reference?: string;
  /** A last check on a well-typed value; returns an error message or null. */
  custom?: (value: never) => string | null;
  description?: string;
}

/** A whole-record check after the fields passed: returns errors keyed by field or `@entity`. */
export type EntityCheck = (value: Record<string, unknown>) => ErrorTree | null;

export interface Schema {
  name: string;
  fields: Record<string, Field>;
  checks?: EntityCheck[];
}

export type ValidationResult =
  { ok: true; value: Record<string, unknown> } | { ok: false; errors: ErrorTree };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

// Defaults are shared: arrays and records are copied so one row cannot change another's.
const clone = <T>(v: T): T => (typeof v === 'object' && v !== null ? (structuredClone(v) as T) : v);

const TYPE_NAMES: Record<FieldType, string> = {
  string: 'expected a string',
  integer: 'expected an integer',
  number: 'expected a number',
  boolean: 'expected a boolean',
  array: 'expected an array',
  set: 'expected a set',
  map: 'expected a map',
  record: 'expected a record',
  foreign: 'expected a foreign key',
  any: '',
};

/**
 * Validates `input` against `schema`, filling defaults. Every problem is reported at once,
 * keyed like Kong's `fields` (`{ config: { minute: 'expected a number' } }`).
 */
export function validate(schema: Schema, input: unknown): ValidationResult {
  const out = validateRecord(schema.fields, input, schema.checks ?? []);
  if (typeof out.error === 'string') return { ok: false, errors: { '@entity': [out.error] } };
  if (out.error) return { ok: false, errors: out.error as ErrorTree };
  return { ok: true, value: out.value as Record<string, unknown> };
}

interface Checked {
  value?: unknown;
  error?: FieldError;
}

function validateRecord(
  fields: Record<string, Field>,
  input: unknown,
  checks: readonly EntityCheck[],
): Checked {
  if (!isPlainObject(input)) return { error: TYPE_NAMES.record };
  const errors: ErrorTree = {};
  const value: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    if (!(key in fields)) errors[key] = 'unknown field';
  }
  for (const [name, field] of Object.entries(fields)) {
    const result = validateField(field, input[name]);
    if (result.error !== undefined) errors[name] = result.error;
    else value[name] = result.value;
  }
  if (Object.keys(errors).length > 0) return { error: errors };
  for (const check of checks) {
    const found = check(value);
    if (found) mergeErrors(errors, found);
  }
  if (Object.keys(errors).length > 0) return { error: errors };
  return { value };
}

function mergeErrors(into: ErrorTree, from: ErrorTree): void {
  for (const [key, err] of Object.entries(from)) {
    if (key === '@entity') into['@entity'] = [...(into['@entity'] ?? []), ...((err as string[]) ?? [])];
    else if (into[key] === undefined) into[key] = err;
  }
}

/** Absent (undefined) and explicit null both mean "not set", as in Kong. */
function validateField(field: Field, raw: unknown): Checked {
  let input = raw;
  if (input === undefined || input === null) {
    if (field.default !== undefined) input = clone(field.default);
    else if (field.type === 'record' && raw === undefined && field.fields) input = {};
    else if (field.required) return { error: 'required field missing' };
    else return { value: null };
  }
  return validateValue(field, input);
}

function validateValue(field: Field, input: unknown): Checked {
  switch (field.type) {
    case 'string': {
      if (typeof input !== 'string') return { error: TYPE_NAMES.string };
      if (field.len_min !== undefined && input.length < field.len_min)
        return {
          error:
            field.len_min === 1 ? 'length must be at least 1' : `length must be at least ${field.len_min}`,
        };
      if (field.len_max !== undefined && input.length > field.len_max)
        return { error: `length must be at most ${field.len_max}` };
      if (field.one_of && !field.one_of.includes(input))
        return { error: `expected one of: ${field.one_of.join(', ')}` };
      if (field.match && !field.match.test(input))
        return { error: field.match_err ?? `invalid value: ${input}` };
      break;
    }
    case 'integer':
    case 'number': {
      if (typeof input !== 'number' || !Number.isFinite(input)) return { error: TYPE_NAMES[field.type] };
      if (field.type === 'integer' && !Number.isInteger(input)) return { error: TYPE_NAMES.integer };
      if (field.one_of && !field.one_of.includes(input))
        return { error: `expected one of: ${field.one_of.join(', ')}` };
      if (field.between && (input < field.between[0] || input > field.between[1]))
        return { error: `value should be between ${field.between[0]} and ${field.between[1]}` };
      if (field.gt !== undefined && !(input > field.gt))
        return { error: `value must be greater than ${field.gt}` };
      break;
    }
    case 'boolean':
      if (typeof input !== 'boolean') return { error: TYPE_NAMES.boolean };
      break;
    case 'array':
    case 'set': {
      // Kong accepts an empty object where an empty array is meant (Lua tables); so do we.
      const list = isPlainObject(input) && Object.keys(input).length === 0 ? [] : input;
      if (!Array.isArray(list)) return { error: TYPE_NAMES[field.type] };
      if (field.len_min !== undefined && list.length < field.len_min)
        return { error: `length must be at least ${field.len_min}` };
      if (field.len_max !== undefined && list.length > field.len_max)
        return { error: `length must be at most ${field.len_max}` };
      const element = field.elements ?? { type: 'any' };
      const errors: (FieldError | null)[] = [];
      const values: unknown[] = [];
      let failed = false;
      for (const item of list) {
        if (item === null || item === undefined) {
          errors.push('required field missing');
          failed = true;
          continue;
        }
        const result = validateValue(element, item);
        errors.push(result.error ?? null);
        if (result.error !== undefined) failed = true;
        else values.push(result.value);
      }
      if (failed) return { error: errors };
      if (field.type === 'set') {
        const seen = new Set<string>();
        const unique = values.filter((v) => {
          const key = JSON.stringify(v);
          if (seen.has(key)) return false;
          seen.add(key);
          return true;
        });
        input = unique;
      } else input = values;
      break;
    }
    case 'map': {
      if (!isPlainObject(input)) return { error: TYPE_NAMES.map };
      const errors: ErrorTree = {};
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(input)) {
        if (field.keys) {
          const keyResult = validateValue(field.keys, key);
          if (keyResult.error !== undefined) {
            errors[key] = keyResult.error;
            continue;
          }
        }
        const result = field.values ? validateValue(field.values, item) : { value: item };
        if (result.error !== undefined) errors[key] = result.error;
        else out[key] = result.value;
      }
      if (Object.keys(errors).length > 0) return { error: errors };
      input = out;
      break;
    }
    case 'record': {
      if (!field.fields) {
        if (!isPlainObject(input)) return { error: TYPE_NAMES.record };
        break;
      }
      const result = validateRecord(field.fields, input, []);
      if (result.error !== undefined) return result;
      input = result.value;
      break;
    }
    case 'foreign': {
      if (!isPlainObject(input)) return { error: TYPE_NAMES.foreign };
      const extra = Object.keys(input).filter((k) => k !== 'id');
      if (extra.length > 0) return { error: Object.fromEntries(extra.map((k) => [k, 'unknown field'])) };
      if (input.id === undefined || input.id === null) return { error: { id: 'required field missing' } };
      if (!isUuid(input.id)) return { error: { id: 'expected a valid UUID' } };
      input = { id: (input.id as string).toLowerCase() };
      break;
    }
    case 'any':
      break;
  }
  if (field.custom) {
    const message = field.custom(input as never);
    if (message) return { error: message };
  }
  return { value: input };
}

/** Flattens an error tree into `path: message` pairs; arrays use `[i]`, records `.name`. */
export function flattenErrors(tree: FieldError | string[], base = ''): { path: string; message: string }[] {
  if (typeof tree === 'string') return [{ path: base, message: tree }];
  const out: { path: string; message: string }[] = [];
  if (Array.isArray(tree)) {
    tree.forEach((item, i) => {
      if (item === null) return;
      if (base.endsWith('@entity') && typeof item === 'string')
        out.push({ path: base.slice(0, -8), message: item });
      else out.push(...flattenErrors(item, `${base}[${i}]`));
    });
    return out;
  }
  for (const [key, item] of Object.entries(tree)) {
    if (item === undefined) continue;
    if (key === '@entity') {
      for (const message of item as string[]) out.push({ path: base, message });
      continue;
    }
    out.push(...flattenErrors(item, base ? `${base}.${key}` : key));
  }
  return out;
}

/** A JSON description of a schema in Kong's `/schemas` shape: `{ fields: [{ name: {...} }] }`. */
export function schemaToJson(schema: Schema | { fields: Record<string, Field> }): { fields: unknown[] } {
  return { fields: Object.entries(schema.fields).map(([name, field]) => ({ [name]: fieldToJson(field) })) };
}

function fieldToJson(field: Field): Record<string, unknown> {
  const out: Record<string, unknown> = { type: field.type };
  if (field.required) out.required = true;
  if (field.default !== undefined) out.default = field.default;
  if (field.one_of) out.one_of = field.one_of;
  if (field.between) out.between = field.between;
  if (field.gt !== undefined) out.gt = field.gt;
  if (field.len_min !== undefined) out.len_min = field.len_min;
  if (field.len_max !== undefined) out.len_max = field.len_max;
  if (field.match) out.match = field.match.source;
  if (field.reference) out.reference = field.reference;
  if (field.description) out.description = field.description;
  if (field.elements) out.elements = fieldToJson(field.elements);
  if (field.keys) out.keys = fieldToJson(field.keys);
  if (field.values) out.values = fieldToJson(field.values);
  if (field.fields) out.fields = schemaToJson({ fields: field.fields }).fields;
  return out;
}
