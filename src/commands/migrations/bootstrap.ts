// `hybrid migrations bootstrap`: Create the schema in an empty PostgreSQL database (SQLite migrates itself).
import { BaseCommand } from '../../cli/base-command.js';
import { storeFlags } from '../../cli/store-flags.js';
import { runMigrations, type MigrationReport } from '../../core/store/index.js';
import { storeOptionsFromFlags } from '../../core/store/from-config.js';

export default class MigrationsBootstrap extends BaseCommand {
  static override description = 'Create the schema in an empty PostgreSQL database (SQLite migrates itself).';
  static override examples = ['<%= config.bin %> migrations bootstrap -c /etc/hybrid/kong.conf'];
  static override enableJsonFlag = true;
  static override flags = storeFlags;

  async run(): Promise<MigrationReport> {
    const { flags } = await this.parse(MigrationsBootstrap);
    const report = await runMigrations(storeOptionsFromFlags(flags), 'bootstrap');
    this.log(report.ran.length > 0 ? `database bootstrapped (${report.ran.join(', ')})` : 'nothing to do');
    return report;
  }
}
