// Health-check settings of an upstream and the per-address counters that turn reports into healthy/unhealthy.
import { validate } from '../../schema/schema.js';
import { upstreams } from '../../store/entities/upstreams.js';
import type { UpstreamEntity } from '../types.js';

/** What one probe or one proxied attempt says about an address. */
export type HealthReport = 'success' | 'http_failure' | 'tcp_failure' | 'timeout';
export type CheckKind = 'active' | 'passive';

export interface Thresholds {
  successes: number;
  http_failures: number;
  tcp_failures: number;
  timeouts: number;
}

export interface CheckSettings {
  type: 'tcp' | 'http' | 'https' | 'grpc' | 'grpcs';
  healthyStatuses: ReadonlySet<number>;
  unhealthyStatuses: ReadonlySet<number>;
  thresholds: Thresholds;
}

export interface ActiveSettings extends CheckSettings {
  /** Seconds between probes of healthy / unhealthy addresses; 0 turns that half off. */
  healthyInterval: number;
  unhealthyInterval: number;
  timeout: number;
  concurrency: number;
  httpPath: string;
  httpsSni: string | null;
  httpsVerifyCertificate: boolean;
  headers: Record<string, string[]>;
}

export interface HealthSettings {
  active: ActiveSettings;
  passive: CheckSettings;
  /** Percentage of the upstream's weight that must be healthy for it to take traffic at all. */
  threshold: number;
}

interface RawCheck {
  type: CheckSettings['type'];
  timeout?: number;
  concurrency?: number;
  http_path?: string;
  https_sni?: string | null;
  https_verify_certificate?: boolean;
  headers?: Record<string, string[]> | null;
  healthy: { interval?: number; http_statuses: number[]; successes: number };
  unhealthy: {
    interval?: number;
    http_statuses: number[];
    tcp_failures: number;
    timeouts: number;
    http_failures: number;
  };
}

const healthchecksSchema = {
  name: 'healthchecks',
  fields: { healthchecks: upstreams.schema.fields.healthchecks! },
};

/**
 * The upstream's `healthchecks` with the schema's defaults filled in (the control plane exports them
 * complete; a partial or invalid record still yields usable settings, and `problem` says why).
 */
export function healthSettings(upstream: UpstreamEntity): {
  settings: HealthSettings;
  problem: string | null;
} {
  let checked = validate(healthchecksSchema, { healthchecks: upstream.healthchecks ?? undefined });
  let problem: string | null = null;
  if (!checked.ok) {
    problem = `invalid healthchecks (${JSON.stringify(checked.errors)}), using the defaults`;
    checked = validate(healthchecksSchema, {});
  }
  if (!checked.ok) throw new Error('the healthchecks defaults do not validate');
  const raw = checked.value.healthchecks as { active: RawCheck; passive: RawCheck; threshold: number };
  const check = (c: RawCheck): CheckSettings => ({
    type: c.type,
    healthyStatuses: new Set(c.healthy.http_statuses),
    unhealthyStatuses: new Set(c.unhealthy.http_statuses),
    thresholds: {
      successes: c.healthy.successes,
      http_failures: c.unhealthy.http_failures,
      tcp_failures: c.unhealthy.tcp_failures,
      timeouts: c.unhealthy.timeouts,
    },
  });
  const a = raw.active;
  return {
    problem,
    settings: {
      threshold: raw.threshold,
      passive: check(raw.passive),
      active: {
        ...check(a),
        healthyInterval: a.healthy.interval ?? 0,
        unhealthyInterval: a.unhealthy.interval ?? 0,
        timeout: a.timeout ?? 1,
        concurrency: a.concurrency ?? 10,
        httpPath: a.http_path ?? '/',
        httpsSni: a.https_sni ?? null,
        httpsVerifyCertificate: a.https_verify_certificate ?? true,
        headers: a.headers ?? {},
      },
    },
  };
}

/** Kong's test: health checks are on when active probing runs or a passive failure counter is set. */
export function usesHealthchecks(settings: HealthSettings): boolean {
  const { active, passive } = settings;
  return (
    active.healthyInterval > 0 ||
    active.unhealthyInterval > 0 ||
    passive.thresholds.tcp_failures > 0 ||
    passive.thresholds.timeouts > 0 ||
    passive.thresholds.http_failures > 0
  );
}

/** An HTTP status as a report: healthy list → success, unhealthy list → failure, anything else ignored. */
export function classifyStatus(status: number, check: CheckSettings): HealthReport | null {
  if (check.healthyStatuses.has(status)) return 'success';
  // Kong counts an unparseable response (status 0) as an HTTP failure.
  if (check.unhealthyStatuses.has(status) || status === 0) return 'http_failure';
  return null;
}

const LIMIT_OF: Record<HealthReport, keyof Thresholds> = {
  success: 'successes',
  http_failure: 'http_failures',
  tcp_failure: 'tcp_failures',
  timeout: 'timeouts',
};

export const REPORT_LABELS: Record<HealthReport, string> = {
  success: 'successes',
  http_failure: 'http failures',
  tcp_failure: 'tcp failures',
  timeout: 'timeouts',
};

export interface Transition {
  healthy: boolean;
  report: HealthReport;
  count: number;
}

/**
 * lua-resty-healthcheck's counters for one address. A success clears the failure counters and a
 * failure clears the success counter, so thresholds count reports in a row; each failure kind has
 * its own counter. Reaching a threshold flips the state; a threshold of 0 disables that counter.
 * "mostly" states are the in-between ones: still healthy (or unhealthy) for the balancer, but
 * counting towards the other side.
 */
export class HealthCounters {
  private internal: 'healthy' | 'mostly_healthy' | 'mostly_unhealthy' | 'unhealthy' = 'healthy';
  private counts: Record<HealthReport, number> = { success: 0, http_failure: 0, tcp_failure: 0, timeout: 0 };

  get healthy(): boolean {
    return this.internal === 'healthy' || this.internal === 'mostly_healthy';
  }

  /** Counts one report against `thresholds`; returns the transition when the state flipped. */
  report(report: HealthReport, thresholds: Thresholds): Transition | null {
    const limit = thresholds[LIMIT_OF[report]];
    if (limit === 0) return null;
    const towards = report === 'success' ? 'healthy' : 'unhealthy';
    // Successes do not count while fully healthy, nor failures while fully unhealthy.
    if (this.internal === towards) return null;
    const count = ++this.counts[report];
    if (report === 'success') {
      this.counts.http_failure = this.counts.tcp_failure = this.counts.timeout = 0;
    } else {
      this.counts.success = 0;
    }
    if (count >= limit) {
      const wasHealthy = this.healthy;
      this.set(towards === 'healthy');
      return wasHealthy === this.healthy ? null : { healthy: this.healthy, report, count };
    }
    if (this.internal === 'healthy') this.internal = 'mostly_healthy';
    else if (this.internal === 'unhealthy') this.internal = 'mostly_unhealthy';
    return null;
  }

  /** Forces a state and clears the counters (a manual override, or the state carried from an older config). */
  set(healthy: boolean): void {
    this.internal = healthy ? 'healthy' : 'unhealthy';
    this.counts = { success: 0, http_failure: 0, tcp_failure: 0, timeout: 0 };
  }

  copyFrom(other: HealthCounters): void {
    this.internal = other.internal;
    this.counts = { ...other.counts };
  }
}
