// rate-limiting: counts requests per second…year by consumer, credential, IP, service, header or path and
// answers 429 beyond a limit, with the local (this node's memory) or redis (shared by every data plane) policy.
import { PACKAGE_VERSION } from '../../version.js';
import { definePlugin, type PluginContext, type PluginDefinition, type PluginLog } from '../api.js';
import { LocalCounters } from './local-policy.js';
import { PERIODS, PERIOD_SECONDS, PeriodWindows, secondsToReset, type Period } from './periods.js';
import { RedisConnection, redisConnectionKey, type RedisSettings } from './redis-policy.js';
import { schema } from './schema.js';
import { SharedResources } from './shared-resources.js';
import { ThrottledLog } from './throttled-log.js';

export interface RateLimitingConfig {
  second?: number | null;
  minute?: number | null;
  hour?: number | null;
  day?: number | null;
  month?: number | null;
  year?: number | null;
  limit_by: 'consumer' | 'credential' | 'ip' | 'service' | 'header' | 'path' | 'consumer-group';
  header_name?: string | null;
  path?: string | null;
  policy: 'local' | 'cluster' | 'redis';
  fault_tolerant: boolean;
  redis: RedisSettings;
  hide_client_headers: boolean;
  error_code: number;
  error_message: string;
  /** Accepted for compatibility; counting is always synchronous (Kong's sync_rate -1). */
  sync_rate: number;
}

export interface RateLimitingOptions {
  /** Epoch ms; tests move time without waiting. */
  now?: () => number;
  /** How often the same Redis trouble may be logged. */
  errorLogIntervalMs?: number;
}

/** One configured limit with its header names worked out once per configuration. */
interface Limit {
  period: Period;
  limit: number;
  /** `limit` as sent in headers. */
  limitText: string;
  /** Lowercase, as the proxy's header maps hold names (the same string every time). */
  limitHeader: string;
  remainingHeader: string;
}

/** Counts before this request, one per limit; the redis policy also counts this request while reading. */
interface Policy {
  usage(identifier: string, starts: readonly number[]): readonly number[] | Promise<readonly number[]>;
  /** Counts a request let through (the local policy; redis counted it in `usage`). */
  passed(identifier: string, starts: readonly number[]): void;
  close(): void;
}

const HEADERS = 'rate-limiting.headers';
const UNEXPECTED = { message: 'An unexpected error occurred' };

const capitalized = (period: Period) => period[0]!.toUpperCase() + period.slice(1);

/** Kong's spelling of the header names, for a 429's headers (the proxy's response headers are lowercase). */
const KONG_NAMES = new Map<string, string>([
  ['ratelimit-limit', 'RateLimit-Limit'],
  ['ratelimit-remaining', 'RateLimit-Remaining'],
  ['ratelimit-reset', 'RateLimit-Reset'],
  ...PERIODS.flatMap((period): [string, string][] => [
    [`x-ratelimit-limit-${period}`, `X-RateLimit-Limit-${capitalized(period)}`],
    [`x-ratelimit-remaining-${period}`, `X-RateLimit-Remaining-${capitalized(period)}`],
  ]),
]);

function configuredLimits(config: RateLimitingConfig): Limit[] {
  return PERIODS.filter((period) => typeof config[period] === 'number').map((period) => ({
    period,
    limit: config[period] as number,
    limitText: String(config[period]),
    limitHeader: `x-ratelimit-limit-${period}`,
    remainingHeader: `x-ratelimit-remaining-${period}`,
  }));
}

/** Who the request counts for, as Kong's get_identifier: the chosen key, else the client's IP. */
export function rateLimitIdentifier(config: RateLimitingConfig, ctx: PluginContext<unknown>): string {
  let identifier: string | undefined;
  switch (config.limit_by) {
    case 'consumer':
      identifier = (ctx.consumer ?? ctx.credential)?.id;
      break;
    case 'credential':
      identifier = ctx.credential?.id;
      break;
    case 'service':
      identifier = ctx.service?.id;
      break;
    case 'header': {
      const value = config.header_name ? ctx.request.headers[config.header_name.toLowerCase()] : undefined;
      identifier = Array.isArray(value) ? value[0] : value;
      break;
    }
    case 'path':
      if (ctx.request.path === config.path) identifier = config.path;
      break;
    // 'ip'; 'consumer-group' counts by IP too: consumers carry no groups in this build.
  }
  return identifier ?? ctx.request.clientIp;
}

