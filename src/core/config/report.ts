// The `hybrid check` report as lines: problems and the verdict, plus the effective settings when verbose.
import { effectiveSettings, formatProblem } from './format.js';
import type { LoadedConfig } from './load.js';

export interface CheckReport {
  /** The verdict when valid, and the settings table when verbose. */
  stdout: string[];
  /** Errors, warnings, and the verdict when invalid. */
  stderr: string[];
}

/** Where the configuration was read from, as the verdict names it. */
export const describeConfigSource = (path: string | null): string =>
  path ?? 'KONG_* environment and defaults';

export function checkReport(
  loaded: Pick<LoadedConfig, 'valid' | 'errors' | 'warnings' | 'path' | 'origins'>,
  options: { verbose?: boolean; paint?: (severity: 'error' | 'warning', label: string) => string } = {},
): CheckReport {
  const paint = options.paint ?? ((_s, label) => label);
  const stderr = [...loaded.errors, ...loaded.warnings].map((p) =>
    formatProblem(p).replace(/^(Error|Warning):/, (label) => paint(p.severity, label)),
  );
  const where = describeConfigSource(loaded.path);
  const stdout: string[] = [];
  const n = loaded.errors.length;
  if (loaded.valid) stdout.push(`configuration at ${where} is valid`);
  else stderr.push(`configuration at ${where} is invalid (${n} error${n === 1 ? '' : 's'})`);
  if (options.verbose) {
    const settings = effectiveSettings(loaded.origins);
    stdout.push(settings.length === 0 ? 'all settings are defaults' : 'settings (not defaults):');
    for (const s of settings) stdout.push(`  ${s.key} = ${s.value}  (${s.where})`);
  }
  return { stdout, stderr };
}
