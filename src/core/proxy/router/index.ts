// The data plane's router: Kong's traditional route matching and priorities, built once per configuration version.
import type {
  DeclarativeConfig,
  RouteCaptures,
  RouteEntity,
  RouteMatch,
  RouteRequest,
  Router,
  ServiceEntity,
} from '../types.js';
import { MatchCache, type CacheKey } from './match-cache.js';
import { escapePath, normalizePath } from './normalize.js';
import {
  compareEntries,
  compileRoute,
  matchEntry,
  type EntryHit,
  type RequestView,
  type RouteEntry,
} from './route-entry.js';
import { RouteIndex } from './route-index.js';
import { sanitizePostfix, upstreamPathFor } from './upstream-path.js';

export interface RouterOptions {
  /**
   * Routing answers kept per generation of the match cache (two generations). Default 5000, Kong's
   * `MATCH_LRUCACHE_SIZE`; 0 turns the cache off.
   */
  cacheSize?: number;
}

export interface TraditionalRouter extends Router {
  /**
   * Why routes were left out of the router, one line each (`route <id>: <reason>; route skipped`). A route that
   * cannot be routed never makes the build fail: the others keep working.
   */
  readonly warnings: readonly string[];
}

/** Kong answers http requests on https-only routes with this unless the route sets https_redirect_status_code. */
const UPGRADE_REQUIRED = 426;
/** Longer paths are matched but not cached, so one huge request cannot pin memory. */
const MAX_CACHED_PATH = 2048;

function routeLabel(route: RouteEntity): string {
  return route.name ? `route ${route.id} (${route.name})` : `route ${route.id}`;
}

function capturesOf(m: RegExpExecArray | null): RouteCaptures | null {
  if (!m || m.length < 2) return null;
  const unnamed: string[] = [];
  for (let i = 1; i < m.length; i += 1) unnamed.push(m[i] ?? '');
  const named: Record<string, string> = {};
  if (m.groups)
    for (const [name, value] of Object.entries(m.groups)) if (value !== undefined) named[name] = value;
  return Object.freeze({ unnamed: Object.freeze(unnamed) as string[], named: Object.freeze(named) });
}

class KongTraditionalRouter implements TraditionalRouter {
  readonly routeCount: number;
  readonly warnings: readonly string[];
  private readonly index = new RouteIndex();
  private readonly cache: MatchCache<RouteMatch | null> | null;
  /** Header names some route matches on: they are part of the cache key. */
  private readonly headerNames: string[];

  constructor(config: DeclarativeConfig, options: RouterOptions) {
    const warnings: string[] = [];
    const services = new Map<string, ServiceEntity>();
    for (const service of config.services ?? [])
      if (service && typeof service.id === 'string') services.set(service.id, service);

    const entries: RouteEntry[] = [];
    let routeCount = 0;
    (config.routes ?? []).forEach((route, order) => {
      if (!route || typeof route !== 'object') {
        warnings.push(`routes[${order}]: not an object; skipped`);
        return;
      }
      let service: ServiceEntity | null = null;
      if (route.service?.id !== undefined) {
        service = services.get(route.service.id) ?? null;
        if (!service)
          warnings.push(`${routeLabel(route)}: service ${route.service.id} is not in the configuration`);
        // Kong proxies as if the routes of a disabled service did not exist.
        else if (service.enabled === false) return;
      }
      try {
        const compiled = compileRoute(route, service, order);
        if (compiled.length === 0) return;
        entries.push(...compiled);
        routeCount += 1;
      } catch (error) {
        warnings.push(`${routeLabel(route)}: ${(error as Error).message}; route skipped`);
      }
    });

    entries.sort(compareEntries);
    const headerNames = new Set<string>();
    entries.forEach((entry, rank) => {
      entry.rank = rank;
      this.index.add(entry);
      for (const header of entry.headers ?? []) headerNames.add(header.name);
    });
    this.index.seal();

    this.routeCount = routeCount;
    this.warnings = Object.freeze(warnings);
    this.headerNames = [...headerNames];
    const cacheSize = options.cacheSize ?? 5000;
    this.cache = cacheSize > 0 ? new MatchCache(cacheSize) : null;
  }

  match(request: RouteRequest): RouteMatch | null {
    const headers = request.headers;
    const rawHost = typeof headers.host === 'string' ? headers.host : undefined;
    let key: CacheKey | undefined;
    if (this.cache && request.path.length <= MAX_CACHED_PATH) {
      // The proxy derives host from the Host header when there is one, so that header stands for both.
      let rest = request.sni ?? '';
      for (const name of this.headerNames) {
        const value = headers[name];
        rest += `\n${typeof value === 'string' ? value : value === undefined ? '' : value.join('\n\t')}`;
      }
      const portAndProtocol = request.port * 2 + (request.protocol === 'https' ? 1 : 0);
      key = [request.path, rawHost ?? request.host, request.method, portAndProtocol, rest];
      const cached = this.cache.get(key);
      if (cached !== undefined) return cached;
    }
    const result = this.find(request, rawHost);
    if (key !== undefined) this.cache!.set(key, result);
    return result;
  }

  private find(request: RouteRequest, rawHost: string | undefined): RouteMatch | null {
    let host = request.host.toLowerCase();
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
    let sni = request.sni?.toLowerCase() ?? '';
    if (sni.length > 1 && sni.endsWith('.')) sni = sni.slice(0, -1);
    const view: RequestView = {
      method: request.method.toUpperCase(),
      host,
      port: request.port,
      path: normalizePath(request.path),
      headers: request.headers,
      sni,
      protocol: request.protocol,
    };

    // Deepest path prefixes first: they usually hold the best rank, which then cuts the other lists short.
    const lists = this.index.candidates(host, view.path);
    let best: EntryHit | null = null;
    let bestRank = Number.POSITIVE_INFINITY;
    for (let l = lists.length - 1; l >= 0; l -= 1) {
      for (const entry of lists[l]!) {
        if (entry.rank >= bestRank) break;
        const hit = matchEntry(entry, view);
        if (hit) {
          best = hit;
          bestRank = entry.rank;
          break;
        }
      }
    }
    return best ? this.result(best, view, rawHost) : null;
  }

  private result(hit: EntryHit, view: RequestView, rawHost: string | undefined): RouteMatch {
    const { entry } = hit;
    const route = entry.route;
    const postfix = hit.matchedLength < 0 ? null : sanitizePostfix(view.path.slice(hit.matchedLength));
    const upstreamPath = upstreamPathFor(
      entry.service?.path || '/',
      view.path,
      postfix,
      route.strip_path === true,
      route.path_handling === 'v1' ? 'v1' : 'v0',
    );
    const match: RouteMatch = {
      route,
      service: entry.service,
      upstreamPath: escapePath(upstreamPath),
      upstreamHost: route.preserve_host ? (rawHost ?? view.host) : null,
      captures: capturesOf(hit.regexMatch),
    };
    if (view.protocol === 'http' && !entry.acceptsHttp)
      match.redirect = route.https_redirect_status_code ?? UPGRADE_REQUIRED;
    // Answers are shared through the cache: nobody may change one.
    return Object.freeze(match);
  }
}

/**
 * Builds the router for one configuration: compiles and orders every route once (Kong's traditional
 * priorities), indexes them by host and path prefix, and never throws for a bad route (see `warnings`).
 */
export function buildRouter(config: DeclarativeConfig, options: RouterOptions = {}): TraditionalRouter {
  return new KongTraditionalRouter(config, options);
}
