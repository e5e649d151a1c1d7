// Shared behaviour of every command: verbosity flags and turning errors into one clear line and an exit code.
import { Command, Errors, Flags } from '@oclif/core';
import chalk from 'chalk';
import { ExitCode, HybridError } from '../core/errors.js';

export abstract class BaseCommand extends Command {
  static override baseFlags = {
    v: Flags.boolean({ description: 'Print more detail (e.g. error causes).', helpGroup: 'GLOBAL' }),
    vv: Flags.boolean({
      description: 'Print even more detail (stacks of internal errors).',
      helpGroup: 'GLOBAL',
    }),
  };

  /** Raw argv check, usable before or without flag parsing. */
  protected verbosity(): 0 | 1 | 2 {
    if (this.argv.includes('--vv')) return 2;
    if (this.argv.includes('--v')) return 1;
    return 0;
  }

  protected override async catch(
    err: Error & { exitCode?: number; oclif?: { exit?: number } },
  ): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err;
    if (err instanceof HybridError) {
      this.printError(err.message, err.hint, err.code);
      if (this.verbosity() >= 1 && err.cause)
        this.logToStderr(String((err.cause as Error).stack ?? err.cause));
      this.exit(err.exitCode);
    }
    // oclif's own parse errors (unknown flag, missing arg, bad option) carry exit 2.
    if (err.oclif?.exit !== undefined && err.oclif.exit !== ExitCode.internal) {
      const message = err.message.replace(/\n\s*See more help with --help$/, '').replace(/\s*\n\s*/g, ': ');
      this.printError(message, 'See --help for usage.', 'usage');
      this.exit(ExitCode.usage);
    }
    this.printError(
      `internal error: ${err.message}`,
      'This is a bug. Run again with --vv for the stack.',
      'internal',
    );
    if (this.verbosity() >= 2) this.logToStderr(err.stack ?? '');
    this.exit(ExitCode.internal);
  }

  private printError(message: string, hint: string | undefined, code: string): void {
    if (this.jsonEnabled()) {
      // oclif's logToStderr is silent under --json, so write the error object directly.
      process.stderr.write(`${JSON.stringify({ error: { code, message, hint } })}\n`);
      return;
    }
    this.logToStderr(`${chalk.red('Error:')} ${message}`);
    if (hint) this.logToStderr(`${chalk.dim('Hint:')} ${hint}`);
  }
}
