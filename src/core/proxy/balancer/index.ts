// The balancers of one configuration version: a service whose host names an upstream is balanced
// over that upstream's targets; any other host is connected to directly.
//
// Health, as in Kong (lua-resty-healthcheck): every address starts healthy. Active probes and the
// proxy's reports (`done`) feed one set of counters per address; each kind of failure has its own
// counter and threshold, a success clears them, and a threshold of 0 turns that counter off. With
// passive checks only, an address that went unhealthy gets no new traffic, so only an attempt that
// was already in flight, active checks, `setHealth`, or re-creating the target (a new id) bring it
// back; a new configuration with the same target keeps its state. Without any checks configured
// every address reports `healthchecks_off` and is always used.
import type { Balancer, DeclarativeConfig, TargetEntity, UpstreamEntity } from '../types.js';
import type { UpstreamTlsOptions } from '../upstream-client.js';
import { systemResolver, type Resolver } from './dns.js';
import { UpstreamBalancer, type BalancerLog } from './upstream-balancer.js';

export type { BalancerLog } from './upstream-balancer.js';
export type { Resolver, ResolvedAddress } from './dns.js';

export interface BalancersOptions {
  log: BalancerLog;
  /** Name resolution for targets given by host name (default: DNS A records, then getaddrinfo). */
  resolver?: Resolver;
  /** Clock in milliseconds for DNS expiry (default Date.now). */
  now?: () => number;
  /**
   * The balancers of the configuration this one replaces. Health state and DNS answers of the
   * same upstream and target ids carry over, as Kong keeps them; the caller still closes it.
   */
  previous?: Balancers;
  /**
   * What https and grpcs health checks of an upstream trust and present, as Kong's health checker: the node's
   * lua_ssl_trusted_certificate and the upstream's client_certificate (default: Node's CA list, no certificate).
   */
  tls?: { forHealthChecks(upstream: UpstreamEntity, verify: boolean): UpstreamTlsOptions };
}

export interface Balancers {
  /** The balancer of the upstream named `host`, or null when the host is not an upstream. */
  forHost(host: string): Balancer | null;
  all(): Balancer[];
  /** Resolves when the first DNS answers for named targets are in (picks before that skip them). */
  ready(): Promise<void>;
  /**
   * Marks an address (`ip:port`) or every address of a target (`host:port`) of the named upstream
   * healthy or unhealthy by hand, as Kong's `/healthy` and `/unhealthy` target endpoints do.
   * False when there is no such upstream or address.
   */
  setHealth(upstream: string, key: string, healthy: boolean): boolean;
  /** Stops health-check timers and DNS refreshes; picks already handed out may still call `done`. */
  close(): void;
}

const upstreamsOf = new WeakMap<Balancers, Map<string, UpstreamBalancer>>();

export function createBalancers(config: DeclarativeConfig, options: BalancersOptions): Balancers {
  const previous = options.previous ? upstreamsOf.get(options.previous) : undefined;
  const targetsOf = new Map<string, TargetEntity[]>();
  for (const target of config.targets ?? []) {
    const id = target.upstream?.id;
    if (!id) continue;
    const list = targetsOf.get(id);
    if (list) list.push(target);
    else targetsOf.set(id, [target]);
  }
  const byId = new Map<string, UpstreamBalancer>();
  const byName = new Map<string, UpstreamBalancer>();
  for (const upstream of config.upstreams ?? []) {
    const balancer = new UpstreamBalancer(upstream, targetsOf.get(upstream.id) ?? [], {
      log: options.log,
      resolver: options.resolver ?? systemResolver,
      now: options.now ?? Date.now,
      previous: previous?.get(upstream.id),
      healthCheckTls: options.tls ? (u, verify) => options.tls!.forHealthChecks(u, verify) : undefined,
    });
    byId.set(upstream.id, balancer);
    // Host names are case-insensitive; upstream names are host names.
    byName.set(upstream.name.toLowerCase(), balancer);
  }
  const balancers: Balancers = {
    forHost: (host) => byName.get(host) ?? byName.get(host.toLowerCase()) ?? null,
    all: () => [...byId.values()],
    ready: async () => {
      await Promise.all([...byId.values()].map((b) => b.settled()));
    },
    setHealth: (upstream, key, healthy) => {
      const balancer = byName.get(upstream.toLowerCase());
      return balancer ? balancer.setHealth(key, healthy) : false;
    },
    close: () => {
      for (const balancer of byId.values()) balancer.close();
    },
  };
  upstreamsOf.set(balancers, byId);
  return balancers;
}
