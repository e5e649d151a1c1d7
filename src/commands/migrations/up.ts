// `hybrid migrations up`: Run the pending migrations on a bootstrapped database.
import { BaseCommand } from '../../cli/base-command.js';
import { storeFlags } from '../../cli/store-flags.js';
import { runMigrations, type MigrationReport } from '../../core/store/index.js';
import { storeOptionsFromFlags } from '../../core/store/from-config.js';

export default class MigrationsUp extends BaseCommand {
  static override description = 'Run the pending migrations on a bootstrapped database.';
  static override examples = ['<%= config.bin %> migrations up -c /etc/hybrid/kong.conf'];
  static override enableJsonFlag = true;
  static override flags = storeFlags;

  async run(): Promise<MigrationReport> {
    const { flags } = await this.parse(MigrationsUp);
    const report = await runMigrations(storeOptionsFromFlags(flags), 'up');
    this.log(
      report.ran.length > 0
        ? `migrations up to date (ran ${report.ran.join(', ')})`
        : 'database is already up to date',
    );
    return report;
  }
}
