// What a /metrics scrape answers: the node's request metrics plus node-level gauges computed at scrape time —
// on a data plane its cluster link and upstream health, on a control plane its datastore and data planes.
import { parsePemCertificates } from '../../pki/pem.js';
import { hostPort } from '../../proxy/balancer/address.js';
import type { Balancer } from '../../proxy/types.js';
import type { DataPlaneRow, SyncStatus } from '../../store/types.js';
import { Gauge, renderFamilies, type MetricFamily } from './exposition.js';
import { nodeMetrics, type ProxyMetrics } from './metrics.js';

type TargetState = ReturnType<Balancer['health']>[number]['state'];

/** One address of an upstream target and its state, as kong_upstream_target_health labels it. */
export interface UpstreamTargetHealth {
  upstream: string;
  /** The target as configured, `host:port`. */
  target: string;
  /** The resolved `ip:port`; '' when the name did not resolve. */
  address: string;
  state: TargetState;
}

/** Kong exports one series per state for every address, 1 for its state and 0 for the others. */
const TARGET_STATES: readonly TargetState[] = ['healthchecks_off', 'healthy', 'unhealthy', 'dns_error'];

/** The health of every target of the named upstreams, from their balancers. */
export function upstreamHealth(
  upstreamNames: Iterable<string>,
  balancerFor: (name: string) => Balancer | null,
): UpstreamTargetHealth[] {
  const rows: UpstreamTargetHealth[] = [];
  for (const upstream of upstreamNames) {
    for (const { target, state } of balancerFor(upstream)?.health() ?? []) {
      rows.push({
        upstream,
        target: target.hostname ? hostPort(target.hostname, target.port) : target.key,
        // Kong joins ip and port without brackets.
        address: state === 'dns_error' ? '' : `${target.host}:${target.port}`,
        state,
      });
    }
  }
  return rows;
}

/** notAfter of the first certificate of a PEM (the node's own, before any chain), unix seconds. */
export function certificateExpiry(pem: string | undefined): number | null {
  if (!pem) return null;
  try {
    const [leaf] = parsePemCertificates(pem);
    return leaf ? Math.floor(leaf.notAfter.getTime() / 1000) : null;
  } catch {
    return null;
  }
}

/** Kong's `config_hash_to_number`: the md5 hex read as one (floating-point) number. */
export function configHashNumber(hash: string | null): number {
  if (!hash || !/^[0-9a-f]+$/i.test(hash)) return 0;
  return parseInt(hash, 16);
}

const INCOMPATIBLE: ReadonlySet<SyncStatus> = new Set([
  'kong_version_incompatible',
  'plugin_set_incompatible',
  'plugin_version_incompatible',
]);

/** What every node exports: kong_node_info and the process's VM heap. */
function nodeFamilies(nodeId: string, version: string): MetricFamily[] {
  const info = new Gauge('kong_node_info', 'Kong Node metadata information', ['node_id', 'version']);
  info.set([nodeId, version], 1);
  // Kong's per-worker Lua VM bytes; this node has one JavaScript VM, its heap in use.
  const heap = new Gauge('kong_memory_workers_lua_vms_bytes', 'Allocated bytes in worker Lua VM', [
    'node_id',
    'pid',
    'kong_subsystem',
  ]);
  heap.set([nodeId, String(process.pid), 'http'], process.memoryUsage().heapUsed);
  return [info, heap];
}

function datastoreFamily(reachable: boolean): Gauge {
  const gauge = new Gauge('kong_datastore_reachable', 'Datastore reachable from Kong, 0 is unreachable');
  gauge.set([], reachable ? 1 : 0);
  return gauge;
}

export interface DataPlaneScrape {
  nodeId: string;
  version: string;
  controlPlaneConnected: boolean;
  /** notAfter of cluster_cert, unix seconds. */
  clusterCertExpiry: number | null;
  /** Read only when a prometheus entity has upstream_health_metrics on. */
  upstreamHealth: () => UpstreamTargetHealth[];
  metrics?: ProxyMetrics;
}

