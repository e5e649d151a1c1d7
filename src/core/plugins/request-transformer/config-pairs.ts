// The `name:value` entries of the transformer plugins' configs, and Kong's rule for appending a value.

export interface ConfigPair {
  name: string;
  /** Undefined when nothing follows the colon (Kong reads an empty value as nil). */
  value: string | undefined;
}

// Kong's Lua pattern `^([^:]+):*(.-)$`: the name runs to the first colon, the colons after it are skipped.
const PAIR = /^([^:]+):*(.*)$/s;

/** Splits one config entry; null when it has no name (Kong skips such an entry with an error). */
export function parsePair(entry: string): ConfigPair | null {
  const m = PAIR.exec(entry);
  if (!m) return null;
  return { name: m[1]!, value: m[2] === '' ? undefined : m[2] };
}

/** The entries of a config list that have a name, with their position in the list (json_types are by position). */
export function* pairsOf(
  entries: readonly string[] | null | undefined,
): Generator<ConfigPair & { index: number }> {
  if (!entries) return;
  for (let index = 0; index < entries.length; index += 1) {
    const pair = parsePair(entries[index]!);
    if (pair) yield { ...pair, index };
  }
}

/**
 * Kong's `append_value`: a string becomes a list of it and the new value, a list gets the value at its end,
 * anything else (absent, a number, an object…) is replaced by a one-element list.
 */
export function appendValue<T>(current: unknown, value: T): unknown[] {
  if (typeof current === 'string') return [current, value];
  if (Array.isArray(current)) return [...(current as unknown[]), value];
  return [value];
}
