// The node-wide request metrics the prometheus plugin records: one registry per process, shared by every
// prometheus plugin entity and kept across configuration versions, so counters survive config swaps.
import { Counter, Histogram, type HistogramSeries, type MetricFamily } from './exposition.js';

/** Kong 3's bucket bounds (ms) for kong_kong_latency_ms. */
export const KONG_LATENCY_BUCKETS = [1, 2, 5, 7, 10, 15, 20, 30, 50, 75, 100, 200, 500, 750, 1000] as const;
/** Kong 3's bucket bounds (ms) for kong_upstream_latency_ms and kong_request_latency_ms. */
export const UPSTREAM_LATENCY_BUCKETS = [
  25, 50, 80, 100, 250, 400, 700, 1000, 2000, 5000, 10000, 30000, 60000,
] as const;

/** Every entity here lives in Kong's default workspace (there are no others). */
export const WORKSPACE = 'default';

/** One request as the log phase reports it, already reduced to label values. */
export interface RequestSample {
  service: string;
  route: string;
  /** '' unless per_consumer is on and a consumer was identified. */
  consumer: string;
  /** Set when status_code_metrics is on. */
  status?: number;
  /** 'service' when the upstream answered, 'kong' when the gateway or a plugin did. */
  source: 'service' | 'kong';
  /** Set when bandwidth_metrics is on. */
  bytes?: { ingress: number; egress: number };
  /** Set when latency_metrics is on (ms; upstream null when no upstream was called). */
  latencies?: { request: number; upstream: number | null; kong: number };
}

/** The latency histograms of one (service, route): resolved once, then each request only adds. */
interface LatencySeries {
  request: HistogramSeries;
  upstream: HistogramSeries;
  kong: HistogramSeries;
}

export class ProxyMetrics {
  readonly requests = new Counter(
    'kong_http_requests_total',
    'HTTP status codes per consumer/service/route in Kong',
    ['service', 'route', 'code', 'source', 'workspace', 'consumer'],
  );
  readonly kongLatency = new Histogram(
    'kong_kong_latency_ms',
    'Latency added by Kong and enabled plugins for each service/route in Kong',
    ['service', 'route', 'workspace'],
    KONG_LATENCY_BUCKETS,
  );
  readonly upstreamLatency = new Histogram(
    'kong_upstream_latency_ms',
    'Latency added by upstream response for each service/route in Kong',
    ['service', 'route', 'workspace'],
    UPSTREAM_LATENCY_BUCKETS,
  );
  readonly requestLatency = new Histogram(
    'kong_request_latency_ms',
    'Total latency incurred during requests for each service/route in Kong',
    ['service', 'route', 'workspace'],
    UPSTREAM_LATENCY_BUCKETS,
  );
  readonly bandwidth = new Counter(
    'kong_bandwidth_bytes',
    'Total bandwidth (ingress/egress) throughput in bytes',
    ['service', 'route', 'direction', 'workspace', 'consumer'],
  );

  private readonly latencySeries = new Map<string, LatencySeries>();
  /** Plugin instances whose config has upstream_health_metrics on (Kong exports health if any has). */
  private readonly upstreamHealthVoters = new Set<object>();

  record(sample: RequestSample): void {
    const { service, route, consumer } = sample;
    if (sample.status !== undefined) {
      this.requests.inc([service, route, String(sample.status), sample.source, WORKSPACE, consumer]);
    }
    if (sample.bytes) {
      if (sample.bytes.ingress > 0)
        this.bandwidth.inc([service, route, 'ingress', WORKSPACE, consumer], sample.bytes.ingress);
      if (sample.bytes.egress > 0)
        this.bandwidth.inc([service, route, 'egress', WORKSPACE, consumer], sample.bytes.egress);
    }
    if (sample.latencies) {
      const series = this.latencyFor(service, route);
      const { request, upstream, kong } = sample.latencies;
      if (request >= 0) this.requestLatency.observeSeries(series.request, request);
      if (upstream !== null && upstream >= 0) this.upstreamLatency.observeSeries(series.upstream, upstream);
      if (kong >= 0) this.kongLatency.observeSeries(series.kong, kong);
    }
  }

  /** A plugin instance with upstream_health_metrics on; `release` when its configuration is replaced. */
  wantUpstreamHealth(instance: object): void {
    this.upstreamHealthVoters.add(instance);
  }

  release(instance: object): void {
    this.upstreamHealthVoters.delete(instance);
  }

  get upstreamHealthEnabled(): boolean {
    return this.upstreamHealthVoters.size > 0;
  }

  families(): MetricFamily[] {
    return [this.requests, this.kongLatency, this.upstreamLatency, this.requestLatency, this.bandwidth];
  }

  private latencyFor(service: string, route: string): LatencySeries {
    const key = `${service}\u0000${route}`;
    let found = this.latencySeries.get(key);
    if (!found) {
      const labels = [service, route, WORKSPACE];
      found = {
        request: this.requestLatency.seriesFor(labels),
        upstream: this.upstreamLatency.seriesFor(labels),
        kong: this.kongLatency.seriesFor(labels),
      };
      this.latencySeries.set(key, found);
    }
    return found;
  }
}

/** The registry of this process: what the plugin records into and what /metrics reads. */
export const nodeMetrics = new ProxyMetrics();
