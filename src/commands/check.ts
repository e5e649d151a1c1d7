// `hybrid check [CONF]`: validate a kong.conf plus KONG_* variables and print every problem at once.
import { Args } from '@oclif/core';
import chalk from 'chalk';
import { BaseCommand } from '../cli/base-command.js';
import { ExitCode } from '../core/errors.js';
import { checkReport, loadConfig, type ConfigProblem } from '../core/config/index.js';

export interface CheckResult {
  valid: boolean;
  path: string | null;
  errors: ConfigProblem[];
  warnings: ConfigProblem[];
}

export default class Check extends BaseCommand {
  static override description =
    'Validate a kong.conf (with KONG_* environment overrides) and print every problem with its key, line and a hint.';
  static override examples = [
    '<%= config.bin %> check /etc/kong/kong.conf',
    'KONG_ROLE=data_plane <%= config.bin %> check ./kong.conf --json',
    '<%= config.bin %> check ./kong.conf --v   # also list every setting that is not a default, and its source',
  ];
  static override enableJsonFlag = true;
  static override args = {
    conf: Args.string({
      description:
        'Configuration file. Default: the first of ./kong.conf, /etc/hybrid/kong.conf, /etc/kong/kong.conf; when none exists, only KONG_* variables and defaults are checked.',
      required: false,
    }),
  };

  async run(): Promise<CheckResult> {
    const { args } = await this.parse(Check);
    const loaded = loadConfig({ path: args.conf });
    if (!loaded.valid) process.exitCode = ExitCode.invalid;
    if (!this.jsonEnabled()) {
      const paint = (severity: 'error' | 'warning', label: string) =>
        severity === 'error' ? chalk.red(label) : chalk.yellow(label);
      const report = checkReport(loaded, { verbose: this.verbosity() >= 1, paint });
      report.stderr.forEach((line) => this.logToStderr(line));
      report.stdout.forEach((line) => this.log(line));
    }
    return { valid: loaded.valid, path: loaded.path, errors: loaded.errors, warnings: loaded.warnings };
  }
}
