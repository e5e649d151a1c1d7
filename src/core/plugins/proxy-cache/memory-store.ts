// proxy-cache's memory strategy: cached responses in a byte-bounded LRU with per-entry TTLs, shared by name.

/** A stored response (Kong's cache entry without its version and request body). */
export interface CachedResponse {
  status: number;
  /** Lowercase names, as the response carried them when it was stored. */
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** Seconds since the epoch when it was stored. */
  timestamp: number;
  /** Its freshness lifetime in seconds (cache_ttl, or what Cache-Control said). */
  ttl: number;
}

interface Entry {
  response: CachedResponse;
  /** ms since the epoch; Infinity when stored without a TTL. */
  expiresAt: number;
  bytes: number;
}

/** Bookkeeping counted per entry on top of key, headers and body (object and Map overhead). */
export const ENTRY_OVERHEAD_BYTES = 256;

function entryBytes(key: string, response: CachedResponse): number {
  let bytes = ENTRY_OVERHEAD_BYTES + Buffer.byteLength(key) + response.body.length;
  for (const [name, value] of Object.entries(response.headers))
    for (const one of Array.isArray(value) ? value : [value]) bytes += name.length + Buffer.byteLength(one);
  return bytes;
}

/**
 * At most `maxBytes` of responses. Like the nginx shared dict behind Kong's memory strategy, a full cache makes
 * room by dropping the least recently used entries, and an entry larger than the whole cache is not stored.
 */
export class MemoryStore {
  // A Map iterates in insertion order: re-inserting on every hit keeps the least recently used first.
  private readonly entries = new Map<string, Entry>();
  private used = 0;

  constructor(private maxBytes: number) {}

  get bytes(): number {
    return this.used;
  }

  get count(): number {
    return this.entries.size;
  }

  get capacity(): number {
    return this.maxBytes;
  }

  fetch(key: string, nowMs: number): CachedResponse | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= nowMs) {
      this.used -= entry.bytes;
      return undefined;
    }
    this.entries.set(key, entry);
    return entry.response;
  }

  /** Stores for `ttlSeconds` (0 or less: until evicted, as a shared dict's exptime 0); false when it cannot fit. */
  store(key: string, response: CachedResponse, ttlSeconds: number, nowMs: number): boolean {
    this.purge(key);
    const bytes = entryBytes(key, response);
    if (bytes > this.maxBytes) return false;
    this.evictUntilFree(bytes, nowMs);
    this.entries.set(key, {
      response,
      expiresAt: ttlSeconds > 0 ? nowMs + ttlSeconds * 1000 : Infinity,
      bytes,
    });
    this.used += bytes;
    return true;
  }

  purge(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.used -= entry.bytes;
  }

  /** Changes the bound; shrinking drops the least recently used entries until the rest fit. */
  resize(maxBytes: number, nowMs: number): void {
    this.maxBytes = maxBytes;
    this.evictUntilFree(0, nowMs);
  }

  private evictUntilFree(needed: number, nowMs: number): void {
    if (this.used + needed <= this.maxBytes) return;
    // Expired entries go first, wherever they are in the order; then the least recently used.
    for (const [key, entry] of this.entries) if (entry.expiresAt <= nowMs) this.purge(key);
    for (const key of this.entries.keys()) {
      if (this.used + needed <= this.maxBytes) return;
      this.purge(key);
    }
  }
}

const dictionaries = new Map<string, { store: MemoryStore; holders: number }>();

/**
 * The store named `memory.dictionary_name`, shared by every proxy-cache plugin entity that names it (Kong's
 * entities share the nginx dict the same way) and kept across configuration changes while any holds it. The
 * latest holder's size applies. `release` when the plugin instance closes; the last release frees the memory.
 */
export function acquireStore(
  name: string,
  maxBytes: number,
  nowMs: number,
): { store: MemoryStore; release: () => void } {
  let dictionary = dictionaries.get(name);
  if (!dictionary) {
    dictionary = { store: new MemoryStore(maxBytes), holders: 0 };
    dictionaries.set(name, dictionary);
  } else if (dictionary.store.capacity !== maxBytes) dictionary.store.resize(maxBytes, nowMs);
  dictionary.holders += 1;
  const held = dictionary;
  let released = false;
  return {
    store: held.store,
    release() {
      if (released) return;
      released = true;
      held.holders -= 1;
      if (held.holders === 0 && dictionaries.get(name) === held) dictionaries.delete(name);
    },
  };
}
