// Public API of the configuration core: load and validate kong.conf + KONG_* into a typed HybridConfig.
export {
  loadConfig,
  loadValidConfig,
  assertValidConfig,
  findConfigFile,
  ConfigInvalidError,
  DEFAULT_CONFIG_PATHS,
  type LoadConfigOptions,
  type LoadedConfig,
} from './load.js';
export { resolveConfig, type ConfigInputs, type ResolvedConfig } from './resolve.js';
export { parseConfigText, stripComment, type ConfigEntry, type ParsedConfigText } from './text.js';
export {
  KEY_DEFINITIONS,
  CONFIG_KEYS,
  KEY_ALIASES,
  envName,
  isConfigKey,
  type ConfigKey,
  type HybridConfig,
  type KeyDefinition,
} from './keys.js';
export { parseListenList, parseListener, parseHostPort, LISTEN_USAGE } from './listen.js';
export { parseDpLabels, MAX_LABELS } from './labels.js';
export { parseCertificateValue, hasPemBlock, type PemKind } from './certificate.js';
export {
  formatProblem,
  formatProblems,
  describeLocation,
  effectiveSettings,
  type SettingLine,
} from './format.js';
export {
  clusterServerName,
  telemetryServerName,
  enabledPlugins,
  prefixPath,
  DEFAULT_CLUSTER_SERVER_NAME,
} from './derived.js';
export { renderConfigReference } from './reference.js';
export { activeListenKeys } from './rules.js';
export { checkReport, describeConfigSource, type CheckReport } from './report.js';
export type {
  CertificateValue,
  ConfigOrigin,
  ConfigProblem,
  ConfigSource,
  HostPort,
  Listener,
  ProblemSeverity,
} from './types.js';
