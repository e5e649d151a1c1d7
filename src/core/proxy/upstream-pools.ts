// Keep-alive connection pools to upstream targets, one per target and connection settings (TLS included), sized
// by upstream_keepalive_*; pools of targets or TLS settings gone from the configuration close once their
// requests end.
import { UpstreamPool, type KeepaliveSettings, type UpstreamTarget } from './upstream-client.js';

export type PoolSettings = KeepaliveSettings;
export type PoolTarget = UpstreamTarget;

export class UpstreamPools {
  private readonly pools = new Map<string, { pool: UpstreamPool; address: string; tls: string | null }>();

  constructor(private readonly settings: PoolSettings) {}

  /** The pool for a target; created on first use. */
  get(target: PoolTarget): UpstreamPool {
    const key = poolKey(target);
    const entry = this.pools.get(key);
    if (entry) return entry.pool;
    const pool = new UpstreamPool(target, this.settings);
    this.pools.set(key, { pool, address: `${target.host}:${target.port}`, tls: target.tls?.key ?? null });
    return pool;
  }

  /**
   * Closes the pools of targets (`host:port`) not in `live`, and https pools whose TLS key is not in `liveTls`
   * (a CA or client certificate changed): new requests get new pools, requests in flight on the old ones
   * finish first.
   */
  retain(live: ReadonlySet<string>, liveTls: ReadonlySet<string>): void {
    for (const [key, entry] of this.pools) {
      if (live.has(entry.address) && (entry.tls === null || liveTls.has(entry.tls))) continue;
      this.pools.delete(key);
      entry.pool.close();
    }
  }

  get size(): number {
    return this.pools.size;
  }

  /** Closes every pool; requests in flight end with an error. */
  destroy(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    for (const entry of all) entry.pool.destroy();
    return Promise.resolve();
  }
}

function poolKey(t: PoolTarget): string {
  return t.scheme === 'https'
    ? `https ${t.host} ${t.port} ${t.connectTimeoutMs} ${t.servername ?? ''} ${t.tls?.key ?? ''}`
    : `http ${t.host} ${t.port} ${t.connectTimeoutMs}`;
}
