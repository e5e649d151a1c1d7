// Reload: re-read the configuration the way it was given (file + KONG_* environment), apply what can change live.
import { readFile } from 'node:fs/promises';
import { CLUSTER_CERTIFICATE_KEYS } from '../cluster/certificates.js';
import { TRUST_KEYS } from '../pki/trust.js';
import { CONFIG_KEYS, loadConfig, type ConfigKey, type HybridConfig } from '../config/index.js';
import { formatProblems } from '../config/index.js';
import type { Logger } from './logger.js';
import type { PrefixLayout } from './prefix.js';
import { writeJson } from './run.js';

/** How a node was (re)started: enough to load the same configuration again. */
export interface LaunchRecord {
  confPath: string | null;
  /** The KONG_* variables of the command that started or reloaded the node. */
  env: Record<string, string>;
  cwd: string;
  prefix: string;
  /** `start --run-migrations`: apply pending database migrations before serving. */
  runMigrations?: boolean;
  /** Set by `hybrid reload`; echoed in the acknowledgement. */
  requestId?: string;
}

export interface ReloadAck {
  requestId?: string;
  ok: boolean;
  /** Keys whose new values are in effect. */
  applied: ConfigKey[];
  /** Keys that changed but only take effect after `hybrid restart`. */
  needsRestart: ConfigKey[];
  error?: string;
}

/**
 * Keys a running node applies on reload; every other change needs a restart. Cluster certificates and trusted
 * CA files are re-read even when their paths are unchanged (rotation), and only new handshakes use them.
 */
export const RELOADABLE_KEYS: ReadonlySet<ConfigKey> = new Set<ConfigKey>([
  'log_level',
  ...CLUSTER_CERTIFICATE_KEYS,
  ...TRUST_KEYS,
]);

/** Puts reloadable keys into effect in the running node; throws (having changed nothing) to refuse them. */
export type ApplyReload = (next: HybridConfig, applied: ConfigKey[]) => void | Promise<void>;

export function kongEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (name.startsWith('KONG_') && value !== undefined) out[name] = value;
  return out;
}

export async function writeLaunchRecord(layout: PrefixLayout, record: LaunchRecord): Promise<void> {
  await writeJson(layout.envFile, record);
}

export async function readLaunchRecord(layout: PrefixLayout): Promise<LaunchRecord> {
  return JSON.parse(await readFile(layout.envFile, 'utf8')) as LaunchRecord;
}

/** Loads the configuration a launch record describes, with the prefix the node runs in. */
export function loadLaunchConfig(record: LaunchRecord) {
  const loaded = loadConfig({
    path: record.confPath ?? undefined,
    env: record.env,
    cwd: record.cwd,
    searchPaths: [],
    overrides: record.prefix ? { prefix: record.prefix } : undefined,
  });
  return loaded;
}

/** Keys whose effective values differ (certificate values compare by content, so a rotated file counts). */
export function changedKeys(before: HybridConfig, after: HybridConfig): ConfigKey[] {
  return CONFIG_KEYS.filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
}

/** Runs in the node on SIGHUP. Never throws: an invalid new configuration leaves the old one running. */
export async function handleReload(
  layout: PrefixLayout,
  current: HybridConfig,
  logger: Logger,
  apply: ApplyReload = () => undefined,
): Promise<HybridConfig> {
  let record: LaunchRecord | undefined;
  try {
    record = await readLaunchRecord(layout);
    const loaded = loadLaunchConfig(record);
    if (!loaded.valid) {
      const error = `new configuration is invalid, keeping the running one:\n${formatProblems(loaded.errors, 'bullet')}`;
      logger.error(error);
      await writeJson(layout.reloadAckFile, {
        requestId: record.requestId,
        ok: false,
        applied: [],
        needsRestart: [],
        error,
      });
      return current;
    }
    const next = loaded.config;
    const changed = changedKeys(current, next);
    const applied = changed.filter((key) => RELOADABLE_KEYS.has(key));
    const needsRestart = changed.filter((key) => !RELOADABLE_KEYS.has(key));
    // The node checks what it is given first (e.g. new certificates); a refusal keeps every old value.
    await apply(next, applied);
    if (applied.includes('log_level')) logger.setLevel(next.log_level);
    logger.notice(
      `reloaded: ${applied.length ? `applied ${applied.join(', ')}` : 'nothing to apply'}` +
        (needsRestart.length ? `; needs a restart: ${needsRestart.join(', ')}` : ''),
    );
    const ack: ReloadAck = { requestId: record.requestId, ok: true, applied, needsRestart };
    await writeJson(layout.reloadAckFile, ack);
    // Keys that need a restart keep their running values until then.
    const effective = { ...current };
    for (const key of applied) (effective as Record<string, unknown>)[key] = next[key];
    return effective;
  } catch (err) {
    const error = `reload failed: ${(err as Error).message}`;
    logger.error(error);
    await writeJson(layout.reloadAckFile, {
      requestId: record?.requestId,
      ok: false,
      applied: [],
      needsRestart: [],
      error,
    }).catch(() => undefined);
    return current;
  }
}
