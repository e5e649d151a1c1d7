// Bodies that plugins read or rewrite only when they are a JSON object (Kong leaves other JSON alone).

/** The object a JSON text holds; `invalid` when it is not JSON, `other` when it is JSON but not an object. */
export function jsonObject(text: string): Record<string, unknown> | 'invalid' | 'other' {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'invalid';
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : 'other';
}
