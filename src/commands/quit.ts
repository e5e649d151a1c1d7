// `hybrid quit`: graceful stop (SIGQUIT): finish requests in flight, then stop; SIGTERM after --timeout.
import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { prefixFlag } from '../cli/flags.js';
import { quitNode, type StopResult } from '../core/process/control.js';
import { prefixFrom } from '../core/process/launch.js';

export default class Quit extends BaseCommand {
  static override description =
    'Gracefully stop the node in a prefix: stop accepting, let requests in flight finish.';
  static override enableJsonFlag = true;
  static override flags = {
    prefix: prefixFlag,
    timeout: Flags.integer({
      description: 'Seconds to wait before forcing the stop (SIGTERM).',
      default: 10,
      min: 0,
    }),
  };

  async run(): Promise<StopResult> {
    const { flags } = await this.parse(Quit);
    const result = await quitNode(prefixFrom(flags.prefix), flags.timeout * 1000);
    this.log(
      `Hybrid stopped${result.forced ? ' (forced after the timeout)' : ' gracefully'} (pid ${result.pid})`,
    );
    return result;
  }
}
