// Kong's form conventions: `paths[]=/a`, `paths[2]=/b`, `config.minute=5`, repeated keys as arrays.

/** A form key that cannot be turned into a consistent object (e.g. `a=1` and `a.b=2`). */
export class FormDecodeError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'FormDecodeError';
  }
}

/** Limits that keep a hostile form from building huge sparse arrays or deep objects. */
export const FORM_LIMITS = {
  /** Highest explicit index accepted in `a[N]` (Kong's Lua arrays are 1-based). */
  maxIndex: 1000,
  /** Deepest `a.b.c…` nesting accepted. */
  maxDepth: 16,
} as const;

type Container = Record<string, unknown>;

/** Own-property assignment: a key such as `__proto__` becomes a plain (unknown) field, never a prototype. */
function setOwn(target: Container, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function isPlainObject(value: unknown): value is Container {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface KeyStep {
  name: string;
  /** `[]` → append; `[N]` → position N (1-based); absent → plain key. */
  index?: number | 'append';
}

/** Parses `config.key_names[]` / `paths[2]` / `a.b` into steps; keys starting or ending with '.' stay literal. */
export function parseFormKey(key: string): KeyStep[] {
  if (key.startsWith('.') || key.endsWith('.')) return [{ name: key }];
  const names = key.split('.').filter((n) => n !== '');
  if (names.length === 0) return [{ name: key }];
  if (names.length > FORM_LIMITS.maxDepth)
    throw new FormDecodeError(key, `form key nests deeper than ${FORM_LIMITS.maxDepth} levels`);
  return names.map((part) => {
    const m = /^(.+?)\[(\d*)\]$/.exec(part);
    if (!m) return { name: part };
    const index = m[2] === '' ? 'append' : Number(m[2]);
    if (index !== 'append' && (index < 1 || index > FORM_LIMITS.maxIndex))
      throw new FormDecodeError(key, `array index must be between 1 and ${FORM_LIMITS.maxIndex}`);
    return { name: m[1]!, index };
  });
}

function assignLeaf(container: Container, step: KeyStep, value: string, key: string): void {
  const existing = Object.prototype.hasOwnProperty.call(container, step.name)
    ? container[step.name]
    : undefined;
  if (step.index === undefined) {
    if (existing === undefined) setOwn(container, step.name, value);
    else if (Array.isArray(existing)) existing.push(value);
    else if (typeof existing === 'string') setOwn(container, step.name, [existing, value]);
    else throw new FormDecodeError(key, `'${step.name}' is given both as an object and as a value`);
    return;
  }
  let list: unknown[];
  if (existing === undefined) {
    list = [];
    setOwn(container, step.name, list);
  } else if (Array.isArray(existing)) {
    list = existing;
  } else if (typeof existing === 'string') {
    list = [existing];
    setOwn(container, step.name, list);
  } else {
    throw new FormDecodeError(key, `'${step.name}' is given both as an object and as a list`);
  }
  if (step.index === 'append') list.push(value);
  else list[step.index - 1] = value;
}

function descend(container: Container, step: KeyStep, key: string): Container {
  if (step.index !== undefined)
    throw new FormDecodeError(key, `'${step.name}[]' cannot be followed by a '.field'`);
  const existing = Object.prototype.hasOwnProperty.call(container, step.name)
    ? container[step.name]
    : undefined;
  if (existing === undefined) {
    const child: Container = {};
    setOwn(container, step.name, child);
    return child;
  }
  if (isPlainObject(existing)) return existing;
  throw new FormDecodeError(key, `'${step.name}' is given both as a value and as an object`);
}

/** Removes holes left by `a[3]=x` without `a[1]`, `a[2]`, so arrays stay dense. */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((_, i) => i in value).map(compact);
  if (isPlainObject(value)) {
    for (const k of Object.keys(value)) setOwn(value, k, compact(value[k]));
  }
  return value;
}

/**
 * Turns ordered `key=value` pairs (urlencoded or multipart) into a nested object the way Kong's
 * Admin API does. Values stay strings; `inferTypes` coerces them by schema afterwards.
 */
export function decodeForm(pairs: Iterable<[string, string]>): Record<string, unknown> {
  const root: Container = {};
  for (const [key, value] of pairs) {
    const steps = parseFormKey(key);
    let container = root;
    for (let i = 0; i < steps.length - 1; i++) container = descend(container, steps[i]!, key);
    assignLeaf(container, steps[steps.length - 1]!, value, key);
  }
  return compact(root) as Record<string, unknown>;
}
