// Loading a node's configuration from disk and the environment; the entry point every subsystem uses.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FileError, InvalidError } from '../errors.js';
import { formatProblems } from './format.js';
import type { ConfigKey, HybridConfig } from './keys.js';
import { resolveConfig } from './resolve.js';
import type { ConfigOrigin, ConfigProblem } from './types.js';

/** Looked at, in order, when no path is given (the first that exists is used; none is fine). */
export const DEFAULT_CONFIG_PATHS: readonly string[] = [
  'kong.conf',
  '/etc/hybrid/kong.conf',
  '/etc/kong/kong.conf',
];

export interface LoadConfigOptions {
  /** Config file; must exist when given. Relative to `cwd`. */
  path?: string;
  /** Environment to read KONG_* from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Base for a relative `path`, default search paths and env-given relative paths; default `process.cwd()`. */
  cwd?: string;
  /** Where to look when `path` is not given; default DEFAULT_CONFIG_PATHS. Pass [] for env + defaults only. */
  searchPaths?: readonly string[];
  /** A command's own flags that set keys (e.g. `{ prefix: flags.prefix }`); they beat env and file. */
  overrides?: Readonly<Partial<Record<ConfigKey, string>>>;
}

export interface LoadedConfig {
  /** Fully typed; when there are errors, a failed key holds its default. */
  config: HybridConfig;
  /** Every error and warning, each with key, source, line (file) and hint. */
  problems: ConfigProblem[];
  errors: ConfigProblem[];
  warnings: ConfigProblem[];
  valid: boolean;
  /** Absolute path of the file read, or null when only the environment and defaults were used. */
  path: string | null;
  origins: Record<ConfigKey, ConfigOrigin>;
}

function readConfigFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : String(code ?? err);
    throw new FileError('config_file_unreadable', path, `cannot read configuration file ${path}: ${reason}`, {
      hint: 'Check the path given to -c / the CONF argument.',
      cause: err,
    });
  }
}

/** First existing file among the search paths (relative ones start at cwd). */
export function findConfigFile(
  cwd: string,
  searchPaths: readonly string[] = DEFAULT_CONFIG_PATHS,
): string | null {
  for (const candidate of searchPaths) {
    const path = resolve(cwd, candidate);
    try {
      readFileSync(path);
      return path;
    } catch {
      // not there or not readable: try the next one
    }
  }
  return null;
}

const SOURCE_RANK = { file: 0, env: 1, cli: 2, default: 3 } as const;

/** File problems by line, then environment, command line, defaults; otherwise the order they were found. */
function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  const rank = (p: ConfigProblem) => (p.source ? SOURCE_RANK[p.source] : 4);
  return [...problems].sort((a, b) => rank(a) - rank(b) || (a.line ?? 0) - (b.line ?? 0));
}

/**
 * Loads kong.conf (+ KONG_* + defaults) and validates it, collecting every problem.
 * Throws FileError (exit 3) only when the given file cannot be read; invalid values are problems, not throws.
 */
export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  const path =
    options.path !== undefined ? resolve(cwd, options.path) : findConfigFile(cwd, options.searchPaths);
  const file = path === null ? undefined : { path, text: readConfigFile(path) };
  const resolved = resolveConfig({
    file,
    env: options.env ?? process.env,
    overrides: options.overrides,
    cwd,
    readFile: (p) => readFileSync(p, 'utf8'),
  });
  const problems = sortProblems(resolved.problems);
  const errors = problems.filter((p) => p.severity === 'error');
  const warnings = problems.filter((p) => p.severity === 'warning');
  return { ...resolved, problems, errors, warnings, valid: errors.length === 0, path };
}

/** Raised by loadValidConfig: carries every problem; exit 1. */
export class ConfigInvalidError extends InvalidError {
  readonly problems: ConfigProblem[];
  readonly path: string | null;

  constructor(loaded: Pick<LoadedConfig, 'errors' | 'path'>) {
    const where = loaded.path ?? 'the environment and defaults';
    const n = loaded.errors.length;
    super(
      'config_invalid',
      `invalid configuration at ${where} (${n} error${n === 1 ? '' : 's'}):\n${formatProblems(loaded.errors, 'bullet')}`,
      {
        hint: `Run \`hybrid check${loaded.path ? ` ${loaded.path}` : ''}\` to see every problem.`,
      },
    );
    this.problems = loaded.errors;
    this.path = loaded.path;
  }
}

/** Throws ConfigInvalidError when the loaded config has errors; returns it otherwise. */
export function assertValidConfig(loaded: LoadedConfig): LoadedConfig {
  if (!loaded.valid) throw new ConfigInvalidError(loaded);
  return loaded;
}

/** For commands that need a valid config: load, and throw (exit 1) listing every error. Warnings are returned. */
export function loadValidConfig(options: LoadConfigOptions = {}): LoadedConfig {
  return assertValidConfig(loadConfig(options));
}