/** The status listener's /metrics on a data plane. */
export function dataPlaneExposition(scrape: DataPlaneScrape): string {
  const metrics = scrape.metrics ?? nodeMetrics;
  const families: MetricFamily[] = [...metrics.families(), ...nodeFamilies(scrape.nodeId, scrape.version)];
  // A data plane has no database: Kong's DB-less connector always answers, so Kong reports 1.
  families.push(datastoreFamily(true));
  const connected = new Gauge(
    'kong_control_plane_connected',
    'Kong connected to control plane, 0 is unconnected',
  );
  connected.set([], scrape.controlPlaneConnected ? 1 : 0);
  families.push(connected);
  if (scrape.clusterCertExpiry !== null) {
    const expiry = new Gauge(
      'kong_data_plane_cluster_cert_expiry_timestamp',
      "Unix timestamp of Data Plane's cluster_cert expiry time",
    );
    expiry.set([], scrape.clusterCertExpiry);
    families.push(expiry);
  }
  if (metrics.upstreamHealthEnabled) {
    const health = new Gauge(
      'kong_upstream_target_health',
      'Health status of targets of upstream. States = healthchecks_off|healthy|unhealthy|dns_error, ' +
        'value is 1 when state is populated.',
      ['upstream', 'target', 'address', 'state', 'subsystem'],
    );
    for (const row of scrape.upstreamHealth()) {
      for (const state of TARGET_STATES)
        health.set([row.upstream, row.target, row.address, state, 'http'], state === row.state ? 1 : 0);
    }
    families.push(health);
  }
  return renderFamilies(families);
}

/** A datastore that does not answer within this is reported unreachable, so a scrape never hangs on it. */
export const DATASTORE_PROBE_MS = 3000;

function withinDeadline(probe: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  return Promise.race([probe.catch(() => false), deadline]).finally(() => clearTimeout(timer));
}

export interface AdminScrape {
  nodeId: string;
  version: string;
  datastoreReachable: () => Promise<boolean>;
  /** On a control plane: every data plane it has recorded, and the hash it currently sends them. */
  dataPlanes?: () => Promise<DataPlaneRow[]>;
  configHash?: () => string | null;
  metrics?: ProxyMetrics;
}

/** The Admin API's /metrics (a control plane adds its data planes). */
export async function adminExposition(scrape: AdminScrape): Promise<string> {
  const metrics = scrape.metrics ?? nodeMetrics;
  const families: MetricFamily[] = [
    ...metrics.families(),
    ...nodeFamilies(scrape.nodeId, scrape.version),
    datastoreFamily(await withinDeadline(scrape.datastoreReachable(), DATASTORE_PROBE_MS)),
  ];
  if (scrape.dataPlanes)
    families.push(...dataPlaneFamilies(await scrape.dataPlanes(), scrape.configHash?.()));
  return renderFamilies(families);
}

/** Kong's three data plane gauges, plus whether each is connected here and on the current configuration. */
export function dataPlaneFamilies(
  rows: readonly DataPlaneRow[],
  currentHash?: string | null,
): MetricFamily[] {
  const labels = ['node_id', 'hostname', 'ip'];
  const lastSeen = new Gauge(
    'kong_data_plane_last_seen',
    'Last time data plane contacted control plane',
    labels,
  );
  const hash = new Gauge(
    'kong_data_plane_config_hash',
    'Config hash numeric value of the data plane',
    labels,
  );
  const compatible = new Gauge(
    'kong_data_plane_version_compatible',
    'Version compatible status of the data plane, 0 is incompatible',
    [...labels, 'kong_version'],
  );
  const connected = new Gauge(
    'kong_data_plane_connected',
    'Data plane connected to a control plane of this cluster, 0 is disconnected',
    labels,
  );
  const synced = new Gauge(
    'kong_data_plane_config_synced',
    "Data plane reports the control plane's current configuration hash, 0 is out of sync",
    labels,
  );
  for (const row of rows) {
    const values = [row.id, row.hostname, row.ip];
    lastSeen.set(values, row.last_seen);
    hash.set(values, configHashNumber(row.config_hash));
    compatible.set([...values, row.version], INCOMPATIBLE.has(row.sync_status) ? 0 : 1);
    connected.set(values, row.status === 'connected' ? 1 : 0);
    if (currentHash) synced.set(values, row.config_hash === currentHash ? 1 : 0);
  }
  return [lastSeen, hash, compatible, connected, synced];
}
