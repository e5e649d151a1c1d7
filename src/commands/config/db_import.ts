// `hybrid config db_import FILE`: import a declarative config into the store, all or nothing.
import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { storeFlags } from '../../cli/store-flags.js';
import { importFile, type ImportResult } from '../../core/declarative/index.js';
import { loadPlugins } from '../../core/plugins/handlers.js';
import { storeOptionsFromConfig } from '../../core/store/index.js';
import { loadStoreConfig } from '../../core/store/from-config.js';

export default class ConfigDbImport extends BaseCommand {
  static override description =
    'Import a declarative config file into the control plane database in one transaction; an invalid file imports nothing, and importing the same file again changes nothing.';
  static override examples = ['<%= config.bin %> config db_import kong.yml -c /etc/hybrid/kong.conf'];
  static override enableJsonFlag = true;
  static override args = { file: Args.string({ description: 'Declarative config file.', required: true }) };
  static override flags = storeFlags;

  async run(): Promise<ImportResult & { file: string }> {
    const { args, flags } = await this.parse(ConfigDbImport);
    const config = loadStoreConfig(flags);
    // The node's plugins with the schemas it validates with (custom ones from plugins_path; a control plane's
    // DB-less ones, without rate-limiting's `cluster` policy): the file is checked as its Admin API would.
    await loadPlugins(config);
    const result = await importFile(storeOptionsFromConfig(config), args.file);
    this.log(
      `import successful: ${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged (config version ${result.version})`,
    );
    return result;
  }
}
