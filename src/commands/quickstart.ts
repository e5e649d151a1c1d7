// `hybrid quickstart`: a control plane and a data plane on this machine, configured and proxying in seconds.
import { Flags } from '@oclif/core';
import chalk from 'chalk';
import { BaseCommand } from '../cli/base-command.js';
import { renderClusterStatus } from '../cli/render-cluster-status.js';
import { DEFAULT_WARN_DAYS } from '../core/pki/index.js';
import { runQuickstart, type QuickstartStep } from '../core/quickstart/quickstart.js';

export default class Quickstart extends BaseCommand {
  static override description =
    'Run a local control plane and data plane on embedded defaults (SQLite, shared-mode certificate), ' +
    'configure a sample upstream, service and route, and proxy one request through the data plane.';
  static override examples = [
    '<%= config.bin %> quickstart',
    '<%= config.bin %> quickstart --dir ./hybrid-demo --keep',
  ];
  static override enableJsonFlag = true;

  static override flags = {
    dir: Flags.string({
      description:
        'Empty directory for certificates, configurations and prefixes (default: a temporary one).',
    }),
    keep: Flags.boolean({ description: 'Keep both nodes running until Ctrl-C (default: stop once shown).' }),
  };

  async run() {
    const { flags } = await this.parse(Quickstart);
    const json = this.jsonEnabled();
    const quickstart = await runQuickstart({
      dir: flags.dir,
      onStep: json ? undefined : (s) => this.step(s),
    });
    const { stop, ...result } = quickstart;
    if (flags.keep) {
      this.log(
        `\n${chalk.green('Running.')} Admin API ${result.controlPlane.adminUrl}, proxy ${result.dataPlane.proxyUrl}.` +
          ` Press Ctrl-C to stop.`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
    await stop();
    if (!json) {
      this.log(
        `\n${chalk.green('Quickstart finished:')} both nodes stopped${result.temporary ? ', files removed' : ''}.`,
      );
    }
    return result;
  }

  private step(step: QuickstartStep): void {
    this.log(`\n${chalk.bold(step.title)}`);
    if (step.command) this.log(chalk.dim(`$ ${step.command}`));
    if (step.output) this.log(step.output.replace(/^/gm, '  '));
    if (step.cluster) for (const line of renderClusterStatus(step.cluster, DEFAULT_WARN_DAYS)) this.log(line);
  }
}
