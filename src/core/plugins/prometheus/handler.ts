// prometheus: records each proxied request into the node's metrics (Kong's names and labels); /metrics on the
// status listener and the Admin API serves them.
import { PACKAGE_VERSION } from '../../version.js';
import { definePlugin, type PluginContext, type PluginDefinition, type PluginInstance } from '../api.js';
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

/** Whether a config records anything per request (Kong 3 records nothing with every switch off, its default). */
export function recordsRequests(config: PrometheusConfig): boolean {
  return config.status_code_metrics || config.latency_metrics || config.bandwidth_metrics;
}

/** What Kong's log handler takes from kong.log.serialize(); null when there is nothing to record. */
export function requestSample(ctx: PluginContext<PrometheusConfig>): RequestSample | null {
  const { config, service, route } = ctx;
  // As Kong: no service, no stats (e.g. a request that matched no route).
  if (!service) return null;
  // The log record is read only when a metric needs it (it is made on first read).
  const record = recordsRequests(config) ? ctx.logRecord : null;
  if (!record) return null;
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
      const instance: PluginInstance<PrometheusConfig> = { close: () => metrics.release(instance) };
      // Nothing to record per request: no log handler, so requests skip the log phase for this entity.
      if (recordsRequests(config)) instance.log = log;
      if (config.upstream_health_metrics) metrics.wantUpstreamHealth(instance);
      return instance;
    },
    log,
  });
}

export default prometheusPlugin(nodeMetrics);
