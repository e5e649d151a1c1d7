// A small, fast, deterministic YAML writer for JSON-shaped data (the export can hold tens of thousands of rows).
// Anything not plainly safe is written as a JSON string, which every YAML 1.1/1.2 reader reads back unchanged.

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./~@+-]*$/;
// Words YAML 1.1 readers (decK, older tools) would take for booleans or null.
const RESERVED = /^(?:true|false|null|yes|no|on|off|y|n|~)$/i;

function scalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = String(value);
  return PLAIN.test(text) && !RESERVED.test(text) ? text : JSON.stringify(text);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmpty = (v: unknown) =>
  Array.isArray(v) ? v.length === 0 : isObject(v) && Object.keys(v).length === 0;
const inline = (v: unknown) => (Array.isArray(v) ? '[]' : '{}');

function emit(value: unknown, indent: string, out: string[]): void {
  if (Array.isArray(value)) {
    for (const item of value) {
      if ((Array.isArray(item) || isObject(item)) && !isEmpty(item)) {
        const nested: string[] = [];
        emit(item, `${indent}  `, nested);
        // The first line of the item goes after the dash.
        out.push(`${indent}- ${nested[0]!.slice(indent.length + 2)}`, ...nested.slice(1));
      } else out.push(`${indent}- ${isEmpty(item) ? inline(item) : scalar(item)}`);
    }
    return;
  }
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (item === undefined) continue;
    if ((Array.isArray(item) || isObject(item)) && !isEmpty(item)) {
      out.push(`${indent}${scalar(key)}:`);
      emit(item, Array.isArray(item) ? `${indent}  ` : `${indent}  `, out);
    } else out.push(`${indent}${scalar(key)}: ${isEmpty(item) ? inline(item) : scalar(item)}`);
  }
}

/** Block-style YAML of a JSON-shaped object; keys keep their order. */
export function toYaml(value: Record<string, unknown>): string {
  const out: string[] = [];
  emit(value, '', out);
  return `${out.join('\n')}\n`;
}
