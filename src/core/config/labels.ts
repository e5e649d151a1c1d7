// cluster_dp_labels: up to 10 `key:value` pairs under Kong's label character rules.
import { fail, ok, splitList, type Parsed, type ValueType } from './values.js';

export const MAX_LABELS = 10;
export const MAX_LABEL_LENGTH = 63;

/** Starts and ends with a letter or digit; inside also `_ . : -` (case-insensitive, as Kong). */
const BASE = /^[a-z0-9]([\w.:-]*[a-z0-9])?$/i;
/** Prefixes reserved by Kong for its own labels. */
const RESERVED_KEY_PREFIXES = ['kong', 'konnect', 'insomnia', 'mesh', 'kic'];

function checkPart(kind: 'key' | 'value', text: string): string | undefined {
  if (text === '' || text.length > MAX_LABEL_LENGTH) {
    return `label ${kind} validation failed: '${text}' must have between 1 and ${MAX_LABEL_LENGTH} characters`;
  }
  if (!BASE.test(text)) {
    return `label ${kind} validation failed: '${text}' is invalid: use letters, digits, '_', '.', ':' and '-', starting and ending with a letter or digit`;
  }
  if (kind === 'key') {
    const reserved = RESERVED_KEY_PREFIXES.find((p) => text.toLowerCase().startsWith(p));
    if (reserved) return `label key validation failed: '${text}' uses the reserved prefix '${reserved}'`;
  }
  return undefined;
}

/** Parses `k1:v1,k2:v2`; the first `:` separates key from value (values may hold more). */
export function parseDpLabels(raw: string): Parsed<Record<string, string>> {
  const entries = splitList(raw);
  if (entries.length > MAX_LABELS) {
    return fail(
      `labels validation failed: count exceeded ${MAX_LABELS} max elements (got ${entries.length})`,
      `Keep at most ${MAX_LABELS} key:value pairs.`,
    );
  }
  const labels: Record<string, string> = {};
  const errors: string[] = [];
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    const key = colon === -1 ? entry : entry.slice(0, colon);
    const value = colon === -1 ? '' : entry.slice(colon + 1);
    const problem = checkPart('key', key) ?? checkPart('value', value);
    if (problem) errors.push(problem);
    else if (Object.hasOwn(labels, key)) errors.push(`label key '${key}' is given twice`);
    else labels[key] = value;
  }
  if (errors.length > 0)
    return fail(errors.join('; '), 'Write labels as key:value pairs, e.g. region:eu-west-1,tier:edge.');
  return ok(labels);
}

export function dpLabels(): ValueType<Record<string, string>> {
  return {
    describe: `up to ${MAX_LABELS} key:value pairs`,
    parse: (raw) => parseDpLabels(raw),
    unset: () => ok({}),
  };
}
