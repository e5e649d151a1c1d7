// Values other subsystems derive from the typed config, so each rule (SNI fallback, plugin list, prefix paths) lives once.
import { isAbsolute, join } from 'node:path';
import type { HybridConfig } from './keys.js';

/** SNI of the cluster connection when shared mode or no cluster_server_name is set. */
export const DEFAULT_CLUSTER_SERVER_NAME = 'kong_clustering';

/** SNI a data plane sends to its control plane (and the name a pki CP certificate must match). */
export function clusterServerName(
  config: Pick<HybridConfig, 'cluster_mtls' | 'cluster_server_name'>,
): string {
  if (config.cluster_mtls === 'shared') return DEFAULT_CLUSTER_SERVER_NAME;
  return config.cluster_server_name ?? DEFAULT_CLUSTER_SERVER_NAME;
}

/** SNI for telemetry: cluster_telemetry_server_name, else the cluster SNI. */
export function telemetryServerName(
  config: Pick<HybridConfig, 'cluster_mtls' | 'cluster_server_name' | 'cluster_telemetry_server_name'>,
): string {
  if (config.cluster_mtls === 'shared') return DEFAULT_CLUSTER_SERVER_NAME;
  return config.cluster_telemetry_server_name ?? clusterServerName(config);
}

/** Expands `plugins` (`bundled`, names, `off`) against the bundled plugin names; order kept, no duplicates. */
export function enabledPlugins(config: Pick<HybridConfig, 'plugins'>, bundled: readonly string[]): string[] {
  if (config.plugins[0] === 'off') return [];
  const out = new Set<string>();
  for (const name of config.plugins) {
    if (name === 'off') continue;
    if (name === 'bundled') bundled.forEach((b) => out.add(b));
    else out.add(name);
  }
  return [...out];
}

/** A path relative to the prefix (log files, lmdb_environment_path), absolute ones unchanged. */
export function prefixPath(config: Pick<HybridConfig, 'prefix'>, path: string): string {
  if (isAbsolute(path)) return path;
  return join(config.prefix, path);
}
