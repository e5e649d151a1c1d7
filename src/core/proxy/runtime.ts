// One configuration version made ready to proxy: its router, balancers and TLS certificates, built once.
import type { Balancer, DeclarativeConfig, Router } from './types.js';
import { buildSniCertificates, type SniCertificates } from './certificates.js';
import { emptyPlan, type PluginPlan } from '../plugins/runner/plan.js';

/** The upstream balancers of one configuration version. */
export interface BalancerSet {
  /** The balancer of the upstream named `host`, or null when the service host is not an upstream. */
  forHost(host: string): Balancer | null;
  /** Stops health checkers and DNS refreshes; called when a newer version replaces this one. */
  close(): void | Promise<void>;
  /** Resolves once target hostnames have their first DNS answers (until then they are not picked). */
  ready?(): Promise<void>;
}

export interface ProxyLog {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** The implementations the proxy is built with (the router and balancer modules). */
export interface ProxyComponents {
  buildRouter(config: DeclarativeConfig): Router;
  /** `previous`: the balancers of the version being replaced, whose health and DNS state carry over. */
  createBalancers(config: DeclarativeConfig, options: { log: ProxyLog; previous?: BalancerSet }): BalancerSet;
}

export interface ProxyRuntime {
  router: Router;
  balancers: BalancerSet;
  certificates: SniCertificates;
  /** `host:port` of every target this version may send to (pools of others are closed). */
  addresses: ReadonlySet<string>;
  /** Which plugins run on which requests (built by the proxy's prepare; empty until then). */
  plugins: PluginPlan;
}

/** A router with no routes: what a data plane without configuration serves (every request 404). */
export const EMPTY_ROUTER: Router = { routeCount: 0, match: () => null };

const NO_BALANCERS: BalancerSet = { forHost: () => null, close: () => undefined };

/** The runtime of a node that has no configuration yet. */
export function emptyRuntime(): ProxyRuntime {
  return {
    router: EMPTY_ROUTER,
    balancers: NO_BALANCERS,
    certificates: buildSniCertificates({}),
    addresses: new Set(),
    plugins: emptyPlan(),
  };
}

/** Builds everything a configuration needs before it serves a request; throws if the configuration can't be. */
export function buildRuntime(
  config: DeclarativeConfig,
  components: ProxyComponents,
  log: ProxyLog,
  previous?: BalancerSet,
): ProxyRuntime {
  const router = components.buildRouter(config);
  for (const warning of router.warnings ?? []) log.warn(warning);
  const certificates = buildSniCertificates(config);
  const balancers = components.createBalancers(config, { log, previous });
  const upstreamNames = new Set((config.upstreams ?? []).map((u) => u.name));
  const addresses = new Set<string>();
  for (const service of config.services ?? []) {
    if (!upstreamNames.has(service.host)) addresses.add(`${service.host}:${service.port}`);
  }
  for (const name of upstreamNames) {
    for (const { target } of balancers.forHost(name)?.health() ?? []) addresses.add(target.key);
  }
  return { router, balancers, certificates, addresses, plugins: emptyPlan() };
}
