// `hybrid cluster status` judged as a pure function: the control plane's answer and a time in, a report with problems out.
import type { DataPlaneItem } from '../admin/clustering.js';
import { DEFAULT_WARN_DAYS } from '../pki/index.js';
import { PING_TIMEOUT_MS } from './protocol.js';
import { REGISTRY_FLUSH_MS } from './registry.js';

/** What the control plane answered: its configuration hash and every `/clustering/data-planes` item. */
export interface ClusterState {
  controlPlaneHash: string | null;
  dataPlanes: DataPlaneItem[];
}

export interface StatusCriteria {
  /** Fewer connected data planes than this is a problem (default 0: no minimum). */
  minDataPlanes?: number;
  /** A certificate expiring within this many days is a problem (verify-pki's default, 30). */
  warnDays?: number;
  /** A data plane not heard from for longer is a problem (the cluster's ping timeout, 45 s). */
  pingTimeoutMs?: number;
}

export type ProblemCode =
  | 'no_control_plane_hash'
  | 'out_of_sync'
  | 'incompatible'
  | 'not_seen'
  | 'cert_expiring'
  | 'cert_expired'
  | 'too_few_data_planes';

export interface StatusProblem {
  code: ProblemCode;
  message: string;
  /** The data plane concerned, when one is. */
  id?: string;
}

export interface DataPlaneStatus extends DataPlaneItem {
  /** Its hash equals the control plane's; null when either is unknown. */
  in_sync: boolean | null;
  /** Seconds since the control plane last heard from it. */
  last_seen_ago: number;
  /** Whole days until its certificate expires (negative once expired); null when unknown. */
  cert_days_left: number | null;
}

export interface ClusterStatusReport {
  control_plane_hash: string | null;
  data_planes: DataPlaneStatus[];
  problems: StatusProblem[];
  healthy: boolean;
}

/**
 * Slack on top of the ping timeout: last_seen is stored in whole seconds and written in batches
 * (REGISTRY_FLUSH_MS), so a data plane pinging on time may look up to that much older.
 */
export const LAST_SEEN_SLACK_MS = REGISTRY_FLUSH_MS + 1000;

const DAY_S = 86_400;

export function clusterStatusReport(
  state: ClusterState,
  nowMs: number,
  criteria: StatusCriteria = {},
): ClusterStatusReport {
  const warnDays = criteria.warnDays ?? DEFAULT_WARN_DAYS;
  const pingTimeoutMs = criteria.pingTimeoutMs ?? PING_TIMEOUT_MS;
  const minDataPlanes = criteria.minDataPlanes ?? 0;
  const cpHash = state.controlPlaneHash;
  const nowS = nowMs / 1000;
  const problems: StatusProblem[] = [];
  if (cpHash === null)
    problems.push({
      code: 'no_control_plane_hash',
      message: 'the control plane reports no configuration hash, so sync cannot be judged',
    });

  const dataPlanes = state.dataPlanes.map((dp): DataPlaneStatus => {
    const who = `${dp.hostname} (${dp.id}, ${dp.ip})`;
    const problem = (code: ProblemCode, message: string) =>
      problems.push({ code, id: dp.id, message: `${who}: ${message}` });
    const inSync = cpHash === null || dp.config_hash === null ? null : dp.config_hash === cpHash;
    const lastSeenAgo = Math.max(0, Math.floor(nowS - dp.last_seen));
    const expiry = dp.cert_details.expiry_timestamp;
    const certDaysLeft = expiry === null ? null : Math.floor((expiry - nowS) / DAY_S);

    const connected = dp.status === 'connected';
    if (connected && dp.sync_status !== 'normal' && dp.sync_status !== 'unknown')
      problem('incompatible', `${dp.sync_status}: the control plane sends it no configuration`);
    else if (connected && inSync === false)
      problem(
        'out_of_sync',
        `configuration ${short(dp.config_hash)} differs from the control plane's ${short(cpHash)}`,
      );
    else if (connected && dp.config_hash === null && cpHash !== null)
      problem('out_of_sync', 'has not reported a configuration hash yet');
    if ((nowS - dp.last_seen) * 1000 > pingTimeoutMs + LAST_SEEN_SLACK_MS)
      problem(
        'not_seen',
        `${dp.status}, last seen ${describeAge(lastSeenAgo)} ago (ping timeout ${pingTimeoutMs / 1000} s)`,
      );
    if (expiry !== null && expiry <= nowS)
      problem('cert_expired', `certificate expired on ${isoDate(expiry)}`);
    else if (expiry !== null && expiry - nowS < warnDays * DAY_S)
      problem(
        'cert_expiring',
        `certificate expires on ${isoDate(expiry)}, in ${certDaysLeft} day(s) (warn: ${warnDays})`,
      );

    return { ...dp, in_sync: inSync, last_seen_ago: lastSeenAgo, cert_days_left: certDaysLeft };
  });

  const connected = dataPlanes.filter((dp) => dp.status === 'connected').length;
  if (connected < minDataPlanes)
    problems.push({
      code: 'too_few_data_planes',
      message: `${connected} data plane(s) connected, at least ${minDataPlanes} required`,
    });

  return { control_plane_hash: cpHash, data_planes: dataPlanes, problems, healthy: problems.length === 0 };
}

/** The first 8 characters of a hash, as the table shows it. */
export function short(hash: string | null): string {
  return hash === null ? '-' : hash.slice(0, 8);
}

export function isoDate(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().slice(0, 10);
}

/** `42s`, `5m`, `3h`, `2d`: how long ago, coarsely. */
export function describeAge(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < DAY_S) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / DAY_S)}d`;
}
