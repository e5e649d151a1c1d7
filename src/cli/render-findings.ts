// Human rendering of certificate findings: one line per check (✓ passed, ! warning, ✗ failed), a hint under each problem.
import chalk from 'chalk';
import type { Finding } from '../core/pki/findings.js';

const MARK = {
  ok: () => chalk.green('✓'),
  warning: () => chalk.yellow('!'),
  error: () => chalk.red('✗'),
} as const;

/** Lines for a list of findings; the code is shown so logs and docs can be searched for it. */
export function renderFindings(findings: readonly Finding[]): string[] {
  const lines: string[] = [];
  for (const f of findings) {
    lines.push(`${MARK[f.severity]()} ${f.message} ${chalk.dim(`[${f.code}]`)}`);
    if (f.severity !== 'ok' && f.hint) lines.push(`    ${chalk.dim('Hint:')} ${f.hint}`);
  }
  return lines;
}
