// Human rendering of a cluster status report: a table of data planes, then the problems (or "healthy").
import chalk from 'chalk';
import {
  describeAge,
  isoDate,
  short,
  type ClusterStatusReport,
  type DataPlaneStatus,
} from '../core/cluster/status-report.js';

interface Cell {
  text: string;
  colour?: (s: string) => string;
}

const HEADERS = ['HOSTNAME', 'IP', 'VERSION', 'STATUS', 'SYNC', 'CONFIG HASH', 'LAST SEEN', 'CERT EXPIRY'];

function cells(dp: DataPlaneStatus, warnDays: number): Cell[] {
  const sync: Cell =
    dp.sync_status !== 'normal' && dp.sync_status !== 'unknown'
      ? { text: dp.sync_status, colour: chalk.red }
      : dp.in_sync === null
        ? { text: 'unknown', colour: chalk.yellow }
        : dp.in_sync
          ? { text: 'in sync', colour: chalk.green }
          : { text: 'out of sync', colour: chalk.red };
  const expiry = dp.cert_details.expiry_timestamp;
  const days = dp.cert_days_left;
  const cert: Cell =
    expiry === null || days === null
      ? { text: '-' }
      : {
          text: `${isoDate(expiry)} (${days}d)`,
          colour: days < 0 ? chalk.red : days < warnDays ? chalk.yellow : undefined,
        };
  return [
    { text: dp.hostname },
    { text: dp.ip },
    { text: dp.version },
    { text: dp.status, colour: dp.status === 'connected' ? chalk.green : chalk.red },
    sync,
    { text: short(dp.config_hash) },
    { text: `${describeAge(dp.last_seen_ago)} ago` },
    cert,
  ];
}

/** Lines of the report: the control plane's hash, the table, then each problem or a healthy verdict. */
export function renderClusterStatus(report: ClusterStatusReport, warnDays: number): string[] {
  const rows: Cell[][] = [
    HEADERS.map((text) => ({ text, colour: chalk.bold })),
    ...report.data_planes.map((dp) => cells(dp, warnDays)),
  ];
  const widths = HEADERS.map((_, i) => Math.max(...rows.map((r) => r[i]!.text.length)));
  const lines = [`control plane configuration hash: ${report.control_plane_hash ?? '-'}`];
  if (report.data_planes.length === 0) lines.push('no data planes registered');
  else
    for (const row of rows)
      lines.push(
        row
          .map((cell, i) => {
            const padded = i === row.length - 1 ? cell.text : cell.text.padEnd(widths[i]!);
            return cell.colour ? cell.colour(padded) : padded;
          })
          .join('  '),
      );
  const connected = report.data_planes.filter((dp) => dp.status === 'connected').length;
  const summary = `${connected} of ${report.data_planes.length} data plane(s) connected`;
  if (report.healthy) lines.push(chalk.green(`healthy: ${summary}`));
  else {
    for (const p of report.problems) lines.push(`${chalk.red('✗')} ${p.message} ${chalk.dim(`[${p.code}]`)}`);
    lines.push(chalk.red(`unhealthy: ${report.problems.length} problem(s), ${summary}`));
  }
  return lines;
}
