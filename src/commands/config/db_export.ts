// `hybrid config db_export [FILE]`: write the store's configuration as a declarative file (or to stdout).
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { storeFlags } from '../../cli/store-flags.js';
import { exportFile } from '../../core/declarative/index.js';
import { storeOptionsFromFlags } from '../../core/store/from-config.js';

export default class ConfigDbExport extends BaseCommand {
  static override description =
    'Export the control plane configuration as a decK 3.0 file: deterministic (entities in dependency order, rows by id).';
  static override examples = [
    '<%= config.bin %> config db_export kong.yml -c kong.conf',
    '<%= config.bin %> config db_export --format json -c kong.conf > kong.json',
  ];
  static override enableJsonFlag = true;
  static override args = { file: Args.string({ description: 'Output file; omitted: standard output.' }) };
  static override flags = {
    ...storeFlags,
    format: Flags.string({ description: 'Output format.', options: ['yaml', 'json'], default: 'yaml' }),
    force: Flags.boolean({ description: 'Overwrite an existing file.', default: false }),
  };

  async run(): Promise<{ version: number; file: string | null; entities: Record<string, number> }> {
    const { args, flags } = await this.parse(ConfigDbExport);
    const result = await exportFile(storeOptionsFromFlags(flags), {
      path: args.file,
      format: flags.format as 'yaml' | 'json',
      force: flags.force,
    });
    if (result.file) this.log(`exported config version ${result.version} to ${result.file}`);
    else if (!this.jsonEnabled()) process.stdout.write(result.text);
    return { version: result.version, file: result.file, entities: result.entities };
  }
}
