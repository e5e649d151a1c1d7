// The node-wide request metrics the prometheus plugin records: one registry per process, shared by every
// prometheus plugin entity and kept across configuration versions, so counters survive config swaps.
import {
  Counter,
  Histogram,
  type HistogramSeries,
  type MetricFamily,
  type ValueSeries,
} from './exposition.js';

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

/**
 * The series of one (service, route), resolved on its first request; later requests only look up their status
 * and consumer in small maps and add, with no label string built.
 */
interface RouteSeries {
  service: string;
  route: string;
  request: HistogramSeries;
  upstream: HistogramSeries;
  kong: HistogramSeries;
  /** By status, then source ([service, kong]), then consumer. */
  requests: Map<number, [Map<string, ValueSeries>, Map<string, ValueSeries>]>;
  /** By consumer. */
  bandwidth: Map<string, { ingress?: ValueSeries; egress?: ValueSeries }>;
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

  /** By service, then route. */
  private readonly routes = new Map<string, Map<string, RouteSeries>>();
  /** Plugin instances whose config has upstream_health_metrics on (Kong exports health if any has). */
  private readonly upstreamHealthVoters = new Set<object>();

  record(sample: RequestSample): void {
    const series = this.routeSeries(sample.service, sample.route);
    const { consumer } = sample;
    if (sample.status !== undefined) {
      this.requests.incSeries(this.requestSeries(series, sample.status, sample.source, consumer));
    }
    if (sample.bytes) {
      const { ingress, egress } = sample.bytes;
      if (ingress > 0) this.bandwidth.incSeries(this.bandwidthSeries(series, 'ingress', consumer), ingress);
      if (egress > 0) this.bandwidth.incSeries(this.bandwidthSeries(series, 'egress', consumer), egress);
    }
    if (sample.latencies) {
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

  private routeSeries(service: string, route: string): RouteSeries {
    let byRoute = this.routes.get(service);
    if (!byRoute) this.routes.set(service, (byRoute = new Map()));
    let found = byRoute.get(route);
    if (!found) {
      const labels = [service, route, WORKSPACE];
      found = {
        service,
        route,
        request: this.requestLatency.seriesFor(labels),
        upstream: this.upstreamLatency.seriesFor(labels),
        kong: this.kongLatency.seriesFor(labels),
        requests: new Map(),
        bandwidth: new Map(),
      };
      byRoute.set(route, found);
    }
    return found;
  }

  private requestSeries(
    series: RouteSeries,
    status: number,
    source: RequestSample['source'],
    consumer: string,
  ): ValueSeries {
    let bySource = series.requests.get(status);
    if (!bySource) series.requests.set(status, (bySource = [new Map(), new Map()]));
    const byConsumer = bySource[source === 'service' ? 0 : 1];
    let found = byConsumer.get(consumer);
    if (!found) {
      found = this.requests.seriesFor([
        series.service,
        series.route,
        String(status),
        source,
        WORKSPACE,
        consumer,
      ]);
      byConsumer.set(consumer, found);
    }
    return found;
  }

  /** Resolved on the first non-zero size, so a direction never used has no series (as in Kong). */
  private bandwidthSeries(
    series: RouteSeries,
    direction: 'ingress' | 'egress',
    consumer: string,
  ): ValueSeries {
    let byDirection = series.bandwidth.get(consumer);
    if (!byDirection) series.bandwidth.set(consumer, (byDirection = {}));
    return (byDirection[direction] ??= this.bandwidth.seriesFor([
      series.service,
      series.route,
      direction,
      WORKSPACE,
      consumer,
    ]));
  }
}

/** The registry of this process: what the plugin records into and what /metrics reads. */
export const nodeMetrics = new ProxyMetrics();
