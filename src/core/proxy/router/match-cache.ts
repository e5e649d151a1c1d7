// A bounded cache of recent routing answers: two generations of Maps, an approximate LRU without per-hit reordering.

/**
 * Holds at most `2 × capacity` keys. Writes go to the young generation; when it is full it becomes the old one
 * and the previous old one is dropped. A hit in the old generation is promoted, so hot keys survive.
 */
export class MatchCache<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();

  constructor(private readonly capacity: number) {}

  get(key: string): V | undefined {
    const value = this.young.get(key);
    if (value !== undefined) return value;
    const aged = this.old.get(key);
    if (aged !== undefined) this.set(key, aged);
    return aged;
  }

  set(key: string, value: V): void {
    if (this.young.size >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}
