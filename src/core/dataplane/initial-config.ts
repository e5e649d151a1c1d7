// What a data plane serves before the control plane answers: its cached config, else declarative_config, else nothing.
import { statSync } from 'node:fs';
import { configHash } from '../cluster/hash.js';
import { prefixPath, type HybridConfig } from '../config/index.js';
import { configTableOf } from '../declarative/config-table.js';
import { DeclarativeInvalidError } from '../declarative/errors.js';
import { readDeclarativeFile } from '../declarative/parse.js';
import { InvalidError } from '../errors.js';
import type { Logger } from '../process/logger.js';
import { countEntities, openConfigCache, type ConfigCache } from './config-cache.js';

export type InitialConfig =
  | { source: 'cache' | 'declarative_config'; hash: string; table: Record<string, unknown> }
  | { source: 'empty'; hash: null; table: null };

/** The node's config cache as its configuration asks: `lmdb_environment_path` under the prefix, in its mode. */
export function openNodeConfigCache(config: HybridConfig, logger: Logger): ConfigCache {
  return openConfigCache({
    path: prefixPath(config, config.lmdb_environment_path),
    mapSize: config.lmdb_map_size,
    mode: config.data_plane_config_cache_mode,
    clusterKeyPem: config.cluster_cert_key?.pem,
    log: logger.child('clustering'),
  });
}

/**
 * The start sequence: the cache (the last config the control plane sent), else the `declarative_config`
 * file (invalid → the node refuses to start, as Kong does), else the empty config (no config hash, not ready).
 */
export function loadInitialConfig(
  config: Pick<HybridConfig, 'declarative_config'>,
  cache: ConfigCache,
  logger: Logger,
): InitialConfig {
  const log = logger.child('clustering');
  const started = performance.now();
  const cached = cache.load();
  if (cached) {
    const ms = Math.round(performance.now() - started);
    log.notice(
      `loaded configuration ${cached.hash} from the cache (${cached.entities} entities, saved ${new Date(cached.savedAt).toISOString()}, read in ${ms} ms)`,
    );
    return { source: 'cache', hash: cached.hash, table: cached.table };
  }
  if (config.declarative_config) {
    const { hash, table } = loadDeclarativeConfig(config.declarative_config);
    log.notice(
      `loaded configuration ${hash} from declarative_config ${config.declarative_config} (${countEntities(table)} entities)`,
    );
    return { source: 'declarative_config', hash, table };
  }
  log.notice('no cached configuration and no declarative_config: serving an empty configuration');
  return { source: 'empty', hash: null, table: null };
}

/**
 * A decK file as the control plane would send it after importing that file alone, hashed the same way.
 * Rows without timestamps get the file's modification time, so one file keeps one hash across restarts
 * (a control plane stamps its import time instead: only files that carry timestamps, as `db_export`
 * writes them, hash the same on both sides).
 */
export function loadDeclarativeConfig(path: string): { hash: string; table: Record<string, unknown> } {
  const doc = readDeclarativeFile(path);
  let table: Record<string, unknown>;
  try {
    table = configTableOf(doc, path, Math.floor(statSync(path).mtimeMs / 1000));
  } catch (err) {
    if (!(err instanceof DeclarativeInvalidError)) throw err;
    throw new InvalidError('declarative_config_invalid', `declarative_config: ${err.message}`, {
      hint: 'Fix every listed path (`hybrid config parse FILE` checks a file), or unset declarative_config.',
    });
  }
  return { hash: configHash(table).hash, table };
}
