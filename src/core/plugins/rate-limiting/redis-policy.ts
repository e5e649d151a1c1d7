// The `redis` policy: counters in a Redis every data plane shares, one round trip (a Lua script) per request.
import { Redis } from 'ioredis';

/** The plugin's `config.redis` record (Kong 3's fields; legacy `redis_*` names are mapped by the schema). */
export interface RedisSettings {
  host: string;
  port: number;
  username?: string | null;
  password?: string | null;
  database: number;
  /** ms, for connecting and for each command; 0 waits without limit. */
  timeout: number;
  ssl: boolean;
  ssl_verify: boolean;
  server_name?: string | null;
}

/**
 * Kong's realtime script (sync_rate -1) for every limited period at once: count this request and answer the count
 * before it. INCR is atomic, so nodes racing on one key still enforce the sum; a new key expires after its period.
 */
const USAGE_SCRIPT = `
local usage = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('incr', key)
  if count == 1 then
    redis.call('expire', key, ARGV[i])
  end
  usage[i] = count - 1
end
return usage
`;

type ScriptedRedis = Redis & { rateLimitUsage(...args: (string | number)[]): Promise<number[]> };

/** One connection per distinct Redis configuration on this node; the key says which. */
export function redisConnectionKey(settings: RedisSettings): string {
  const { host, port, username, password, database, timeout, ssl, ssl_verify, server_name } = settings;
  return JSON.stringify([host, port, username, password, database, timeout, ssl, ssl_verify, server_name]);
}

/** Shown by CLIENT LIST, so operators can tell these connections apart. */
export const REDIS_CONNECTION_NAME = 'hybrid-rate-limiting';

export class RedisConnection {
  private readonly client: ScriptedRedis;
  private lastError = 'not connected';

  constructor(settings: RedisSettings, onError: (message: string) => void) {
    const timeout = settings.timeout > 0 ? settings.timeout : undefined;
    this.client = new Redis({
      host: settings.host,
      port: settings.port,
      username: settings.username ?? undefined,
      password: settings.password ?? undefined,
      db: settings.database,
      connectionName: REDIS_CONNECTION_NAME,
      connectTimeout: timeout,
      commandTimeout: timeout,
      tls: settings.ssl
        ? { rejectUnauthorized: settings.ssl_verify, servername: settings.server_name ?? settings.host }
        : undefined,
      // A command waits for at most one connection attempt; while reconnecting, usage() fails at once instead.
      maxRetriesPerRequest: 0,
      // Requests counted in the same event-loop turn share one write to Redis (one round trip for many).
      enableAutoPipelining: true,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    }) as ScriptedRedis;
    this.client.defineCommand('rateLimitUsage', { lua: USAGE_SCRIPT });
    this.client.on('error', (err: Error) => {
      this.lastError = err.message;
      onError(`Redis ${settings.host}:${settings.port}: ${err.message}`);
    });
  }

  /**
   * Counts this request in each key and answers the counts before it. `ttlSeconds[i]` is the expiry of `keys[i]`.
   * Rejects at once while the connection is down between reconnect attempts, so requests do not queue behind it.
   */
  usage(keys: readonly string[], ttlSeconds: readonly number[]): Promise<number[]> {
    const status = this.client.status;
    if (status === 'reconnecting' || status === 'close' || status === 'end')
      return Promise.reject(new Error(`Redis is unreachable (${this.lastError})`));
    return this.client.rateLimitUsage(keys.length, ...keys, ...ttlSeconds);
  }

  close(): void {
    this.client.disconnect();
  }
}
