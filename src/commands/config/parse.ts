// `hybrid config parse FILE`: validate a declarative config file without touching any database.
import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { parseFile, type ValidationSummary } from '../../core/declarative/index.js';

export default class ConfigParse extends BaseCommand {
  static override description =
    'Check a declarative config file (YAML or JSON): every error is printed with its path in the file.';
  static override examples = ['<%= config.bin %> config parse kong.yml'];
  static override enableJsonFlag = true;
  static override args = { file: Args.string({ description: 'Declarative config file.', required: true }) };

  async run(): Promise<ValidationSummary & { file: string }> {
    const { args } = await this.parse(ConfigParse);
    const result = parseFile(args.file);
    const total = Object.values(result.entities).reduce((a, b) => a + b, 0);
    this.log(`parse successful: ${result.file} describes ${total} entities`);
    return result;
  }
}
