// What every node command starts from: the configuration (-c, KONG_*, defaults) and the prefix (-p wins).
import { resolve } from 'node:path';
import { ConfigInvalidError, type HybridConfig } from '../config/index.js';
import { kongEnv, loadLaunchConfig, type LaunchRecord } from './reload.js';

export const DEFAULT_PREFIX = '/usr/local/hybrid';

export interface LaunchInputs {
  conf?: string;
  prefix?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Loads and validates the node configuration; throws ConfigInvalidError listing every problem. */
export function prepareLaunch(inputs: LaunchInputs): {
  config: HybridConfig;
  record: LaunchRecord;
  warnings: string[];
} {
  const cwd = inputs.cwd ?? process.cwd();
  const env = kongEnv(inputs.env ?? process.env);
  // The prefix: -p (a command-line override), else KONG_PREFIX or the file, else the default.
  const draft: LaunchRecord = {
    confPath: inputs.conf ? resolve(cwd, inputs.conf) : null,
    env,
    cwd,
    prefix: '',
  };
  const loaded = loadLaunchConfig(draft);
  if (!loaded.valid) throw new ConfigInvalidError(loaded);
  const prefix = resolve(cwd, inputs.prefix ?? loaded.config.prefix ?? DEFAULT_PREFIX);
  loaded.config.prefix = prefix;
  return {
    config: loaded.config,
    record: { ...draft, prefix },
    warnings: loaded.warnings.map((w) => `${w.key}: ${w.message}`),
  };
}

/** The prefix for commands that only take -p (stop, quit, health): -p, else KONG_PREFIX, else the default. */
export function prefixFrom(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): string {
  return resolve(cwd, flag ?? env.KONG_PREFIX ?? DEFAULT_PREFIX);
}
