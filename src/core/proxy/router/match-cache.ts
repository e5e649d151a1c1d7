// A bounded cache of recent routing answers: two generations of nested Maps, an approximate LRU without reordering.

/** A cache key in parts, most selective first; parts are looked up as they are (no string is built per request). */
export type CacheKey = readonly [
  path: string,
  host: string,
  method: string,
  portAndProtocol: number,
  rest: string,
];

type Level = Map<string | number, unknown>;

/**
 * Holds at most `2 × capacity` answers. Writes go to the young generation; when it is full it becomes the old
 * one and the previous old one is dropped. A hit in the old generation is promoted, so hot keys survive.
 * Nested Maps keyed by the request's own strings avoid concatenating (and hashing) a fresh key string per
 * lookup, which measured costlier than the routing it saves.
 */
export class MatchCache<V> {
  private young: Level = new Map();
  private youngSize = 0;
  private old: Level = new Map();

  constructor(private readonly capacity: number) {}

  get(key: CacheKey): V | undefined {
    const value = lookup<V>(this.young, key);
    if (value !== undefined) return value;
    const aged = lookup<V>(this.old, key);
    if (aged !== undefined) this.set(key, aged);
    return aged;
  }

  set(key: CacheKey, value: V): void {
    if (this.youngSize >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
      this.youngSize = 0;
    }
    let level = this.young;
    for (let i = 0; i < key.length - 1; i += 1) {
      let next = level.get(key[i]!) as Level | undefined;
      if (!next) {
        next = new Map();
        level.set(key[i]!, next);
      }
      level = next;
    }
    if (!level.has(key[key.length - 1]!)) this.youngSize += 1;
    level.set(key[key.length - 1]!, value);
  }
}

function lookup<V>(root: Level, key: CacheKey): V | undefined {
  let node: unknown = root;
  for (let i = 0; i < key.length; i += 1) {
    node = (node as Level).get(key[i]!);
    if (node === undefined) return undefined;
  }
  return node as V;
}
