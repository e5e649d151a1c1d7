// One upstream's balancer: its targets (resolved through DNS when named), an algorithm, and health checks.
import { isIP } from 'node:net';
import { parseTarget, targets as targetsDefinition } from '../../store/entities/targets.js';
import { upstreams as upstreamsDefinition } from '../../store/entities/upstreams.js';
import type { UpstreamTlsOptions } from '../upstream-client.js';
import type {
  AttemptOutcome,
  Balancer,
  BalancerPick,
  BalancerRequest,
  BalancerTarget,
  TargetEntity,
  UpstreamEntity,
} from '../types.js';
import { ActiveChecker } from './active-checks.js';
import { Address, hostPort } from './address.js';
import { ConsistentHashing, LeastConnections, RoundRobin, type Algorithm } from './algorithms.js';
import { retryAfter, type Resolver } from './dns.js';
import { hashValue, type HashValue } from './hash-value.js';
import {
  classifyStatus,
  healthSettings,
  REPORT_LABELS,
  usesHealthchecks,
  type CheckKind,
  type HealthReport,
  type HealthSettings,
} from './health.js';

export interface BalancerLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface UpstreamBalancerOptions {
  log: BalancerLog;
  resolver: Resolver;
  /** Clock in milliseconds (DNS expiry). */
  now: () => number;
  /** The same upstream in the configuration this one replaces: health and DNS answers carry over. */
  previous?: UpstreamBalancer;
  /** The TLS of https and grpcs health checks, given https_verify_certificate (see probe). */
  healthCheckTls?: (upstream: UpstreamEntity, verify: boolean) => UpstreamTlsOptions;
}

type HealthState = ReturnType<Balancer['health']>[number];

interface TargetState {
  readonly entity: TargetEntity;
  /** `host:port` as configured. */
  readonly name: string;
  /** Host without IPv6 brackets. */
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  /** An IP address: used as is, never resolved. */
  readonly literal: boolean;
  addresses: Address[];
  dns: 'pending' | 'ok' | 'error';
  /** Clock time (ms) after which a named target is resolved again. */
  expiresAt: number;
  resolving: Promise<void> | null;
}

const DEFAULT_WEIGHT = targetsDefinition.schema.fields.weight!.default as number;
const DEFAULT_SLOTS = upstreamsDefinition.schema.fields.slots!.default as number;

const isHealthy = (address: Address): boolean => address.health.healthy;

export class UpstreamBalancer implements Balancer {
  readonly upstream: UpstreamEntity;
  private readonly settings: HealthSettings;
  private readonly checksOn: boolean;
  private readonly targets: TargetState[] = [];
  private readonly algorithm: Algorithm;
  private readonly hashing: boolean;
  private readonly checker: ActiveChecker | null = null;
  private addresses: Address[] = [];
  private aboveThreshold = true;
  /** Earliest DNS expiry among named targets, so a pick checks one number. */
  private nextRefreshAt = Infinity;
  private closed = false;

  constructor(
    upstream: UpstreamEntity,
    targets: readonly TargetEntity[],
    private readonly options: UpstreamBalancerOptions,
  ) {
    this.upstream = upstream;
    const { settings, problem } = healthSettings(upstream);
    if (problem) options.log.warn(`[healthcheck] upstream ${upstream.name}: ${problem}`);
    this.settings = settings;
    this.checksOn = usesHealthchecks(settings);
    this.hashing = upstream.algorithm === 'consistent-hashing';
    this.algorithm = this.hashing
      ? new ConsistentHashing(upstream.slots ?? DEFAULT_SLOTS)
      : upstream.algorithm === 'least-connections'
        ? new LeastConnections()
        : new RoundRobin();
    if (upstream.algorithm === 'latency') {
      options.log.warn(
        `[balancer] upstream ${upstream.name}: the latency algorithm is not supported, using round-robin`,
      );
    }

    const previous = options.previous;
    for (const entity of targets) {
      const parsed = parseTarget(entity.target);
      if (!parsed) {
        options.log.warn(
          `[balancer] upstream ${upstream.name}: ignoring invalid target ${JSON.stringify(entity.target)}`,
        );
        continue;
      }
      const host = parsed.host.replace(/^\[(.*)\]$/, '$1');
      const state: TargetState = {
        entity,
        name: hostPort(host, parsed.port),
        host,
        port: parsed.port,
        weight: entity.weight ?? DEFAULT_WEIGHT,
        literal: isIP(host) !== 0,
        addresses: [],
        dns: 'pending',
        expiresAt: 0,
        resolving: null,
      };
      const before = previous?.targets.find((t) => t.entity.id === entity.id && t.name === state.name);
      if (state.literal) {
        state.dns = 'ok';
        state.addresses = [this.newAddress(state, host, before)];
      } else if (before && before.dns !== 'pending') {
        state.dns = before.dns;
        // A lookup the old balancer had in flight is redone here.
        state.expiresAt = before.resolving ? 0 : before.expiresAt;
        state.addresses = before.addresses.map((a) => this.newAddress(state, a.target.host, before));
      }
      this.targets.push(state);
    }
    this.rebuild();
    for (const state of this.targets) {
      if (state.dns === 'pending') void this.resolve(state);
    }
    if (settings.active.healthyInterval > 0 || settings.active.unhealthyInterval > 0) {
      this.checker = new ActiveChecker(
        settings.active,
        {
          addresses: () => this.addresses,
          probeTarget: (address) => ({
            ip: address.target.host,
            port: address.target.port,
            hostHeader: upstream.host_header ?? address.target.hostname ?? address.target.host,
          }),
          report: (address, report) => this.count(address, report, 'active'),
          beforeRound: () => this.refreshDue(),
        },
        settings.active.type === 'https' || settings.active.type === 'grpcs'
          ? (options.healthCheckTls?.(upstream, settings.active.httpsVerifyCertificate) ?? null)
          : null,
      );
      this.checker.start();
    }
  }

