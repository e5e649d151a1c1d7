// `hybrid config db_import FILE`: import a declarative config into the store, all or nothing.
import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { storeFlags } from '../../cli/store-flags.js';
import { importFile, type ImportResult } from '../../core/declarative/index.js';
import { storeOptionsFromFlags } from '../../core/store/from-config.js';

export default class ConfigDbImport extends BaseCommand {
  static override description =
    'Import a declarative config file into the control plane database in one transaction; an invalid file imports nothing, and importing the same file again changes nothing.';
  static override examples = ['<%= config.bin %> config db_import kong.yml -c /etc/hybrid/kong.conf'];
  static override enableJsonFlag = true;
  static override args = { file: Args.string({ description: 'Declarative config file.', required: true }) };
  static override flags = storeFlags;

  async run(): Promise<ImportResult & { file: string }> {
    const { args, flags } = await this.parse(ConfigDbImport);
    const result = await importFile(storeOptionsFromFlags(flags), args.file);
    this.log(
      `import successful: ${result.created} created, ${result.updated} updated, ${result.unchanged} unchanged (config version ${result.version})`,
    );
    return result;
  }
}
