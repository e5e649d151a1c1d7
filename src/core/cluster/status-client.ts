// Reads a control plane's cluster state over its Admin API: `/status` for its hash, every page of /clustering/data-planes.
import type { DataPlaneItem } from '../admin/clustering.js';
import { HybridError } from '../errors.js';
import {
  clusterStatusReport,
  type ClusterState,
  type ClusterStatusReport,
  type StatusCriteria,
} from './status-report.js';

/** Kong's default admin_listen. */
export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:8001';
/** Each request of `cluster status` gives up after this long. */
export const ADMIN_REQUEST_TIMEOUT_MS = 5000;

/** `--admin-url`, else HYBRID_ADMIN_URL, else Kong's default admin address. */
export function adminUrlFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return (flag ?? env.HYBRID_ADMIN_URL ?? DEFAULT_ADMIN_URL).replace(/\/+$/, '');
}

async function getJson(adminUrl: string, path: string): Promise<unknown> {
  const url = `${adminUrl}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(ADMIN_REQUEST_TIMEOUT_MS) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new HybridError('admin_unreachable', `cannot reach the Admin API at ${adminUrl} (${why})`, {
      cause: err,
      hint: "Point --admin-url (or HYBRID_ADMIN_URL) at the control plane's admin_listen.",
    });
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (res.status !== 200) {
    const message = (body as { message?: unknown } | undefined)?.message;
    throw new HybridError(
      'admin_refused',
      `GET ${url} answered ${res.status}${typeof message === 'string' ? `: ${message}` : ''}`,
      {
        hint:
          res.status === 400 ? 'Is this the Admin API of a control plane (role = control_plane)?' : undefined,
      },
    );
  }
  if (body === undefined)
    throw new HybridError('admin_refused', `GET ${url} did not answer JSON`, {
      hint: 'Is this the Admin API of a control plane?',
    });
  return body;
}

/** The control plane's hash and every registered data plane, following `next` links. */
export async function readClusterState(adminUrl: string): Promise<ClusterState> {
  const dataPlanes: DataPlaneItem[] = [];
  let path: string | null = '/clustering/data-planes?size=1000';
  while (path !== null) {
    const page = (await getJson(adminUrl, path)) as { data: DataPlaneItem[]; next: string | null };
    dataPlanes.push(...page.data);
    path = page.next;
  }
  const status = (await getJson(adminUrl, '/status')) as { configuration_hash?: string | null };
  return { controlPlaneHash: status.configuration_hash ?? null, dataPlanes };
}

/** One round of `hybrid cluster status`: read the control plane, judge it now. */
export async function checkClusterStatus(
  adminUrl: string,
  criteria: StatusCriteria,
  now: () => number = Date.now,
): Promise<ClusterStatusReport> {
  return clusterStatusReport(await readClusterState(adminUrl), now(), criteria);
}