  pick(request: BalancerRequest, exclude?: ReadonlySet<string>): BalancerPick | null {
    this.refreshDue();
    if (!this.aboveThreshold) return null;
    const usable =
      exclude && exclude.size > 0
        ? (address: Address) => address.health.healthy && !exclude.has(address.target.key)
        : isHealthy;
    let hash: HashValue | undefined;
    if (this.hashing) hash = hashValue(this.upstream, request);
    const address = this.algorithm.pick(usable, hash?.value ?? '');
    if (!address) return null;
    address.inFlight++;
    let finished = false;
    const pick: BalancerPick = {
      target: address.target,
      done: (outcome: AttemptOutcome) => {
        if (finished) return;
        finished = true;
        address.inFlight--;
        this.passive(address, outcome);
      },
    };
    if (hash?.cookie) pick.hashCookie = hash.cookie;
    return pick;
  }

  health(): HealthState[] {
    const states: HealthState[] = [];
    for (const t of this.targets) {
      if (t.dns === 'error') {
        states.push({
          target: { key: t.name, host: t.host, port: t.port, weight: t.weight, hostname: t.host },
          state: 'dns_error',
        });
        continue;
      }
      for (const address of t.addresses) {
        const state = !this.checksOn ? 'healthchecks_off' : address.health.healthy ? 'healthy' : 'unhealthy';
        states.push({ target: address.target, state });
      }
    }
    return states;
  }

  close(): void {
    this.closed = true;
    this.checker?.stop();
  }

  /** Resolves once no DNS lookup is in flight (the first answers are in). */
  async settled(): Promise<void> {
    for (;;) {
      const pending = this.targets.map((t) => t.resolving).filter((p): p is Promise<void> => p !== null);
      if (pending.length === 0) return;
      await Promise.all(pending);
    }
  }

  /** Sets an address's state by hand (Kong's `/healthy` and `/unhealthy` target endpoints). */
  setHealth(key: string, healthy: boolean): boolean {
    const found = this.addresses.filter((a) => a.target.key === key || this.targetOf(a)?.name === key);
    for (const address of found) {
      address.health.set(healthy);
      this.options.log.info(
        `[healthcheck] upstream ${this.upstream.name} target ${describe(address)} ${healthy ? 'healthy' : 'unhealthy'}: set by hand`,
      );
    }
    if (found.length > 0) this.updateThreshold();
    return found.length > 0;
  }

  private targetOf(address: Address): TargetState | undefined {
    return this.targets.find((t) => t.entity.id === address.targetId);
  }

  private newAddress(target: TargetState, ip: string, carried?: TargetState): Address {
    const balancerTarget: BalancerTarget = {
      key: hostPort(ip, target.port),
      host: ip,
      port: target.port,
      // Kong gives every address of a name the target's full weight.
      weight: target.weight,
    };
    if (!target.literal) balancerTarget.hostname = target.host;
    const address = new Address(balancerTarget, target.entity.id);
    const old = carried?.addresses.find((a) => a.target.host === ip);
    if (old) address.health.copyFrom(old.health);
    return address;
  }

