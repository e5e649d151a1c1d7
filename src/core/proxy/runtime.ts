// One configuration version made ready to proxy: its router, balancers, TLS certificates and upstream TLS, built once.
import type { Balancer, DeclarativeConfig, Router } from './types.js';
import { buildSniCertificates, type SniCertificates } from './certificates.js';
import { buildUpstreamTls, type UpstreamTlsSet, type UpstreamTlsSettings } from './upstream-tls.js';
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
  /**
   * `previous`: the balancers of the version being replaced, whose health and DNS state carry over; `tls`: what
   * https health checks trust and present.
   */
  createBalancers(
    config: DeclarativeConfig,
    options: { log: ProxyLog; previous?: BalancerSet; tls: UpstreamTlsSet },
  ): BalancerSet;
}

export interface ProxyRuntime {
  router: Router;
  balancers: BalancerSet;
  certificates: SniCertificates;
  /** The TLS toward https and wss upstreams, per service. */
  upstreamTls: UpstreamTlsSet;
  /** `host:port` of every target this version may send to (pools of others are closed). */
  addresses: ReadonlySet<string>;
  /** Which plugins run on which requests (built by the proxy's prepare; empty until then). */
  plugins: PluginPlan;
}

/** A router with no routes: what a data plane without configuration serves (every request 404). */
export const EMPTY_ROUTER: Router = { routeCount: 0, match: () => null };

const NO_BALANCERS: BalancerSet = { forHost: () => null, close: () => undefined };

/** Node settings for a runtime that has no services: nothing is trusted, nothing is presented. */
const NO_TLS_SETTINGS: UpstreamTlsSettings = { trust: { system: false, pems: [] }, healthCheckDepth: 1 };

/** The runtime of a node that has no configuration yet. */
export function emptyRuntime(): ProxyRuntime {
  return {
    router: EMPTY_ROUTER,
    balancers: NO_BALANCERS,
    certificates: buildSniCertificates({}),
    upstreamTls: buildUpstreamTls({}, NO_TLS_SETTINGS, { warn: () => undefined }),
    addresses: new Set(),
    plugins: emptyPlan(),
  };
}

/** Builds everything a configuration needs before it serves a request; throws if the configuration can't be. */
export function buildRuntime(
  config: DeclarativeConfig,
  components: ProxyComponents,
  log: ProxyLog,
  tlsSettings: UpstreamTlsSettings,
  previous?: BalancerSet,
): ProxyRuntime {
  const router = components.buildRouter(config);
  for (const warning of router.warnings ?? []) log.warn(warning);
  const certificates = buildSniCertificates(config);
  const upstreamTls = buildUpstreamTls(config, tlsSettings, log);
  const balancers = components.createBalancers(config, { log, previous, tls: upstreamTls });
  const upstreamNames = new Set((config.upstreams ?? []).map((u) => u.name));
  const addresses = new Set<string>();
  for (const service of config.services ?? []) {
    if (!upstreamNames.has(service.host)) addresses.add(`${service.host}:${service.port}`);
  }
  for (const name of upstreamNames) {
    for (const { target } of balancers.forHost(name)?.health() ?? []) addresses.add(target.key);
  }
  return { router, balancers, certificates, upstreamTls, addresses, plugins: emptyPlan() };
}
