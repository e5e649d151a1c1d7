// Runs the built CLI (bin/run.js) as a real process, the way an operator would.
import { execa, type Options } from 'execa';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `hybrid <args>`; never throws on a non-zero exit. Colour is off unless asked for. */
export async function runCli(args: string[], options: Options = {}): Promise<CliResult> {
  const result = await execa('node', [BIN, ...args], {
    reject: false,
    timeout: 60_000,
    ...options,
    env: { FORCE_COLOR: '0', ...options.env },
  });
  return {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
  };
}
