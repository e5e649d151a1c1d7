// Coerces form values (always strings) to the types an entity schema declares, as Kong's Admin API does.

/**
 * The part of a schema the Admin API needs to read a form: each field's type, recursively. The store's
 * schema `Field` has this shape, so its `fields` can be passed as they are.
 */
export interface FieldShape {
  type: string;
  /** Array and set elements. */
  elements?: FieldShape;
  /** Map values. */
  values?: FieldShape;
  /** Record fields. */
  fields?: Record<string, FieldShape>;
}

/** Field shapes of one entity (or of one plugin's `config`), keyed by field name. */
export type RecordShape = Record<string, FieldShape>;

const NUMBER = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

function own(shape: Record<string, FieldShape>, key: string): FieldShape | undefined {
  return Object.prototype.hasOwnProperty.call(shape, key) ? shape[key] : undefined;
}

/**
 * Kong's `infer_value`: '' means null; numbers and booleans are parsed when they look right (otherwise
 * left as strings so the schema reports them); a single value given for an array becomes a list.
 */
export function inferValue(value: unknown, field: FieldShape | undefined): unknown {
  if (field === undefined || value === undefined || value === null) return value;
  if (value === '') return null;
  switch (field.type) {
    case 'number':
    case 'integer':
      return typeof value === 'string' && NUMBER.test(value) ? Number(value) : value;
    case 'boolean':
      if (value === 'true') return true;
      if (value === 'false') return false;
      return value;
    case 'array':
    case 'set': {
      const list = Array.isArray(value) ? value : [value];
      return list.map((item) => inferValue(item, field.elements));
    }
    case 'map':
      if (typeof value !== 'object' || Array.isArray(value)) return value;
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, inferValue(v, field.values)]),
      );
    case 'record':
      if (typeof value !== 'object' || Array.isArray(value)) return value;
      return inferRecord(value as Record<string, unknown>, field.fields ?? {});
    default:
      return value;
  }
}

/** Applies `inferValue` to every known field of `input`; unknown fields pass through for the schema to reject. */
export function inferRecord(input: Record<string, unknown>, shape: RecordShape): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    Object.defineProperty(out, key, {
      value: inferValue(input[key], own(shape, key)),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
