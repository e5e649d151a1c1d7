// Resources shared by the plugin instances that name the same key (counters of one plugin entity, one Redis
// connection per Redis configuration): created by the first instance, released with the last.

export class SharedResources<T> {
  private readonly entries = new Map<string, { value: T; users: number }>();

  constructor(private readonly dispose: (value: T) => void = () => {}) {}

  /** The resource for `key`, made by `create` on first use; pair every call with one `release(key)`. */
  acquire(key: string, create: () => T): T {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { value: create(), users: 0 };
      this.entries.set(key, entry);
    }
    entry.users++;
    return entry.value;
  }

  release(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    if (--entry.users > 0) return;
    this.entries.delete(key);
    this.dispose(entry.value);
  }

  get size(): number {
    return this.entries.size;
  }
}
