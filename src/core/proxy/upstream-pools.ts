// Keep-alive connection pools to upstream targets (undici Pool), one per target and connection settings,
// sized by upstream_keepalive_*; pools of targets gone from the configuration close once their requests end.
import { Pool } from 'undici';

export interface PoolSettings {
  /** upstream_keepalive_pool_size: connections per target (Kong's default 512); 0 turns keep-alive off. */
  poolSize: number;
  /** upstream_keepalive_max_requests: requests per connection before it is closed; 0 = unlimited. */
  maxRequests: number;
  /** upstream_keepalive_idle_timeout in seconds; 0 = no limit. */
  idleTimeoutSec: number;
}

export interface PoolTarget {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  connectTimeoutMs: number;
  /** https: verify the upstream's certificate (the service's tls_verify). */
  tlsVerify: boolean;
  /** https: the TLS server name to send, or null (IP targets). */
  servername: string | null;
}

/** Connections are opened on demand, so a large pool costs nothing until the concurrency needs it. */
const CONNECTIONS_WITHOUT_KEEPALIVE = 512;
/** "No limit" for idle connections: a day. */
const NO_IDLE_LIMIT_MS = 86_400_000;

export class UpstreamPools {
  private readonly pools = new Map<string, { pool: Pool; address: string }>();

  constructor(private readonly settings: PoolSettings) {}

  /** The pool for a target; created on first use. */
  get(target: PoolTarget): Pool {
    const key = poolKey(target);
    const entry = this.pools.get(key);
    if (entry) return entry.pool;
    const pool = this.create(target);
    this.pools.set(key, { pool, address: `${target.host}:${target.port}` });
    return pool;
  }

  /**
   * Closes the pools of targets (`host:port`) not in `live`: new requests get new pools, requests in
   * flight on the old ones finish first (undici's close is graceful).
   */
  retain(live: ReadonlySet<string>): void {
    for (const [key, entry] of this.pools) {
      if (live.has(entry.address)) continue;
      this.pools.delete(key);
      void entry.pool.close().catch(() => undefined);
    }
  }

  get size(): number {
    return this.pools.size;
  }

  /** Closes every pool; requests in flight end with an error. */
  async destroy(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((e) => e.pool.destroy().catch(() => undefined)));
  }

  private create(target: PoolTarget): Pool {
    const { poolSize, maxRequests, idleTimeoutSec } = this.settings;
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    const keepAliveMs = idleTimeoutSec === 0 ? NO_IDLE_LIMIT_MS : idleTimeoutSec * 1000;
    return new Pool(`${target.scheme}://${host}:${target.port}`, {
      connections: poolSize === 0 ? CONNECTIONS_WITHOUT_KEEPALIVE : poolSize,
      // pipelining 0 closes each connection after its request: keep-alive off.
      pipelining: poolSize === 0 ? 0 : 1,
      keepAliveTimeout: keepAliveMs,
      keepAliveMaxTimeout: keepAliveMs,
      maxRequestsPerClient: maxRequests === 0 ? undefined : maxRequests,
      connect: {
        timeout: target.connectTimeoutMs,
        ...(target.scheme === 'https'
          ? {
              rejectUnauthorized: target.tlsVerify,
              servername: target.servername ?? undefined,
            }
          : {}),
      },
    });
  }
}

function poolKey(t: PoolTarget): string {
  return t.scheme === 'https'
    ? `https ${t.host} ${t.port} ${t.connectTimeoutMs} ${t.tlsVerify ? 1 : 0} ${t.servername ?? ''}`
    : `http ${t.host} ${t.port} ${t.connectTimeoutMs}`;
}
