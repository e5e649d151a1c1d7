// `hybrid cluster status`: the control plane's data planes as a table, with an exit code CI can gate on.
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { renderClusterStatus } from '../../cli/render-cluster-status.js';
import { adminUrlFrom, checkClusterStatus } from '../../core/cluster/status-client.js';
import type { ClusterStatusReport } from '../../core/cluster/status-report.js';
import { ExitCode, HybridError } from '../../core/errors.js';
import { DEFAULT_WARN_DAYS } from '../../core/pki/index.js';

export default class ClusterStatus extends BaseCommand {
  static override description =
    'Show the data planes a control plane knows (GET /clustering/data-planes); exit 1 when one is out of sync, not seen within the ping timeout, near certificate expiry, or fewer than --min-dps are connected.';
  static override examples = [
    '<%= config.bin %> cluster status',
    '<%= config.bin %> cluster status --admin-url http://cp.internal:8001 --min-dps 2 --json',
    '<%= config.bin %> cluster status --watch --interval 5',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    'admin-url': Flags.string({
      description: "The control plane's Admin API. Default: HYBRID_ADMIN_URL, else http://127.0.0.1:8001.",
    }),
    'min-dps': Flags.integer({
      description: 'Fewer connected data planes than this is a problem.',
      default: 0,
      min: 0,
    }),
    'warn-days': Flags.integer({
      description: 'A data plane certificate expiring within this many days is a problem.',
      default: DEFAULT_WARN_DAYS,
      min: 0,
    }),
    watch: Flags.boolean({
      description: 'Redraw every --interval seconds until Ctrl-C.',
      exclusive: ['json'],
    }),
    interval: Flags.integer({ description: 'Seconds between rounds of --watch.', default: 2, min: 1 }),
  };

  async run(): Promise<ClusterStatusReport | undefined> {
    const { flags } = await this.parse(ClusterStatus);
    const adminUrl = adminUrlFrom(flags['admin-url']);
    const criteria = { minDataPlanes: flags['min-dps'], warnDays: flags['warn-days'] };
    const round = async (): Promise<ClusterStatusReport> => {
      const report = await checkClusterStatus(adminUrl, criteria);
      process.exitCode = report.healthy ? ExitCode.ok : ExitCode.invalid;
      if (!this.jsonEnabled())
        for (const line of renderClusterStatus(report, flags['warn-days'])) this.log(line);
      return report;
    };
    if (!flags.watch) return round();

    let stopped = false;
    let wake = () => {};
    process.once('SIGINT', () => {
      stopped = true;
      wake();
    });
    while (!stopped) {
      if (process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
      this.log(`${adminUrl} at ${new Date().toISOString()} (every ${flags.interval} s, Ctrl-C to stop)`);
      await round().catch((err: HybridError) => {
        if (!(err instanceof HybridError)) throw err;
        this.logToStderr(`Error: ${err.message}`);
        process.exitCode = err.exitCode;
      });
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, flags.interval * 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return undefined;
  }
}
