// `hybrid restart`: stop the node in the prefix (if running) and start it again.
import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { prefixFlag } from '../cli/flags.js';
import { startDaemon, stopNode, nodeHealth, type DaemonStarted } from '../core/process/control.js';
import { prepareLaunch } from '../core/process/launch.js';

export default class Restart extends BaseCommand {
  static override description = 'Restart the node in a prefix with the given configuration.';
  static override enableJsonFlag = true;
  static override flags = {
    conf: Flags.string({ char: 'c', description: 'Configuration file (kong.conf).' }),
    prefix: prefixFlag,
  };

  async run(): Promise<DaemonStarted> {
    const { flags } = await this.parse(Restart);
    // Validate before stopping: a bad config must not take a running node down.
    const { config, record } = prepareLaunch({ conf: flags.conf, prefix: flags.prefix });
    if ((await nodeHealth(record.prefix)).healthy) await stopNode(record.prefix);
    const started = await startDaemon(record, process.env);
    this.log(`Hybrid restarted (${config.role}, pid ${started.pid})`);
    return started;
  }
}
