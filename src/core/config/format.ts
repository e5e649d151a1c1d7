// Human text for configuration problems (`Error: key (where): message` + `Hint:`) and for effective settings.
import { CONFIG_KEYS, KEY_DEFINITIONS, type ConfigKey, type KeyDefinition } from './keys.js';
import type { ConfigOrigin, ConfigProblem, ConfigSource } from './types.js';

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

/** One effective setting as an operator reads it: raw value (masked when sensitive), and where it came from. */
export interface SettingLine {
  key: string;
  value: string;
  source: ConfigSource;
  where: string;
}

const MASK = '******';

/**
 * The keys not left at their default, in table order: what `hybrid check --v` prints.
 * Passwords and proxy URLs are masked; inline PEM is summarised, never echoed.
 */
export function effectiveSettings(
  origins: Readonly<Record<ConfigKey, ConfigOrigin>>,
  includeDefaults = false,
): SettingLine[] {
  const lines: SettingLine[] = [];
  for (const key of CONFIG_KEYS) {
    const o = origins[key];
    if (o.source === 'default' && !includeDefaults) continue;
    const def: KeyDefinition<unknown> = KEY_DEFINITIONS[key];
    let value = o.raw;
    if (def.sensitive && value !== '') value = MASK;
    else if (value.includes('-----BEGIN ')) value = '<inline PEM>';
    const where = describeLocation({ severity: 'warning', code: '', key, message: '', ...o });
    lines.push({ key, value, source: o.source, where });
  }
  return lines;
}
