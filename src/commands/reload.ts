// `hybrid reload`: re-read kong.conf, KONG_* and certificate files in the running node, without dropping connections.
import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { prefixFlag } from '../cli/flags.js';
import { ExitCode } from '../core/errors.js';
import { reloadNode } from '../core/process/control.js';
import { prepareLaunch } from '../core/process/launch.js';
import type { ReloadAck } from '../core/process/reload.js';

export default class Reload extends BaseCommand {
  static override description =
    'Reload the running node: re-read configuration and certificates; say what needs a restart.';
  static override enableJsonFlag = true;
  static override flags = {
    conf: Flags.string({ char: 'c', description: 'Configuration file (kong.conf).' }),
    prefix: prefixFlag,
  };

  async run(): Promise<ReloadAck> {
    const { flags } = await this.parse(Reload);
    // Validated here first, so the operator sees every problem and the node is never sent a bad config.
    const { record } = prepareLaunch({ conf: flags.conf, prefix: flags.prefix });
    const ack = await reloadNode(record);
    if (!ack.ok) {
      this.logToStderr(ack.error ?? 'reload failed');
      process.exitCode = ExitCode.invalid;
      return ack;
    }
    this.log(
      `Hybrid reloaded (pid ${ack.pid})${ack.applied.length ? `: applied ${ack.applied.join(', ')}` : ''}`,
    );
    if (ack.needsRestart.length)
      this.log(`These changes take effect after a restart: ${ack.needsRestart.join(', ')}`);
    return ack;
  }
}
