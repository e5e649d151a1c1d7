// The prometheus log handler: Kong's families and labels, gated by the config switches, into a node-wide registry.
import assert from 'node:assert/strict';
import type { PluginLogRecord } from '../../../../src/core/plugins/api.js';
import prometheus, {
  prometheusPlugin,
  type PrometheusConfig,
} from '../../../../src/core/plugins/prometheus/handler.js';
import { renderFamilies } from '../../../../src/core/plugins/prometheus/exposition.js';
import {
  KONG_LATENCY_BUCKETS,
  ProxyMetrics,
  UPSTREAM_LATENCY_BUCKETS,
  nodeMetrics,
} from '../../../../src/core/plugins/prometheus/metrics.js';
import type { RouteEntity, ServiceEntity } from '../../../../src/core/proxy/types.js';
import { fakeContext } from '../../../helpers/plugin-context.js';
import { parseExposition, sampleValue, type Exposition } from './exposition-parser.js';

const ALL: PrometheusConfig = {
  per_consumer: false,
  status_code_metrics: true,
  latency_metrics: true,
  bandwidth_metrics: true,
  upstream_health_metrics: false,
};
const NONE: PrometheusConfig = {
  per_consumer: false,
  status_code_metrics: false,
  latency_metrics: false,
  bandwidth_metrics: false,
  upstream_health_metrics: false,
};

const service: ServiceEntity = {
  id: 'svc-id',
  name: 'orders',
  protocol: 'http',
  host: 'orders.internal',
  port: 80,
};
const route: RouteEntity = {
  id: 'route-id',
  name: 'orders-route',
  protocols: ['http'],
  strip_path: true,
  preserve_host: false,
};

function record(overrides: Partial<PluginLogRecord> = {}): PluginLogRecord {
  return {
    startedAt: 0,
    latencyMs: 42,
    upstreamLatencyMs: 30,
    proxyLatencyMs: 12,
    requestBytes: 120,
    responseBytes: 800,
    status: 200,
    upstreamAddress: '127.0.0.1:8080',
    ...overrides,
  };
}

