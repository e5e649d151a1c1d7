// `hybrid stop`: stop the node in a prefix at once (SIGTERM).
import { BaseCommand } from '../cli/base-command.js';
import { prefixFlag } from '../cli/flags.js';
import { stopNode, type StopResult } from '../core/process/control.js';
import { prefixFrom } from '../core/process/launch.js';

export default class Stop extends BaseCommand {
  static override description = 'Stop the node running in a prefix, closing its connections at once.';
  static override enableJsonFlag = true;
  static override flags = { prefix: prefixFlag };

  async run(): Promise<StopResult> {
    const { flags } = await this.parse(Stop);
    const result = await stopNode(prefixFrom(flags.prefix));
    this.log(`Hybrid stopped (pid ${result.pid}, prefix ${result.prefix})`);
    return result;
  }
}
