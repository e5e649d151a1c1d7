// proxy-cache: serves repeated requests from memory (Kong's proxy-cache with the memory strategy).
import type { OutgoingHttpHeaders } from 'node:http';
import { PACKAGE_VERSION } from '../../version.js';
import { definePlugin, type PluginContext, type PluginInstance, type PluginInstanceOptions } from '../api.js';
import { buildCacheKey } from './cache-key.js';
import { numericDirective, parseDirectives, resourceTtl, type Directives } from './cache-control.js';
import { contentTypeMatcher } from './media-type.js';
import { acquireStore, type CachedResponse } from './memory-store.js';
import { schema } from './schema.js';

export interface ProxyCacheConfig {
  response_code: number[];
  request_method: string[];
  content_type: string[];
  cache_ttl: number;
  strategy: 'memory';
  cache_control: boolean;
  ignore_uri_case?: boolean | null;
  storage_ttl?: number | null;
  memory: { dictionary_name: string; dictionary_size_mb?: number | null };
  vary_query_params?: string[] | null;
  vary_headers?: string[] | null;
  response_headers: { age?: boolean; 'X-Cache-Status'?: boolean; 'X-Cache-Key'?: boolean };
}

/** `memory.dictionary_size_mb` when absent: Kong's default lua_shared_dict kong_db_cache is 128m. */
export const DEFAULT_DICTIONARY_SIZE_MB = 128;

export type CacheStatus = 'Miss' | 'Hit' | 'Bypass' | 'Refresh';

type Context = PluginContext<ProxyCacheConfig>;
type Upstream = Context['request']['upstream'];
type Clock = () => number;

// Not replayed from the cache: hop-by-hop headers, the length (the answer sets its own) and rate-limit counters.
const NOT_REPLAYED = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailers',
  'transfer-encoding',
  'upgrade',
  'content-length',
]);
const replayable = (name: string): boolean =>
  !NOT_REPLAYED.has(name) && !name.includes('ratelimit-remaining');

/** What this request's access phase decided, for the later phases (Kong's kong.ctx.plugin). */
interface RequestState {
  /** Unset after an only-if-cached miss (Kong sends no X-Cache-Status then). */
  status?: CacheStatus;
  key?: string;
  /** Set when the response should be stored: the key, then the headers and TTL once header_filter saw them. */
  pending?: { key: string; headers?: Record<string, string | string[]>; ttl?: number };
  hit?: boolean;
}
const STATE = 'proxy-cache';

function headerRecord(headers: OutgoingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value : String(value);
  return out;
}