describe('prometheus plugin (log handler)', () => {
  let metrics: ProxyMetrics;
  let plugin: ReturnType<typeof prometheusPlugin>;
  beforeEach(() => {
    metrics = new ProxyMetrics();
    plugin = prometheusPlugin(metrics);
  });

  async function log(
    config: PrometheusConfig,
    input: Partial<Parameters<typeof fakeContext<PrometheusConfig>>[0]> = {},
    fromPlugin = false,
  ): Promise<void> {
    const ctx = fakeContext<PrometheusConfig>({ config, service, route, logRecord: record(), ...input });
    (ctx.response as { fromPlugin: boolean }).fromPlugin = fromPlugin;
    await plugin.log!(ctx);
  }

  const scrape = (): Exposition => parseExposition(renderFamilies(metrics.families()));

  it('is Kong’s prometheus: name, priority 13, the default export records into the node registry', async () => {
    assert.equal(prometheus.name, 'prometheus');
    assert.equal(prometheus.priority, 13);
    assert.equal(plugin.priority, 13);
    const before = nodeMetrics.requests.get(['orders', 'orders-route', '299', 'service', 'default', '']);
    await prometheus.log!(
      fakeContext<PrometheusConfig>({ config: ALL, service, route, logRecord: record({ status: 299 }) }),
    );
    assert.equal(
      nodeMetrics.requests.get(['orders', 'orders-route', '299', 'service', 'default', '']),
      before + 1,
    );
  });

  it('counts kong_http_requests_total{service,route,code,source,workspace,consumer}', async () => {
    await log(ALL);
    await log(ALL);
    await log(ALL, { logRecord: record({ status: 401 }) }, true);
    const parsed = scrape();
    const labels = { service: 'orders', route: 'orders-route', workspace: 'default', consumer: '' };
    assert.equal(
      sampleValue(parsed, 'kong_http_requests_total', { ...labels, code: '200', source: 'service' }),
      2,
    );
    assert.equal(
      sampleValue(parsed, 'kong_http_requests_total', { ...labels, code: '401', source: 'kong' }),
      1,
    );
    assert.equal(parsed.types.get('kong_http_requests_total'), 'counter');
  });

  it('names the service by host and the route by id when they have no name', async () => {
    await log(ALL, {
      service: { ...service, name: undefined },
      route: { ...route, name: undefined },
    });
    const parsed = scrape();
    assert.equal(
      sampleValue(parsed, 'kong_http_requests_total', {
        service: 'orders.internal',
        route: 'route-id',
        code: '200',
        source: 'service',
        workspace: 'default',
        consumer: '',
      }),
      1,
    );
  });

  it('records nothing without a service (as Kong), or without a log record', async () => {
    await log(ALL, { service: null });
    await log(ALL, { logRecord: null });
    assert.equal(renderFamilies(metrics.families()), '');
  });

  it('records nothing when every switch is off', async () => {
    await log(NONE);
    assert.equal(renderFamilies(metrics.families()), '');
  });

  it('an instance with nothing to record has no log handler, so its requests skip the log phase', async () => {
    const node = { id: 'n', version: 'v' };
    const idle = await plugin.init!({ config: NONE, pluginId: 'a', log: console, node });
    assert.equal(idle.log, undefined);
    for (const on of ['status_code_metrics', 'latency_metrics', 'bandwidth_metrics'] as const) {
      const recording = await plugin.init!({
        config: { ...NONE, [on]: true },
        pluginId: on,
        log: console,
        node,
      });
      assert.equal(typeof recording.log, 'function', on);
      await recording.close?.();
    }
    await idle.close?.();
  });

  it('fills the consumer label (username, else custom_id) only with per_consumer', async () => {
    const alice = { id: 'c1', username: 'alice' };
    const bob = { id: 'c2', custom_id: 'bob-42' };
    await log(ALL, { consumer: alice });
    await log({ ...ALL, per_consumer: true }, { consumer: alice });
    await log({ ...ALL, per_consumer: true }, { consumer: bob });
    await log({ ...ALL, per_consumer: true });
    const parsed = scrape();
    const base = {
      service: 'orders',
      route: 'orders-route',
      code: '200',
      source: 'service',
      workspace: 'default',
    };
    assert.equal(sampleValue(parsed, 'kong_http_requests_total', { ...base, consumer: '' }), 2);
    assert.equal(sampleValue(parsed, 'kong_http_requests_total', { ...base, consumer: 'alice' }), 1);
    assert.equal(sampleValue(parsed, 'kong_http_requests_total', { ...base, consumer: 'bob-42' }), 1);
    assert.equal(
      sampleValue(parsed, 'kong_bandwidth_bytes', {
        service: 'orders',
        route: 'orders-route',
        direction: 'egress',
        workspace: 'default',
        consumer: 'alice',
      }),
      800,
    );
  });

  it('adds kong_bandwidth_bytes per direction with bandwidth_metrics, skipping zero sizes', async () => {
    await log({ ...NONE, bandwidth_metrics: true });
    await log(
      { ...NONE, bandwidth_metrics: true },
      { logRecord: record({ requestBytes: 0, responseBytes: 5 }) },
    );
    const parsed = scrape();
    const labels = { service: 'orders', route: 'orders-route', workspace: 'default', consumer: '' };
    assert.equal(sampleValue(parsed, 'kong_bandwidth_bytes', { ...labels, direction: 'ingress' }), 120);
    assert.equal(sampleValue(parsed, 'kong_bandwidth_bytes', { ...labels, direction: 'egress' }), 805);
    assert.equal(parsed.types.get('kong_http_requests_total'), undefined, 'status codes are off');
    assert.equal(parsed.types.get('kong_kong_latency_ms'), undefined, 'latencies are off');
  });

  it('has no series for a direction that never carried a byte', async () => {
    await log(
      { ...NONE, bandwidth_metrics: true },
      { logRecord: record({ requestBytes: 0, responseBytes: 9 }) },
    );
    const directions = scrape()
      .samples.filter((s) => s.name === 'kong_bandwidth_bytes')
      .map((s) => s.labels.direction);
    assert.deepEqual(directions, ['egress']);
  });

  it('observes the three latency histograms with Kong’s buckets per service/route', async () => {
    const config = { ...NONE, latency_metrics: true };
    await log(config, { logRecord: record({ latencyMs: 42, upstreamLatencyMs: 30, proxyLatencyMs: 12 }) });
    await log(config, { logRecord: record({ latencyMs: 3, upstreamLatencyMs: null, proxyLatencyMs: 3 }) });
    const parsed = scrape();
    const labels = { service: 'orders', route: 'orders-route', workspace: 'default' };
    const les = (family: string) =>
      parsed.samples.filter((s) => s.name === `${family}_bucket`).map((s) => s.labels.le);
    assert.deepEqual(les('kong_kong_latency_ms'), [...KONG_LATENCY_BUCKETS.map(String), '+Inf']);
    assert.deepEqual(les('kong_upstream_latency_ms'), [...UPSTREAM_LATENCY_BUCKETS.map(String), '+Inf']);
    assert.deepEqual(les('kong_request_latency_ms'), [...UPSTREAM_LATENCY_BUCKETS.map(String), '+Inf']);

    assert.equal(sampleValue(parsed, 'kong_kong_latency_ms_bucket', { ...labels, le: '2' }), 0);
    assert.equal(sampleValue(parsed, 'kong_kong_latency_ms_bucket', { ...labels, le: '5' }), 1);
    assert.equal(sampleValue(parsed, 'kong_kong_latency_ms_bucket', { ...labels, le: '15' }), 2);
    assert.equal(sampleValue(parsed, 'kong_kong_latency_ms_sum', labels), 15);
    assert.equal(sampleValue(parsed, 'kong_request_latency_ms_bucket', { ...labels, le: '25' }), 1);
    assert.equal(sampleValue(parsed, 'kong_request_latency_ms_bucket', { ...labels, le: '50' }), 2);
    assert.equal(sampleValue(parsed, 'kong_request_latency_ms_count', labels), 2);
    // No upstream was called the second time: only one upstream observation.
    assert.equal(sampleValue(parsed, 'kong_upstream_latency_ms_count', labels), 1);
    assert.equal(sampleValue(parsed, 'kong_upstream_latency_ms_bucket', { ...labels, le: '25' }), 0);
    assert.equal(sampleValue(parsed, 'kong_upstream_latency_ms_bucket', { ...labels, le: '50' }), 1);
  });

  it('keeps one registry across plugin instances and configuration versions', async () => {
    const first = await plugin.init!({
      config: ALL,
      pluginId: 'p1',
      log: console,
      node: { id: 'n', version: 'v' },
    });
    await first.log!(fakeContext<PrometheusConfig>({ config: ALL, service, route, logRecord: record() }));
    const second = await plugin.init!({
      config: ALL,
      pluginId: 'p2',
      log: console,
      node: { id: 'n', version: 'v' },
    });
    await first.close?.();
    await second.log!(fakeContext<PrometheusConfig>({ config: ALL, service, route, logRecord: record() }));
    assert.equal(metrics.requests.get(['orders', 'orders-route', '200', 'service', 'default', '']), 2);
  });

  it('exports upstream health while an instance of the served configuration asks for it', async () => {
    const node = { id: 'n', version: 'v' };
    const off = await plugin.init!({ config: ALL, pluginId: 'a', log: console, node });
    assert.equal(metrics.upstreamHealthEnabled, false);
    const on = await plugin.init!({
      config: { ...ALL, upstream_health_metrics: true },
      pluginId: 'b',
      log: console,
      node,
    });
    assert.equal(metrics.upstreamHealthEnabled, true);
    await off.close?.();
    assert.equal(metrics.upstreamHealthEnabled, true);
    await on.close?.();
    assert.equal(metrics.upstreamHealthEnabled, false, 'the configuration that asked was replaced');
  });
});
