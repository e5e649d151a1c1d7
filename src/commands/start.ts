// `hybrid start`: start a node in its role, as a daemon (default) or in the foreground.
import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { prefixFlag } from '../cli/flags.js';
import { startDaemon, type DaemonStarted } from '../core/process/control.js';
import { prepareLaunch } from '../core/process/launch.js';
import { childError, runForeground } from '../core/process/run.js';

export default class Start extends BaseCommand {
  static override description = 'Start a node (control plane, data plane or traditional) from kong.conf.';
  static override examples = [
    '<%= config.bin %> start -c kong.conf',
    '<%= config.bin %> start -c kong.conf -p /var/run/hybrid --foreground',
  ];
  static override enableJsonFlag = true;

  static override flags = {
    conf: Flags.string({ char: 'c', description: 'Configuration file (kong.conf).' }),
    prefix: prefixFlag,
    foreground: Flags.boolean({
      description: 'Stay in the foreground (containers, systemd); same as daemon = off.',
    }),
    'run-migrations': Flags.boolean({ description: 'Apply pending PostgreSQL migrations before serving.' }),
    'daemon-child': Flags.boolean({
      hidden: true,
      description: 'Internal: the process a daemonising start spawns.',
    }),
  };

  async run(): Promise<DaemonStarted | void> {
    const { flags } = await this.parse(Start);
    const launch = prepareLaunch({ conf: flags.conf, prefix: flags.prefix });
    const { config, warnings } = launch;
    const record = { ...launch.record, runMigrations: flags['run-migrations'] };
    if (flags['daemon-child']) {
      // Errors go back to the waiting parent, which prints them; this process only exits.
      return runForeground({
        config,
        launch: record,
        logToStderr: false,
        onReady: (m) => process.send?.(m),
      }).catch((err) => {
        process.send?.(childError(err));
        process.exitCode = 1;
      });
    }
    for (const warning of warnings) this.warn(warning);
    if (flags.foreground || !config.daemon) {
      return runForeground({
        config,
        launch: record,
        logToStderr: true,
        onReady: (m) =>
          this.logToStderr(`Hybrid started (${config.role}, pid ${m.pid}, prefix ${record.prefix})`),
      });
    }
    const started = await startDaemon(record, process.env);
    this.log(`Hybrid started (${config.role}, pid ${started.pid}, prefix ${started.prefix})`);
    for (const endpoint of started.endpoints) this.log(`  ${endpoint}`);
    return started;
  }
}
