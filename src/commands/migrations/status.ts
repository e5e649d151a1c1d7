// `hybrid migrations status`: Show executed and pending migrations; exit 1 when the database is not bootstrapped or not up to date.
import { BaseCommand } from '../../cli/base-command.js';
import { storeFlags } from '../../cli/store-flags.js';
import { ExitCode } from '../../core/errors.js';
import { runMigrations, type MigrationReport } from '../../core/store/index.js';
import { storeOptionsFromFlags } from '../../core/store/from-config.js';

export default class MigrationsStatus extends BaseCommand {
  static override description =
    'Show executed and pending migrations; exit 1 when the database is not bootstrapped or not up to date.';
  static override examples = ['<%= config.bin %> migrations status -c /etc/hybrid/kong.conf'];
  static override enableJsonFlag = true;
  static override flags = storeFlags;

  async run(): Promise<MigrationReport> {
    const { flags } = await this.parse(MigrationsStatus);
    const report = await runMigrations(storeOptionsFromFlags(flags), 'status');
    if (!report.bootstrapped || report.pending.length > 0) process.exitCode = ExitCode.invalid;
    if (!report.bootstrapped) this.log('database needs bootstrapping: run hybrid migrations bootstrap');
    else if (report.pending.length > 0)
      this.log(`pending migrations: ${report.pending.join(', ')} (run hybrid migrations up)`);
    else this.log(`database is up to date (executed: ${report.executed.join(', ')})`);
    return report;
  }
}
