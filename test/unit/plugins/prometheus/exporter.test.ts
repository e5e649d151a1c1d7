// Scrape-time gauges: node info, cluster link, cert expiry, upstream target health, and a control plane's data planes.
import assert from 'node:assert/strict';
import {
  adminExposition,
  certificateExpiry,
  configHashNumber,
  dataPlaneExposition,
  upstreamHealth,
  type UpstreamTargetHealth,
} from '../../../../src/core/plugins/prometheus/exporter.js';
import { ProxyMetrics } from '../../../../src/core/plugins/prometheus/metrics.js';
import { generateSharedModePair } from '../../../../src/core/pki/self-signed.js';
import type { Balancer, BalancerTarget } from '../../../../src/core/proxy/types.js';
import type { DataPlaneRow } from '../../../../src/core/store/types.js';
import { parseExposition, sampleValue } from './exposition-parser.js';

const NODE = '6f0e5f2b-8f8e-4c39-9d1b-1b8a8f3c2a10';

function dataPlaneRow(overrides: Partial<DataPlaneRow>): DataPlaneRow {
  return {
    id: '0b9f6f5e-3b52-4b8e-9e1a-9d8a7c6b5a40',
    hostname: 'dp-1',
    ip: '10.0.0.7',
    version: '0.1.0',
    sync_status: 'normal',
    config_hash: 'a9b1c3d5e7f90123456789abcdef0123',
    last_seen: 1_700_000_000,
    labels: {},
    cert_details: { expiry_timestamp: null },
    status: 'connected',
    control_plane_id: NODE,
    created_at: 1_700_000_000,
    updated_at: 1_700_000_000,
    ...overrides,
  };
}

function balancer(states: { target: BalancerTarget; state: UpstreamTargetHealth['state'] }[]): Balancer {
  return {
    upstream: { id: 'u', name: 'u' },
    pick: () => null,
    health: () => states,
    close: () => undefined,
  };
}