/** Seconds as header text; the few values in use at a time are kept, a reset changes once a second. */
const resetTexts = new Map<number, string>();
function resetText(seconds: number): string {
  let text = resetTexts.get(seconds);
  if (text === undefined) {
    if (resetTexts.size >= 1024) resetTexts.clear();
    text = String(seconds);
    resetTexts.set(seconds, text);
  }
  return text;
}

/** Response headers as a flat list, name then value: cheaper to build and apply per request than an object. */
type HeaderList = string[];

/**
 * Kong's headers and decision from the counts: `stop` when any window is used up. RateLimit-* describe the most
 * constrained window (fewest remaining, the longer window on a tie); Reset is that window's seconds left.
 */
function evaluate(
  limits: readonly Limit[],
  used: readonly number[],
  starts: readonly number[],
  now: number,
  withHeaders: boolean,
): { stop: boolean; headers: HeaderList | null; reset: number | undefined } {
  let stopAt = -1;
  for (let i = 0; i < limits.length; i++) if (limits[i]!.limit - used[i]! <= 0) stopAt = i;
  if (!withHeaders) return { stop: stopAt !== -1, headers: null, reset: undefined };
  const headers: HeaderList = [];
  let chosen = 0;
  let chosenRemaining = Infinity;
  let chosenText = '';
  for (let i = 0; i < limits.length; i++) {
    const limit = limits[i]!;
    let remaining = limit.limit - used[i]!;
    if (stopAt === -1 || stopAt === i) remaining -= 1;
    remaining = Math.max(0, remaining);
    const text = String(remaining);
    // Periods run from shortest to longest, so `<=` prefers the longer window on a tie.
    if (remaining <= chosenRemaining) {
      chosen = i;
      chosenRemaining = remaining;
      chosenText = text;
    }
    headers.push(limit.limitHeader, limit.limitText, limit.remainingHeader, text);
  }
  const reset = secondsToReset(limits[chosen]!.period, starts[chosen]!, now);
  headers.push(
    'ratelimit-limit',
    limits[chosen]!.limitText,
    'ratelimit-remaining',
    chosenText,
    'ratelimit-reset',
    resetText(reset),
  );
  return { stop: stopAt !== -1, headers, reset };
}