/** Creates one plugin entity's handlers; `clock` (ms) is injectable so tests move time without waiting. */
export function createProxyCache(
  options: PluginInstanceOptions<ProxyCacheConfig>,
  clock: Clock = Date.now,
): PluginInstance<ProxyCacheConfig> {
  const conf = options.config;
  const methods = new Set(conf.request_method);
  const statuses = new Set(conf.response_code);
  const contentTypeMatches = contentTypeMatcher(conf.content_type);
  const sizeMb = conf.memory.dictionary_size_mb ?? DEFAULT_DICTIONARY_SIZE_MB;
  const { store, release } = acquireStore(conf.memory.dictionary_name, sizeMb * 1024 * 1024, clock());
  const seconds = (): number => Math.floor(clock() / 1000);

  // Diagnostic headers go out when configured, or always when the client sends Kong-Debug.
  const showHeader = (ctx: Context, name: 'age' | 'X-Cache-Status' | 'X-Cache-Key'): boolean =>
    Boolean(ctx.request.headers['kong-debug']) || conf.response_headers[name] !== false;

  const cacheableRequest = (upstream: Upstream, cc: Directives): boolean => {
    if (!methods.has(upstream.method)) return false;
    // RFC 7234 3.2: a shared cache does not answer requests carrying credentials from the cache.
    if (conf.cache_control && (cc['no-store'] || cc['no-cache'] || upstream.headers.authorization))
      return false;
    return true;
  };

  const cacheableResponse = (ctx: Context, cc: Directives): boolean => {
    if (!statuses.has(ctx.response.status)) return false;
    const contentType = ctx.response.headers['content-type'];
    if (typeof contentType !== 'string' || contentType === '' || !contentTypeMatches(contentType))
      return false;
    if (!conf.cache_control) return true;
    if (cc.private || cc['no-store'] || cc['no-cache']) return false;
    return resourceTtl(cc, ctx.response.headers.expires, seconds()) > 0;
  };

  /** Whether the client takes the stored response: its Cache-Control, else cache_ttl, decides. */
  const acceptable = (cc: Directives, res: CachedResponse): boolean => {
    const age = seconds() - res.timestamp;
    if (!conf.cache_control) return age <= conf.cache_ttl;
    const maxAge = numericDirective(cc, 'max-age');
    if (maxAge !== null && age > maxAge) return false;
    const maxStale = numericDirective(cc, 'max-stale');
    if (maxStale !== null && age - res.ttl > maxStale) return false;
    const minFresh = numericDirective(cc, 'min-fresh');
    if (minFresh !== null && res.ttl - age < minFresh) return false;
    return true;
  };

  const serve = (ctx: Context, key: string, res: CachedResponse): void => {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(res.headers))
      if (replayable(name) && name !== 'age' && name !== 'x-cache-status' && name !== 'x-cache-key')
        headers[name] = value;
    if (showHeader(ctx, 'age')) headers.age = String(seconds() - res.timestamp);
    if (showHeader(ctx, 'X-Cache-Status')) headers['x-cache-status'] = 'Hit';
    if (showHeader(ctx, 'X-Cache-Key')) headers['x-cache-key'] = key;
    ctx.state.set(STATE, { status: 'Hit', key, hit: true } satisfies RequestState);
    ctx.exit(res.status, res.body, headers);
  };

  return {
    access(ctx) {
      // Method, query and headers as earlier plugins (request-transformer) left them, the request line as
      // received: Kong reads ngx.req's current method, args and headers, and ngx.var.request.
      const request = ctx.request;
      const upstream = request.upstream;
      const cc = parseDirectives(upstream.headers['cache-control']);
      if (!cacheableRequest(upstream, cc)) {
        ctx.state.set(STATE, { status: 'Bypass' } satisfies RequestState);
        return;
      }
      const line = `${request.method} ${request.path}`;
      const key = buildCacheKey({
        consumerId: ctx.consumer?.id ?? null,
        routeId: ctx.route?.id ?? null,
        method: upstream.method,
        uri: conf.ignore_uri_case ? line.toLowerCase() : line,
        query: new URLSearchParams(upstream.query),
        headers: upstream.headers,
        varyQueryParams: conf.vary_query_params,
        varyHeaders: conf.vary_headers,
      });
      const res = store.fetch(key, clock());
      if (!res) {
        // RFC 7234 5.2.1.7: the client wants a stored response or nothing.
        if (conf.cache_control && cc['only-if-cached']) {
          ctx.state.set(STATE, { key } satisfies RequestState);
          ctx.exit(504);
          return;
        }
        ctx.state.set(STATE, { status: 'Miss', key, pending: { key } } satisfies RequestState);
        return;
      }
      if (!acceptable(cc, res)) {
        ctx.state.set(STATE, { status: 'Refresh', key, pending: { key } } satisfies RequestState);
        return;
      }
      serve(ctx, key, res);
    },

    header_filter(ctx) {
      const state = ctx.state.get(STATE) as RequestState | undefined;
      if (!state || state.hit) return;
      const pending = state.pending;
      let status = state.status;
      if (pending) {
        const cc = parseDirectives(ctx.response.headers['cache-control']);
        if (cacheableResponse(ctx, cc)) {
          pending.ttl = conf.cache_control
            ? resourceTtl(cc, ctx.response.headers.expires, seconds())
            : conf.cache_ttl;
        } else {
          status = 'Bypass';
          delete state.pending;
        }
      }
      if (state.key !== undefined && showHeader(ctx, 'X-Cache-Key'))
        ctx.response.setHeader('x-cache-key', state.key);
      if (status && showHeader(ctx, 'X-Cache-Status')) ctx.response.setHeader('x-cache-status', status);
      if (state.pending) state.pending.headers = headerRecord(ctx.response.headers);
    },

    body_filter(ctx, body) {
      const pending = (ctx.state.get(STATE) as RequestState | undefined)?.pending;
      if (!pending?.headers || pending.ttl === undefined) return undefined;
      const res: CachedResponse = {
        status: ctx.response.status,
        headers: pending.headers,
        body: Buffer.from(body),
        timestamp: seconds(),
        ttl: pending.ttl,
      };
      const ttl = conf.storage_ttl ?? (conf.cache_control ? pending.ttl : conf.cache_ttl);
      if (!store.store(pending.key, res, ttl, clock()))
        ctx.log.warn(`[proxy-cache] response of ${body.length} bytes does not fit in the cache`);
      return undefined;
    },

    close() {
      release();
    },
  };
}

export default definePlugin<ProxyCacheConfig>({
  name: 'proxy-cache',
  version: PACKAGE_VERSION,
  priority: 100,
  schema,
  init: (options) => createProxyCache(options),
});
