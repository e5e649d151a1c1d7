// `hybrid health`: is a node running in this prefix? The exit code says (0 yes, 1 no).
import { BaseCommand } from '../cli/base-command.js';
import { prefixFlag } from '../cli/flags.js';
import { nodeHealth, type HealthResult } from '../core/process/control.js';
import { prefixFrom } from '../core/process/launch.js';
import { ExitCode } from '../core/errors.js';

export default class Health extends BaseCommand {
  static override description =
    'Report whether the node in a prefix is running; exit 0 when healthy, 1 when not.';
  static override enableJsonFlag = true;
  static override flags = { prefix: prefixFlag };

  async run(): Promise<HealthResult> {
    const { flags } = await this.parse(Health);
    const result = await nodeHealth(prefixFrom(flags.prefix));
    if (result.healthy) this.log(`Hybrid is healthy at ${result.prefix} (pid ${result.pid})`);
    else {
      this.logToStderr(`Hybrid is not running at ${result.prefix}`);
      process.exitCode = ExitCode.invalid;
    }
    return result;
  }
}
