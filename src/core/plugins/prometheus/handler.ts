// prometheus: records each proxied request into the node's metrics (Kong's names and labels); /metrics on the
// status listener and the Admin API serves them.
import { PACKAGE_VERSION } from '../../version.js';
import { definePlugin, type PluginContext, type PluginDefinition } from '../api.js';
import { nodeMetrics, type ProxyMetrics, type RequestSample } from './metrics.js';
import { schema } from './schema.js';

export interface PrometheusConfig {
  per_consumer: boolean;
  status_code_metrics: boolean;
  latency_metrics: boolean;
  bandwidth_metrics: boolean;
  upstream_health_metrics: boolean;
  ai_metrics?: boolean;
}

/** What Kong's log handler takes from kong.log.serialize(); null when there is nothing to record. */
export function requestSample(ctx: PluginContext<PrometheusConfig>): RequestSample | null {
  const { config, service, route, logRecord: record } = ctx;
  // As Kong: no service, no stats (e.g. a request that matched no route).
  if (!service || !record) return null;
  const consumer = config.per_consumer ? (ctx.consumer?.username ?? ctx.consumer?.custom_id ?? '') : '';
  const sample: RequestSample = {
    service: service.name ?? service.host,
    route: route ? (route.name ?? route.id) : '',
    consumer,
    source: ctx.response.fromPlugin ? 'kong' : 'service',
  };
  if (config.status_code_metrics) sample.status = record.status;
  if (config.bandwidth_metrics) sample.bytes = { ingress: record.requestBytes, egress: record.responseBytes };
  if (config.latency_metrics) {
    sample.latencies = {
      request: record.latencyMs,
      upstream: record.upstreamLatencyMs,
      kong: record.proxyLatencyMs,
    };
  }
  return sample;
}

/** The plugin recording into `metrics` (the node's registry unless a test gives its own). */
export function prometheusPlugin(metrics: ProxyMetrics): PluginDefinition<PrometheusConfig> {
  const log = (ctx: PluginContext<PrometheusConfig>): void => {
    const sample = requestSample(ctx);
    if (sample) metrics.record(sample);
  };
  return definePlugin<PrometheusConfig>({
    name: 'prometheus',
    version: PACKAGE_VERSION,
    priority: 13,
    schema,
    init({ config }) {
      // Upstream health is exported while any prometheus entity of the served configuration asks for it.
      const instance = { log, close: () => metrics.release(instance) };
      if (config.upstream_health_metrics) metrics.wantUpstreamHealth(instance);
      return instance;
    },
    log,
  });
}

export default prometheusPlugin(nodeMetrics);
