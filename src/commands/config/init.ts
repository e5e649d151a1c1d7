// `hybrid config init [FILE]`: write a sample declarative config (never over an existing file without --force).
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { writeSampleConfig } from '../../core/declarative/index.js';

export default class ConfigInit extends BaseCommand {
  static override description = 'Write a sample declarative configuration file (decK format 3.0).';
  static override examples = [
    '<%= config.bin %> config init',
    '<%= config.bin %> config init ./gateway.yml --force',
  ];
  static override enableJsonFlag = true;
  static override args = { file: Args.string({ description: 'File to write.', default: 'kong.yml' }) };
  static override flags = {
    force: Flags.boolean({ description: 'Overwrite an existing file.', default: false }),
  };

  async run(): Promise<{ path: string }> {
    const { args, flags } = await this.parse(ConfigInit);
    const result = writeSampleConfig(args.file, flags.force);
    this.log(`wrote a sample declarative config to ${result.path}`);
    return result;
  }
}
