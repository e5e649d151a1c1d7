// Test doubles for the proxy's router and balancers (the real ones live in src/core/proxy/router and
// balancer): prefix routes by host / first path segment, and a round-robin balancer that records outcomes.
import type {
  AttemptOutcome,
  Balancer,
  BalancerPick,
  BalancerTarget,
  DeclarativeConfig,
  RouteEntity,
  RouteMatch,
  RouteRequest,
  Router,
  ServiceEntity,
  UpstreamEntity,
} from '../../src/core/proxy/types.js';
import type { BalancerSet, ProxyComponents } from '../../src/core/proxy/runtime.js';

interface PrefixRoute {
  route: RouteEntity;
  service: ServiceEntity | null;
  prefix: string;
}

function firstSegment(path: string): string {
  const next = path.indexOf('/', 1);
  return next === -1 ? path : path.slice(0, next);
}

/** Plain-prefix routing (no regex, no wildcards, no priorities beyond the longest prefix). */
export function prefixRouter(config: DeclarativeConfig): Router {
  const services = new Map((config.services ?? []).map((s) => [s.id, s]));
  const buckets = new Map<string, PrefixRoute[]>();
  const add = (key: string, entry: PrefixRoute) => {
    const list = buckets.get(key) ?? [];
    list.push(entry);
    list.sort((a, b) => b.prefix.length - a.prefix.length);
    buckets.set(key, list);
  };
  const routes = config.routes ?? [];
  for (const route of routes) {
    const service = route.service ? (services.get(route.service.id) ?? null) : null;
    for (const prefix of route.paths?.length ? route.paths : ['/']) {
      add(prefix === '/' ? '/' : firstSegment(prefix), { route, service, prefix });
    }
  }
  const accepts = (entry: PrefixRoute, request: RouteRequest): boolean => {
    const { route } = entry;
    if (route.hosts?.length && !route.hosts.includes(request.host)) return false;
    if (route.methods?.length && !route.methods.includes(request.method)) return false;
    if (route.snis?.length && !route.snis.includes(request.sni ?? '')) return false;
    return request.path.startsWith(entry.prefix);
  };
  return {
    routeCount: routes.length,
    match(request) {
      const found =
        buckets.get(firstSegment(request.path))?.find((e) => accepts(e, request)) ??
        buckets.get('/')?.find((e) => accepts(e, request));
      if (!found) return null;
      const { route, service } = found;
      const rest = route.strip_path ? request.path.slice(found.prefix.length) : request.path;
      const base = service?.path ?? '/';
      const joined = base.endsWith('/') ? base + rest.replace(/^\//, '') : rest === '' ? base : base + rest;
      const match: RouteMatch = {
        route,
        service,
        upstreamPath: joined === '' ? '/' : joined,
        upstreamHost: route.preserve_host ? (request.headers.host ?? null) : null,
        captures: null,
      };
      return match;
    },
  };
}

/** Outcomes reported to the test balancers, per target key. */
export type OutcomeLog = Map<string, AttemptOutcome[]>;

/** Round-robin over an upstream's targets; `down` targets are never picked (an unhealthy target). */
export function roundRobinBalancers(
  config: DeclarativeConfig,
  outcomes: OutcomeLog = new Map(),
  down: ReadonlySet<string> = new Set(),
): BalancerSet & { closed: boolean } {
  const byName = new Map<string, Balancer>();
  for (const upstream of config.upstreams ?? []) {
    const targets = (config.targets ?? [])
      .filter((t) => t.upstream.id === upstream.id)
      .map((t): BalancerTarget => {
        const colon = t.target.lastIndexOf(':');
        const host = colon === -1 ? t.target : t.target.slice(0, colon);
        const port = colon === -1 ? 8000 : Number(t.target.slice(colon + 1));
        return { key: `${host}:${port}`, host, port, weight: t.weight ?? 100 };
      });
    byName.set(upstream.name, roundRobin(upstream, targets, outcomes, down));
  }
  const set = {
    closed: false,
    forHost: (host: string) => byName.get(host) ?? null,
    close() {
      set.closed = true;
    },
  };
  return set;
}

function roundRobin(
  upstream: UpstreamEntity,
  targets: BalancerTarget[],
  outcomes: OutcomeLog,
  down: ReadonlySet<string>,
): Balancer {
  let next = 0;
  return {
    upstream,
    pick(_request, exclude) {
      for (let i = 0; i < targets.length; i++) {
        const target = targets[(next + i) % targets.length]!;
        if (down.has(target.key) || exclude?.has(target.key)) continue;
        next = (next + i + 1) % targets.length;
        const pick: BalancerPick = {
          target,
          done(outcome) {
            const list = outcomes.get(target.key) ?? [];
            list.push(outcome);
            outcomes.set(target.key, list);
          },
        };
        return pick;
      }
      return null;
    },
    health: () => targets.map((target) => ({ target, state: 'healthy' as const })),
    close: () => undefined,
  };
}

/** Components for tests and benchmarks: the prefix router and round-robin balancers. */
export function doubleComponents(outcomes?: OutcomeLog, down?: ReadonlySet<string>): ProxyComponents {
  return {
    buildRouter: prefixRouter,
    createBalancers: (config) => roundRobinBalancers(config, outcomes, down),
  };
}
