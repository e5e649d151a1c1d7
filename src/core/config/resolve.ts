// Merges defaults, file entries, KONG_* variables and command flags (cli > env > file > default), parses every key, applies the role rules.
import { dirname } from 'node:path';
import {
  CONFIG_KEYS,
  KEY_ALIASES,
  KEY_DEFINITIONS,
  isConfigKey,
  type ConfigKey,
  type HybridConfig,
  type KeyDefinition,
} from './keys.js';
import { checkRules, problemAt } from './rules.js';
import { parseConfigText } from './text.js';
import type { ConfigOrigin, ConfigProblem } from './types.js';
import { describeUnknownKey } from './unknown.js';
import type { ParseContext } from './values.js';

export interface ConfigInputs {
  /** The config file's absolute path and text, when there is one. */
  file?: { path: string; text: string };
  /** Environment; only `KONG_*` variables are read. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Values from a command's own flags (e.g. `-p` → prefix); highest precedence. Keys must be known. */
  overrides?: Readonly<Partial<Record<ConfigKey, string>>>;
  /** Base for relative paths given in the environment or defaults. */
  cwd: string;
  /** Reads certificate files; throws with a Node error code when it cannot. */
  readFile: (path: string) => string;
}

export interface ResolvedConfig {
  /** Every key typed; a key that failed to parse holds its default. */
  config: HybridConfig;
  /** Errors and warnings, in file order then key order. */
  problems: ConfigProblem[];
  /** Where each key's value came from. */
  origins: Record<ConfigKey, ConfigOrigin>;
}

function canonical(name: string): ConfigKey | undefined {
  return isConfigKey(name) ? name : KEY_ALIASES.get(name);
}

/** Pure given `readFile`: the same inputs give the same config and problems. */
export function resolveConfig(inputs: ConfigInputs): ResolvedConfig {
  const problems: ConfigProblem[] = [];
  const origins = {} as Record<ConfigKey, ConfigOrigin>;
  for (const k of CONFIG_KEYS) origins[k] = { source: 'default', raw: KEY_DEFINITIONS[k].default };

  // File: the last occurrence of a key (or its alias) wins, as in Kong.
  if (inputs.file) {
    const { path, text } = inputs.file;
    const parsed = parseConfigText(text, path);
    problems.push(...parsed.problems);
    for (const entry of parsed.entries) {
      const k = canonical(entry.key);
      if (k === undefined) {
        const { message, hint } = describeUnknownKey(entry.key);
        problems.push({
          severity: 'warning',
          code: 'config_unknown_key',
          key: entry.key,
          message,
          ...(hint ? { hint } : {}),
          source: 'file',
          file: path,
          line: entry.line,
        });
        continue;
      }
      const previous = origins[k];
      if (previous.source === 'file') {
        problems.push({
          severity: 'warning',
          code: 'config_duplicate_key',
          key: k,
          message: `is set twice (lines ${previous.line} and ${entry.line}); line ${entry.line} wins`,
          source: 'file',
          file: path,
          line: entry.line,
        });
      }
      origins[k] = { source: 'file', raw: entry.value, file: path, line: entry.line };
    }
  }

  // Environment: KONG_<KEY>; the canonical name beats an alias.
  const env = inputs.env ?? {};
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (value === undefined || !/^KONG_/i.test(name)) continue;
    const lower = name.slice(5).toLowerCase();
    const k = canonical(lower);
    if (k === undefined) {
      const { message, hint } = describeUnknownKey(lower);
      problems.push({
        severity: 'warning',
        code: 'config_unknown_key',
        key: lower,
        message: message.replace('unknown key', `unknown key (from ${name})`),
        ...(hint ? { hint } : {}),
        source: 'env',
        env: name,
      });
      continue;
    }
    if (origins[k].source === 'env' && lower !== k) continue;
    origins[k] = { source: 'env', raw: value.trim(), env: name };
  }

  for (const [k, value] of Object.entries(inputs.overrides ?? {}) as [ConfigKey, string | undefined][]) {
    if (value !== undefined) origins[k] = { source: 'cli', raw: value.trim() };
  }

  const config = {} as Record<ConfigKey, unknown>;
  const invalid = new Set<ConfigKey>();
  for (const k of CONFIG_KEYS) {
    const def: KeyDefinition<unknown> = KEY_DEFINITIONS[k];
    const origin = origins[k];
    const ctx: ParseContext = {
      baseDir: origin.source === 'file' && origin.file ? dirname(origin.file) : inputs.cwd,
      readFile: inputs.readFile,
    };
    const result = origin.raw === '' ? def.type.unset() : def.type.parse(origin.raw, ctx);
    if (result.ok) {
      config[k] = result.value;
      continue;
    }
    invalid.add(k);
    problems.push(
      problemAt(
        origins,
        k,
        'error',
        origin.raw === '' ? 'config_missing_value' : 'config_invalid_value',
        result.message,
        result.hint,
      ),
    );
    const fallbackCtx: ParseContext = { baseDir: inputs.cwd, readFile: inputs.readFile };
    const fallback = def.default === '' ? def.type.unset() : def.type.parse(def.default, fallbackCtx);
    config[k] = fallback.ok ? fallback.value : null;
  }

  const typed = config as HybridConfig;
  problems.push(...checkRules({ config: typed, origins, invalid }));

  // Control planes never proxy: whatever proxy_listen says, they open no proxy listener (Kong ignores it too).
  if (typed.role === 'control_plane') typed.proxy_listen = [];

  return { config: typed, problems, origins };
}