  private rebuild(): void {
    this.addresses = this.targets.flatMap((t) => t.addresses);
    this.algorithm.rebuild(this.addresses);
    this.updateNextRefresh();
    this.updateThreshold();
  }

  /** Starts re-resolving the names whose answers expired (on picks and before active rounds). */
  private refreshDue(): void {
    if (this.options.now() < this.nextRefreshAt) return;
    const now = this.options.now();
    for (const t of this.targets) {
      if (!t.literal && !t.resolving && now >= t.expiresAt) void this.resolve(t);
    }
  }

  private resolve(target: TargetState): Promise<void> {
    if (target.resolving) return target.resolving;
    // While this lookup runs the old answer keeps serving; a pick must not start another one.
    target.expiresAt = Infinity;
    this.updateNextRefresh();
    const lookup = this.lookup(target).finally(() => {
      target.resolving = null;
      if (!this.closed) this.updateNextRefresh();
    });
    target.resolving = lookup;
    return lookup;
  }

  private updateNextRefresh(): void {
    let next = Infinity;
    for (const t of this.targets) if (!t.literal && t.expiresAt < next) next = t.expiresAt;
    this.nextRefreshAt = next;
  }

  private async lookup(target: TargetState): Promise<void> {
    const { log, now, resolver } = this.options;
    let records: { address: string; ttl: number }[] = [];
    let error: unknown = null;
    try {
      records = await resolver(target.host);
    } catch (err) {
      error = err;
    }
    if (this.closed) return;
    const where = `[balancer] upstream ${this.upstream.name} target ${target.name}`;
    if (records.length === 0) {
      const reason = error instanceof Error ? error.message : 'no addresses';
      target.expiresAt = now() + retryAfter(error) * 1000;
      if (target.dns !== 'error')
        log.warn(`${where}: DNS resolution failed (${reason}); not used until it resolves`);
      target.dns = 'error';
      if (target.addresses.length > 0) {
        target.addresses = [];
        this.rebuild();
      }
      return;
    }
    target.expiresAt = now() + Math.min(...records.map((r) => r.ttl)) * 1000;
    const ips = [...new Set(records.map((r) => r.address))].sort();
    const current = new Map(target.addresses.map((a) => [a.target.host, a]));
    const changed = target.dns !== 'ok' || ips.length !== current.size || ips.some((ip) => !current.has(ip));
    target.dns = 'ok';
    if (!changed) return;
    target.addresses = ips.map((ip) => current.get(ip) ?? this.newAddress(target, ip));
    log.info(`${where} resolved to ${ips.join(', ')}`);
    this.rebuild();
  }

  private passive(address: Address, outcome: AttemptOutcome): void {
    if (this.closed || outcome.kind === 'none') return;
    const report =
      outcome.kind === 'response' ? classifyStatus(outcome.status, this.settings.passive) : outcome.kind;
    if (report) this.count(address, report, 'passive');
  }

  private count(address: Address, report: HealthReport, kind: CheckKind): void {
    const transition = address.health.report(report, this.settings[kind].thresholds);
    if (!transition) return;
    const message =
      `[healthcheck] upstream ${this.upstream.name} target ${describe(address)} ` +
      `${transition.healthy ? 'healthy' : 'unhealthy'}: ${transition.count} ${REPORT_LABELS[report]} (${kind} check)`;
    if (transition.healthy) this.options.log.info(message);
    else this.options.log.warn(message);
    this.updateThreshold();
  }

  /** Kong's `healthchecks.threshold`: below this share of healthy weight the whole upstream is down. */
  private updateThreshold(): void {
    const threshold = this.settings.threshold;
    if (threshold === 0) return;
    let total = 0;
    let healthy = 0;
    for (const t of this.targets) {
      if (t.dns === 'error') total += t.weight;
      for (const address of t.addresses) {
        total += address.weight;
        if (address.health.healthy) healthy += address.weight;
      }
    }
    const percent = total > 0 ? (healthy * 100) / total : 0;
    const above = percent >= threshold;
    if (above === this.aboveThreshold) return;
    this.aboveThreshold = above;
    const message = `[healthcheck] upstream ${this.upstream.name} ${above ? 'healthy' : 'unhealthy'}: ${Math.round(percent)}% of its weight is healthy (threshold ${threshold}%)`;
    if (above) this.options.log.info(message);
    else this.options.log.warn(message);
  }
}

function describe(address: Address): string {
  const { hostname, key, port } = address.target;
  return hostname ? `${hostPort(hostname, port)} (${key})` : key;
}
