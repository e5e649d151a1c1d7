// The `redis` policy: counters in a Redis every data plane shares, counted by a Lua script, one call per
// event-loop turn for the requests of that turn (usage-batch.ts).
import { Redis } from 'ioredis';
import { UsageBatcher } from './usage-batch.js';

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
 * Kong's realtime counting (sync_rate -1) for a batch of requests: each key counts its requests (ARGV: the
 * increment, then the key's expiry, per key) and answers its count before them. The script is atomic, so nodes
 * racing on one key still enforce the sum; a new key expires after its period.
 */
const USAGE_SCRIPT = `
local usage = {}
for i, key in ipairs(KEYS) do
  local n = tonumber(ARGV[2 * i - 1])
  local count = redis.call('incrby', key, n)
  if count == n then
    redis.call('expire', key, ARGV[2 * i])
  end
  usage[i] = count - n
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
  private readonly batches: UsageBatcher;
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
      retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    }) as ScriptedRedis;
    this.client.defineCommand('rateLimitUsage', { lua: USAGE_SCRIPT });
    this.batches = new UsageBatcher((keys, increments, ttls) => {
      const args: (string | number)[] = [keys.length, ...keys];
      for (let i = 0; i < keys.length; i++) args.push(increments[i]!, ttls[i]!);
      return this.client.rateLimitUsage(...args);
    });
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
    return this.batches.usage(keys, ttlSeconds);
  }

  close(): void {
    this.client.disconnect();
  }
}