/** The plugin with its own clock and its own node-wide state (counters, Redis connections). */
export function createRateLimiting(options: RateLimitingOptions = {}): PluginDefinition<RateLimitingConfig> {
  const now = options.now ?? Date.now;
  const errorLogIntervalMs = options.errorLogIntervalMs ?? 10_000;
  // Keyed by plugin id so counts survive configuration versions (each version makes new instances).
  const localCounters = new SharedResources<LocalCounters>();
  const redisConnections = new SharedResources<RedisConnection>((connection) => connection.close());

  function localPolicy(pluginId: string, limits: readonly Limit[]): Policy {
    const counters = localCounters.acquire(pluginId, () => new LocalCounters());
    return {
      usage(identifier, starts) {
        const used = new Array<number>(limits.length);
        for (let i = 0; i < limits.length; i++)
          used[i] = counters.usage(limits[i]!.period, starts[i]!, identifier);
        return used;
      },
      passed(identifier, starts) {
        for (let i = 0; i < limits.length; i++) counters.increment(limits[i]!.period, starts[i]!, identifier);
      },
      close: () => localCounters.release(pluginId),
    };
  }

  function redisPolicy(
    pluginId: string,
    limits: readonly Limit[],
    settings: RedisSettings,
    log: PluginLog,
  ): Policy {
    const key = redisConnectionKey(settings);
    const connectionErrors = new ThrottledLog(log, errorLogIntervalMs, now);
    const connection = redisConnections.acquire(
      key,
      () => new RedisConnection(settings, (message) => connectionErrors.error(`[rate-limiting] ${message}`)),
    );
    const ttls = limits.map((l) => PERIOD_SECONDS[l.period]);
    // Kong's key, `ratelimit:<plugin>:<identifier>:<window start>:<period>`, from parts kept while a window lasts.
    const prefix = `ratelimit:${pluginId}:`;
    const suffixStarts = limits.map(() => -1);
    const suffixes = limits.map(() => '');
    return {
      usage(identifier, starts) {
        const keys = new Array<string>(limits.length);
        for (let i = 0; i < limits.length; i++) {
          if (suffixStarts[i] !== starts[i]) {
            suffixStarts[i] = starts[i]!;
            suffixes[i] = `:${starts[i]}:${limits[i]!.period}`;
          }
          keys[i] = prefix + identifier + suffixes[i];
        }
        return connection.usage(keys, ttls);
      },
      passed() {},
      close: () => redisConnections.release(key),
    };
  }

  return definePlugin<RateLimitingConfig>({
    name: 'rate-limiting',
    version: PACKAGE_VERSION,
    priority: 910,
    schema,
    init({ config, pluginId, log }) {
      const limits = configuredLimits(config);
      const windows = new PeriodWindows();
      const usageErrors = new ThrottledLog(log, errorLogIntervalMs, now);
      // Only a configuration written where `cluster` was offered (a node with a database, before it became a
      // control plane) gets here: data planes have no database, so each counts on its own.
      if (config.policy === 'cluster')
        log.warn(
          `[rate-limiting] plugin ${pluginId}: policy 'cluster' needs the node's database, which a data plane does not have; counting with 'local' (per data plane). Set policy to local or redis on the control plane.`,
        );
      const policy =
        config.policy === 'redis'
          ? redisPolicy(pluginId, limits, config.redis, log)
          : localPolicy(pluginId, limits);
      const withHeaders = !config.hide_client_headers;

      const decide = (
        ctx: PluginContext<RateLimitingConfig>,
        identifier: string,
        starts: readonly number[],
        at: number,
        used: readonly number[],
      ) => {
        const { stop, headers, reset } = evaluate(limits, used, starts, at, withHeaders);
        if (stop) {
          // Retry-After comes with the other headers only (Kong: none when they are hidden).
          const exitHeaders: Record<string, string> = {};
          if (headers)
            for (let i = 0; i < headers.length; i += 2)
              exitHeaders[KONG_NAMES.get(headers[i]!) ?? headers[i]!] = headers[i + 1]!;
          if (reset !== undefined) exitHeaders['Retry-After'] = String(reset);
          ctx.exit(config.error_code, { message: config.error_message }, exitHeaders);
          return;
        }
        policy.passed(identifier, starts);
        if (headers) ctx.state.set(HEADERS, headers);
      };

      const failed = (ctx: PluginContext<RateLimitingConfig>, err: unknown) => {
        const reason = err instanceof Error ? err.message : String(err);
        if (config.fault_tolerant) {
          usageErrors.error(`[rate-limiting] failed to get usage: ${reason}`);
          return;
        }
        usageErrors.error(`[rate-limiting] ${reason}`);
        ctx.exit(500, UNEXPECTED);
      };

      return {
        access(ctx) {
          // Kong counts in whole seconds (ngx.time()).
          const ms = now();
          const at = ms - (ms % 1000);
          const identifier = rateLimitIdentifier(config, ctx);
          const starts = new Array<number>(limits.length);
          for (let i = 0; i < limits.length; i++) starts[i] = windows.start(limits[i]!.period, at);
          let used: readonly number[] | Promise<readonly number[]>;
          try {
            used = policy.usage(identifier, starts);
          } catch (err) {
            failed(ctx, err);
            return;
          }
          if (!(used instanceof Promise)) {
            decide(ctx, identifier, starts, at, used);
            return;
          }
          return used.then(
            (counts) => decide(ctx, identifier, starts, at, counts),
            (err: unknown) => failed(ctx, err),
          );
        },
        header_filter(ctx) {
          const headers = ctx.state.get(HEADERS) as HeaderList | undefined;
          if (headers)
            for (let i = 0; i < headers.length; i += 2) ctx.response.setHeader(headers[i]!, headers[i + 1]);
        },
        close: () => policy.close(),
      };
    },
  });
}

export default createRateLimiting();