describe('prometheus exporter', () => {
  describe('data plane /metrics', () => {
    it('has kong_node_info, kong_control_plane_connected, cert expiry and datastore_reachable', () => {
      const metrics = new ProxyMetrics();
      const text = dataPlaneExposition({
        nodeId: NODE,
        version: '0.1.0',
        controlPlaneConnected: true,
        clusterCertExpiry: 2_068_058_801,
        upstreamHealth: () => assert.fail('not read while no entity asks for upstream health'),
        metrics,
      });
      const parsed = parseExposition(text);
      assert.equal(sampleValue(parsed, 'kong_node_info', { node_id: NODE, version: '0.1.0' }), 1);
      assert.equal(sampleValue(parsed, 'kong_control_plane_connected'), 1);
      assert.equal(sampleValue(parsed, 'kong_data_plane_cluster_cert_expiry_timestamp'), 2_068_058_801);
      assert.equal(sampleValue(parsed, 'kong_datastore_reachable'), 1);
      assert.ok(
        (sampleValue(parsed, 'kong_memory_workers_lua_vms_bytes', {
          node_id: NODE,
          pid: String(process.pid),
          kong_subsystem: 'http',
        }) ?? 0) > 0,
      );
      assert.equal(parsed.types.get('kong_upstream_target_health'), undefined);
      const disconnected = parseExposition(
        dataPlaneExposition({
          nodeId: NODE,
          version: '0.1.0',
          controlPlaneConnected: false,
          clusterCertExpiry: null,
          upstreamHealth: () => [],
          metrics,
        }),
      );
      assert.equal(sampleValue(disconnected, 'kong_control_plane_connected'), 0);
      assert.equal(disconnected.types.get('kong_data_plane_cluster_cert_expiry_timestamp'), undefined);
    });

    it('exports one kong_upstream_target_health series per state, 1 for the current one, when asked', () => {
      const metrics = new ProxyMetrics();
      metrics.wantUpstreamHealth({});
      const rows: UpstreamTargetHealth[] = [
        { upstream: 'orders', target: 'a.internal:80', address: '10.0.0.1:80', state: 'healthy' },
        { upstream: 'orders', target: 'b.internal:80', address: '', state: 'dns_error' },
      ];
      const parsed = parseExposition(
        dataPlaneExposition({
          nodeId: NODE,
          version: '0.1.0',
          controlPlaneConnected: true,
          clusterCertExpiry: null,
          upstreamHealth: () => rows,
          metrics,
        }),
      );
      const health = parsed.samples.filter((s) => s.name === 'kong_upstream_target_health');
      assert.equal(health.length, 8);
      const value = (target: string, address: string, state: string) =>
        sampleValue(parsed, 'kong_upstream_target_health', {
          upstream: 'orders',
          target,
          address,
          state,
          subsystem: 'http',
        });
      assert.equal(value('a.internal:80', '10.0.0.1:80', 'healthy'), 1);
      assert.equal(value('a.internal:80', '10.0.0.1:80', 'unhealthy'), 0);
      assert.equal(value('a.internal:80', '10.0.0.1:80', 'healthchecks_off'), 0);
      assert.equal(value('b.internal:80', '', 'dns_error'), 1);
      assert.equal(value('b.internal:80', '', 'healthy'), 0);
    });

    it('reads target health from the balancers: configured name as target, ip:port as address', () => {
      const balancers: Record<string, Balancer> = {
        orders: balancer([
          {
            target: {
              key: '127.0.0.1:8080',
              host: '127.0.0.1',
              port: 8080,
              weight: 100,
              hostname: 'localhost',
            },
            state: 'healthy',
          },
          { target: { key: '10.0.0.2:80', host: '10.0.0.2', port: 80, weight: 100 }, state: 'unhealthy' },
          { target: { key: '[::1]:81', host: '::1', port: 81, weight: 100 }, state: 'healthchecks_off' },
          {
            target: {
              key: 'gone.invalid:80',
              host: 'gone.invalid',
              port: 80,
              weight: 100,
              hostname: 'gone.invalid',
            },
            state: 'dns_error',
          },
        ]),
      };
      assert.deepEqual(
        upstreamHealth(['orders', 'missing'], (name) => balancers[name] ?? null),
        [
          { upstream: 'orders', target: 'localhost:8080', address: '127.0.0.1:8080', state: 'healthy' },
          { upstream: 'orders', target: '10.0.0.2:80', address: '10.0.0.2:80', state: 'unhealthy' },
          { upstream: 'orders', target: '[::1]:81', address: '::1:81', state: 'healthchecks_off' },
          { upstream: 'orders', target: 'gone.invalid:80', address: '', state: 'dns_error' },
        ],
      );
    });

    it('reads cluster_cert expiry from the first certificate of the PEM', () => {
      const pair = generateSharedModePair(30, new Date('2030-01-01T00:00:00Z'));
      assert.equal(certificateExpiry(pair.certPem), Math.floor(pair.notAfter.getTime() / 1000));
      const other = generateSharedModePair(90);
      assert.equal(
        certificateExpiry(pair.certPem + other.certPem),
        Math.floor(pair.notAfter.getTime() / 1000),
      );
      assert.equal(certificateExpiry(undefined), null);
      assert.equal(certificateExpiry('not a certificate'), null);
    });
  });

  describe('control plane /metrics', () => {
    it('reads a config hash as one number, as Kong’s tonumber("0x" .. hash)', () => {
      assert.equal(configHashNumber('00000000000000000000000000000000'), 0);
      assert.equal(configHashNumber('000000000000000000000000000000ff'), 255);
      assert.equal(configHashNumber('ffffffffffffffffffffffffffffffff'), 2 ** 128);
      assert.equal(configHashNumber(null), 0);
      assert.equal(configHashNumber('not-hex'), 0);
    });

    it('exports Kong’s data plane gauges, plus connected and in-sync, and datastore reachability', async () => {
      const rows = [
        dataPlaneRow({}),
        dataPlaneRow({
          id: '1c2d3e4f-0000-4000-8000-000000000002',
          hostname: 'dp-2',
          ip: '10.0.0.8',
          version: '3.9.0',
          sync_status: 'plugin_set_incompatible',
          config_hash: null,
          last_seen: 1_700_000_100,
          status: 'disconnected',
        }),
      ];
      const parsed = parseExposition(
        await adminExposition({
          nodeId: NODE,
          version: '0.1.0',
          datastoreReachable: async () => true,
          dataPlanes: async () => rows,
          configHash: () => 'a9b1c3d5e7f90123456789abcdef0123',
          metrics: new ProxyMetrics(),
        }),
      );
      const one = { node_id: rows[0]!.id, hostname: 'dp-1', ip: '10.0.0.7' };
      const two = { node_id: rows[1]!.id, hostname: 'dp-2', ip: '10.0.0.8' };
      assert.equal(sampleValue(parsed, 'kong_node_info', { node_id: NODE, version: '0.1.0' }), 1);
      assert.equal(sampleValue(parsed, 'kong_datastore_reachable'), 1);
      assert.equal(sampleValue(parsed, 'kong_data_plane_last_seen', one), 1_700_000_000);
      assert.equal(sampleValue(parsed, 'kong_data_plane_last_seen', two), 1_700_000_100);
      assert.equal(
        sampleValue(parsed, 'kong_data_plane_config_hash', one),
        parseInt('a9b1c3d5e7f90123456789abcdef0123', 16),
      );
      assert.equal(sampleValue(parsed, 'kong_data_plane_config_hash', two), 0);
      assert.equal(
        sampleValue(parsed, 'kong_data_plane_version_compatible', { ...one, kong_version: '0.1.0' }),
        1,
      );
      assert.equal(
        sampleValue(parsed, 'kong_data_plane_version_compatible', { ...two, kong_version: '3.9.0' }),
        0,
      );
      assert.equal(sampleValue(parsed, 'kong_data_plane_connected', one), 1);
      assert.equal(sampleValue(parsed, 'kong_data_plane_connected', two), 0);
      assert.equal(sampleValue(parsed, 'kong_data_plane_config_synced', one), 1);
      assert.equal(sampleValue(parsed, 'kong_data_plane_config_synced', two), 0);
      assert.equal(parsed.types.get('kong_control_plane_connected'), undefined, 'a data plane gauge');
    });

    it('reports an unreachable or failing datastore as 0 and leaves out data planes off a control plane', async () => {
      for (const datastoreReachable of [async () => false, () => Promise.reject(new Error('down'))]) {
        const parsed = parseExposition(
          await adminExposition({
            nodeId: NODE,
            version: '0.1.0',
            datastoreReachable,
            metrics: new ProxyMetrics(),
          }),
        );
        assert.equal(sampleValue(parsed, 'kong_datastore_reachable'), 0);
        assert.equal(parsed.types.get('kong_data_plane_last_seen'), undefined);
      }
    });
  });
});
