// Human text for configuration problems: `Error: key (where): message` plus an indented `Hint:` line.
import type { ConfigProblem } from './types.js';

/** Where a problem's value came from: `kong.conf:12`, `env KONG_ROLE`, `default`. */
export function describeLocation(p: ConfigProblem): string {
  if (p.source === 'file' && p.file !== undefined)
    return p.line !== undefined ? `${p.file}:${p.line}` : p.file;
  if (p.source === 'env' && p.env !== undefined) return `env ${p.env}`;
  if (p.source === 'cli') return 'command line';
  if (p.source === 'default') return 'default';
  return '';
}

/** One problem as one or two lines (the hint indented under it); `bullet` for lists inside another message. */
export function formatProblem(p: ConfigProblem, style: 'labelled' | 'bullet' = 'labelled'): string {
  const where = describeLocation(p);
  const body = `${p.key}${where ? ` (${where})` : ''}: ${p.message}`;
  if (style === 'bullet') return p.hint ? `  - ${body}\n    Hint: ${p.hint}` : `  - ${body}`;
  const head = `${p.severity === 'error' ? 'Error' : 'Warning'}: ${body}`;
  return p.hint ? `${head}\n  Hint: ${p.hint}` : head;
}

export function formatProblems(
  problems: readonly ConfigProblem[],
  style: 'labelled' | 'bullet' = 'labelled',
): string {
  return problems.map((p) => formatProblem(p, style)).join('\n');
}
