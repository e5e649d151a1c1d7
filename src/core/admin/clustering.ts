// Clustering endpoints of a control plane's Admin API: /clustering/data-planes and Kong's older /clustering/status.
import { rowTtl } from '../cluster/registry.js';
import type { DataPlaneRow, DataPlaneRows } from '../store/index.js';
import type { AdminRoute } from './context.js';
import { nextPageLink, parsePageSize } from './query.js';
import { badRequest, ok } from './responses.js';

export interface ClusteringRouteOptions {
  rows: DataPlaneRows;
  /** cluster_data_plane_purge_delay in seconds, for each row's `ttl`. */
  purgeDelaySeconds: number;
  now?: () => number;
}

/** One `/clustering/data-planes` item: Kong's fields plus `status`. */
export interface DataPlaneItem {
  id: string;
  hostname: string;
  ip: string;
  version: string;
  sync_status: DataPlaneRow['sync_status'];
  config_hash: string | null;
  last_seen: number;
  ttl: number;
  labels: Record<string, string>;
  cert_details: { expiry_timestamp: number | null };
  status: DataPlaneRow['status'];
  created_at: number;
  updated_at: number;
}

export function dataPlaneItem(
  row: DataPlaneRow,
  purgeDelaySeconds: number,
  nowSeconds: number,
): DataPlaneItem {
  return {
    id: row.id,
    hostname: row.hostname,
    ip: row.ip,
    version: row.version,
    sync_status: row.sync_status,
    config_hash: row.config_hash,
    last_seen: row.last_seen,
    ttl: rowTtl(row.last_seen, purgeDelaySeconds, nowSeconds),
    labels: row.labels,
    cert_details: row.cert_details,
    status: row.status,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export function clusteringRoutes(options: ClusteringRouteOptions): AdminRoute[] {
  const { rows, purgeDelaySeconds } = options;
  const nowSeconds = () => Math.floor((options.now ?? Date.now)() / 1000);
  return [
    {
      method: 'GET',
      path: '/clustering/data-planes',
      handler: async (req) => {
        let size: number | undefined;
        if (req.query.has('size')) {
          const parsed = parsePageSize(req.query.getAll('size'));
          if (typeof parsed !== 'number') return { status: 400, body: parsed };
          size = parsed;
        }
        const page = await rows.list({ size, offset: req.query.get('offset') ?? undefined });
        const now = nowSeconds();
        return ok({
          data: page.data.map((row) => dataPlaneItem(row, purgeDelaySeconds, now)),
          offset: page.offset,
          next: nextPageLink(req.path, page.offset, req.query),
        });
      },
    },
    {
      // Deprecated in Kong in favour of /clustering/data-planes; kept for scripts that still read it.
      method: 'GET',
      path: '/clustering/status',
      handler: async () => {
        const byId: Record<string, Pick<DataPlaneRow, 'config_hash' | 'hostname' | 'ip' | 'last_seen'>> = {};
        for (const row of await allDataPlaneRows(rows))
          byId[row.id] = {
            config_hash: row.config_hash,
            hostname: row.hostname,
            ip: row.ip,
            last_seen: row.last_seen,
          };
        return ok(byId);
      },
    },
  ];
}

/** Every recorded data plane, page by page. */
export async function allDataPlaneRows(rows: DataPlaneRows): Promise<DataPlaneRow[]> {
  const all: DataPlaneRow[] = [];
  let offset: string | undefined;
  do {
    const page = await rows.list({ size: 1000, offset });
    all.push(...page.data);
    offset = page.offset;
  } while (offset !== undefined);
  return all;
}

/** Kong's answer to the clustering endpoints on a node that is not a control plane. */
export const notAControlPlaneRoutes: AdminRoute[] = ['/clustering/data-planes', '/clustering/status'].map(
  (path) => ({
    method: 'GET',
    path,
    handler: () => badRequest('this endpoint is only available on a control plane (role = control_plane)'),
  }),
);
