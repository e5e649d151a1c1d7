// Clustering protocol constants, in one place: paths, message types, intervals, the empty hash.

/** The hash of "no configuration": 32 zeros, as Kong's DECLARATIVE_EMPTY_CONFIG_HASH. */
export const EMPTY_CONFIG_HASH = '0'.repeat(32);

/** The WebSocket path data planes connect to (Kong's v1 protocol). */
export const OUTLET_PATH = '/v1/outlet';

/** Frame types. */
export const MessageType = {
  basicInfo: 'basic_info',
  reconfigure: 'reconfigure',
} as const;

/** How often a data plane pings (Kong: 30 s); overridable for tests through the environment. */
export const PING_INTERVAL_MS = envMs('HYBRID_CLUSTER_PING_INTERVAL_MS', 30_000);
/** A peer silent for this long is dropped (Kong: 45 s, 1.5 ping intervals). */
export const PING_TIMEOUT_MS = envMs('HYBRID_CLUSTER_PING_TIMEOUT_MS', 45_000);
/** Changes arriving within this window after the first are sent together. */
export const PUSH_COALESCE_MS = 50;
/** Reconnect backoff bounds (jittered exponential). */
export const RECONNECT_MIN_MS = envMs('HYBRID_CLUSTER_RECONNECT_MIN_MS', 500);
export const RECONNECT_MAX_MS = 30_000;

/**
 * Test aid: a data plane reports this as its node_version instead of the package version, so the version
 * rule can be exercised with real processes. Not for production use.
 */
export const NODE_VERSION_OVERRIDE = process.env.HYBRID_NODE_VERSION_OVERRIDE || undefined;

/** Close codes and reasons the control plane sends when it refuses a data plane. */
export const CloseReason = {
  versionIncompatible: 'kong_version_incompatible',
  pluginSetIncompatible: 'plugin_set_incompatible',
} as const;

function envMs(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

export interface BasicInfo {
  type: typeof MessageType.basicInfo;
  plugins: { name: string; version: string }[];
  labels?: Record<string, string>;
}

export interface ReconfigureMessage {
  type: typeof MessageType.reconfigure;
  timestamp: number;
  config_table: Record<string, unknown>;
  config_hash: string;
  hashes: Record<string, string>;
}
