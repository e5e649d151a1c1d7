// The one table of configuration keys: type, Kong default and meaning. Defaults, parsing, KONG_* names and the reference all come from here.
import { resolve } from 'node:path';
import { certificate, certificateList, trustedCertificateList } from './certificate.js';
import { dpLabels } from './labels.js';
import { hostPort, hostPortList, listenList } from './listen.js';
import {
  boolean,
  fail,
  isIpOrCidr,
  list,
  number,
  ok,
  oneOf,
  proxyUrl,
  requiredText,
  size,
  splitList,
  text,
  type ValueType,
} from './values.js';

export interface KeyDefinition<T> {
  /** Section of the reference. */
  group: 'general' | 'listeners' | 'clustering' | 'certificates' | 'datastore' | 'proxy' | 'logging';
  type: ValueType<T>;
  /** Raw default as it would be written in kong.conf; '' means unset (Kong's NONE). */
  default: string;
  description: string;
  /** Never echo the value (passwords, URLs that may hold credentials). */
  sensitive?: boolean;
  /** Other names accepted for this key (Kong's older or nginx-prefixed names). */
  aliases?: readonly string[];
}

const key = <T>(
  group: KeyDefinition<T>['group'],
  type: ValueType<T>,
  dflt: string,
  description: string,
  extra: Pick<KeyDefinition<T>, 'sensitive' | 'aliases'> = {},
): KeyDefinition<T> => ({ group, type, default: dflt, description, ...extra });

/** A filesystem path; relative paths start at the config file's directory (else the cwd). */
function path(): ValueType<string | null> {
  return { describe: 'path', parse: (raw, ctx) => ok(resolve(ctx.baseDir, raw)), unset: () => ok(null) };
}

/** A path that must be given. */
function requiredPath(): ValueType<string> {
  return {
    describe: 'path',
    parse: (raw, ctx) => ok(resolve(ctx.baseDir, raw)),
    unset: () => fail('must not be empty'),
  };
}

/** A comma list of filesystem paths; relative ones start at the config file's directory (else the cwd). */
function pathList(): ValueType<string[]> {
  return {
    describe: 'comma list of paths',
    parse: (raw, ctx) => ok(splitList(raw).map((entry) => resolve(ctx.baseDir, entry))),
    unset: () => ok([]),
  };
}

/** A log target relative to the prefix, or `off` (null). */
function logTarget(): ValueType<string | null> {
  return {
    describe: 'path | off',
    parse: (raw) => ok(raw.toLowerCase() === 'off' ? null : raw),
    unset: () => ok(null),
  };
}

/** Tokens Kong accepts in `headers` (case-insensitive). */
export const HEADER_TOKENS = [
  'server_tokens',
  'latency_tokens',
  'via',
  'server',
  'x-kong-proxy-latency',
  'x-kong-response-latency',
  'x-kong-admin-latency',
  'x-kong-upstream-latency',
  'x-kong-upstream-status',
  'x-kong-request-id',
  'off',
];

export const LOG_LEVELS = ['debug', 'info', 'notice', 'warn', 'error', 'crit', 'alert', 'emerg'] as const;

const pluginName = (entry: string): string | undefined =>
  /^[a-z0-9][a-z0-9_-]*$/i.test(entry) ? undefined : `invalid plugin name '${entry}'`;
const headerToken = (entry: string): string | undefined =>
  HEADER_TOKENS.includes(entry.toLowerCase()) ? undefined : `invalid entry '${entry}'`;
const trustedIp = (entry: string): string | undefined =>
  isIpOrCidr(entry) || entry === 'unix:'
    ? undefined
    : `must be a comma separated list in the form of IPv4 or IPv6 address or CIDR block or 'unix:', got '${entry}'`;

export const KEY_DEFINITIONS = {
  // ---- general ----
  role: key(
    'general',
    oneOf(['traditional', 'control_plane', 'data_plane'] as const),
    'traditional',
    'What this node is: a control plane (database + Admin API, pushes config), a data plane (proxies, no database) or a traditional single node.',
  ),
  prefix: key(
    'general',
    requiredPath(),
    '/usr/local/hybrid',
    'Working directory of the node: pid file, logs, node.id, the embedded database and the data plane config cache.',
  ),
  daemon: key(
    'general',
    boolean(),
    'on',
    '`hybrid start` detaches and returns once the node listens; off keeps it in the foreground (containers, systemd).',
    { aliases: ['nginx_daemon', 'nginx_main_daemon'] },
  ),
  log_level: key('logging', oneOf(LOG_LEVELS), 'notice', 'Lowest severity that is logged.'),
  proxy_access_log: key(
    'logging',
    logTarget(),
    'logs/access.log',
    'Proxy access log, relative to the prefix, or off.',
  ),
  proxy_error_log: key(
    'logging',
    logTarget(),
    'logs/error.log',
    'Proxy error log, relative to the prefix, or off.',
  ),
  admin_access_log: key('logging', logTarget(), 'logs/admin_access.log', 'Admin API access log, or off.'),
  admin_error_log: key('logging', logTarget(), 'logs/error.log', 'Admin API error log, or off.'),
  plugins: key(
    'general',
    list(pluginName, 'comma list of plugin names'),
    'bundled',
    '`bundled` enables every bundled plugin; add names of custom plugins; `off` disables all.',
  ),
  plugins_path: key(
    'general',
    pathList(),
    '',
    'Directories holding custom plugins: a plugin `my-plugin` listed in `plugins` is loaded from the first `<dir>/my-plugin/` that has `handler.js`, `handler.mjs`, `index.js` or `index.mjs`, whose default export is the plugin (see docs/plugins.md). Control planes and data planes both load them.',
  ),

  // ---- listeners ----
  proxy_listen: key(
    'listeners',
    listenList(),
    '0.0.0.0:8000 reuseport backlog=16384, 0.0.0.0:8443 http2 ssl reuseport backlog=16384',
    'Where the proxy accepts traffic. Required on a data plane; ignored on a control plane (control planes never proxy).',
  ),
  admin_listen: key(
    'listeners',
    listenList(),
    '127.0.0.1:8001 reuseport backlog=16384, 127.0.0.1:8444 http2 ssl reuseport backlog=16384',
    'Where the Admin API listens. Required on a control plane.',
  ),
  status_listen: key(
    'listeners',
    listenList(),
    'off',
    'Where the status API listens (`/status`, `/status/ready`); off by default.',
  ),

  // ---- clustering ----
  cluster_listen: key(
    'clustering',
    listenList(),
    '0.0.0.0:8005',
    'Where a control plane accepts data plane connections (always mutual TLS). Ignored on data planes.',
  ),
  cluster_telemetry_listen: key(
    'clustering',
    listenList(),
    '0.0.0.0:8006',
    'Where a control plane accepts data plane telemetry (always mutual TLS). Ignored on data planes.',
  ),
  cluster_control_plane: key(
    'clustering',
    hostPortList(),
    '127.0.0.1:8005',
    'Address of the control plane a data plane connects to (its `cluster_listen`); several, comma separated, to fail over.',
  ),
  cluster_telemetry_endpoint: key(
    'clustering',
    hostPort(),
    '127.0.0.1:8006',
    'Address a data plane sends telemetry to.',
  ),
  cluster_server_name: key(
    'clustering',
    text(),
    '',
    'SNI a data plane sends; in pki mode the control plane certificate must match it (SAN DNS, else CN). Unset: `kong_clustering`.',
  ),
  cluster_telemetry_server_name: key(
    'clustering',
    text(),
    '',
    'SNI for telemetry connections. Unset: `cluster_server_name`.',
  ),
  cluster_mtls: key(
    'clustering',
    oneOf(['shared', 'pki'] as const),
    'shared',
    '`shared`: every node holds the same certificate/key; `pki`: each node has its own certificate from the CA in `cluster_ca_cert`.',
  ),
  cluster_ocsp: key(
    'clustering',
    oneOf(['off', 'on', 'optional'] as const),
    'off',
    'Control plane checks data plane certificates with OCSP (pki mode only): `on` rejects on any failure, `optional` only on revoked.',
  ),
  cluster_max_payload: key(
    'clustering',
    number({ integer: true, min: 4194304, minMessage: 'must be 4194304 (4MB) or greater' }),
    '16777216',
    'Largest configuration payload (bytes) a data plane accepts from the control plane.',
  ),
  cluster_data_plane_purge_delay: key(
    'clustering',
    number({ integer: true, min: 60, minMessage: 'must be 60 or greater' }),
    '1209600',
    'Seconds after its last ping before a data plane is removed from `/clustering/data-planes`.',
  ),
  cluster_dp_labels: key(
    'clustering',
    dpLabels(),
    '',
    'Labels a data plane reports to its control plane: up to 10 `key:value` pairs (data planes only).',
  ),
  cluster_use_proxy: key(
    'clustering',
    boolean(),
    'off',
    'A data plane reaches its control plane through the HTTP CONNECT proxy in `proxy_server`.',
  ),
  proxy_server: key(
    'clustering',
    proxyUrl(),
    '',
    'Forward proxy (`http://` or `https://` URL, optionally with credentials) used when `cluster_use_proxy = on`.',
    { sensitive: true },
  ),
  proxy_server_ssl_verify: key(
    'clustering',
    boolean(),
    'on',
    'Verify the certificate of an `https://` proxy_server (chain and name) against `lua_ssl_trusted_certificate` (by default Node’s CA list and `NODE_EXTRA_CA_CERTS`) and the cluster’s trust (`cluster_ca_cert` in pki mode, `cluster_cert` in shared mode), as Kong.',
  ),
  data_plane_config_cache_mode: key(
    'clustering',
    oneOf(['unencrypted', 'encrypted', 'off'] as const),
    'unencrypted',
    'How a data plane keeps its last config in the prefix: plain, AES-256-GCM encrypted with a key derived from `cluster_cert_key`, or not at all.',
  ),

  // ---- certificates ----
  cluster_cert: key(
    'certificates',
    certificate('certificate'),
    '',
    'Cluster mTLS certificate (shared: the same on every node; pki: this node’s, optionally followed by its intermediates). Path or inline PEM.',
  ),
  cluster_cert_key: key(
    'certificates',
    certificate('key'),
    '',
    'Private key of `cluster_cert`. Path or inline PEM.',
  ),
  cluster_ca_cert: key(
    'certificates',
    certificate('certificate'),
    '',
    'Root CA (self-signed, not an intermediate) that signs every node’s certificate. Required in pki mode; ignored in shared mode.',
  ),
  ssl_cert: key(
    'certificates',
    certificateList('certificate'),
    '',
    'Certificates for the proxy’s `ssl` listeners (one per key in `ssl_cert_key`). Paths or inline PEM.',
  ),
  ssl_cert_key: key('certificates', certificateList('key'), '', 'Keys of `ssl_cert`, in the same order.'),
  admin_ssl_cert: key(
    'certificates',
    certificateList('certificate'),
    '',
    'Certificates for the Admin API’s `ssl` listeners.',
  ),
  admin_ssl_cert_key: key(
    'certificates',
    certificateList('key'),
    '',
    'Keys of `admin_ssl_cert`, in the same order.',
  ),
  status_ssl_cert: key(
    'certificates',
    certificateList('certificate'),
    '',
    'Certificates for the status API’s `ssl` listeners.',
  ),
  status_ssl_cert_key: key(
    'certificates',
    certificateList('key'),
    '',
    'Keys of `status_ssl_cert`, in the same order.',
  ),
  lua_ssl_trusted_certificate: key(
    'certificates',
    trustedCertificateList(),
    'system',
    'CA certificates the node trusts when it verifies a server: `system` (Node’s CA list and `NODE_EXTRA_CA_CERTS`) and/or CA certificate files, comma separated; unset trusts none. A data plane adds the cluster’s trust (`cluster_ca_cert` in pki mode, `cluster_cert` in shared mode), as Kong. Used for upstreams of services with `tls_verify` and no `ca_certificates`, for active health checks with `https_verify_certificate`, and for an `https://` proxy_server.',
  ),
  lua_ssl_verify_depth: key(
    'certificates',
    number({ integer: true, min: 0, minMessage: 'must be 0 or greater' }),
    '1',
    'Most intermediates allowed between a server certificate and the CA trusted by `lua_ssl_trusted_certificate` in active health checks (`https_verify_certificate`), as Kong; proxied requests use the service’s `tls_verify_depth`.',
  ),

  // ---- datastore ----
  database: key(
    'datastore',
    oneOf(['sqlite', 'postgres', 'off'] as const),
    'sqlite',
    '`sqlite`: embedded database in the prefix (zero setup); `postgres`: shared by several control planes; `off`: no database (required on data planes).',
  ),
  pg_host: key('datastore', requiredText(), '127.0.0.1', 'PostgreSQL host.'),
  pg_port: key('datastore', number({ integer: true, min: 1, max: 65535 }), '5432', 'PostgreSQL port.'),
  pg_timeout: key(
    'datastore',
    number({ integer: true, min: 0 }),
    '5000',
    'PostgreSQL connect and query timeout (ms).',
  ),
  pg_user: key('datastore', requiredText(), 'kong', 'PostgreSQL user.'),
  pg_password: key('datastore', text(), '', 'PostgreSQL password.', { sensitive: true }),
  pg_database: key('datastore', requiredText(), 'kong', 'PostgreSQL database.'),
  pg_schema: key(
    'datastore',
    text(),
    '',
    'PostgreSQL schema; unset: the server’s search_path (usually `public`).',
  ),
  pg_ssl: key('datastore', boolean(), 'off', 'Connect to PostgreSQL over TLS.'),
  pg_ssl_verify: key(
    'datastore',
    boolean(),
    'off',
    'Verify PostgreSQL’s server certificate (with `pg_ssl = on`).',
  ),
  db_update_frequency: key(
    'datastore',
    number({ min: 0, exclusiveMin: true }),
    '5',
    'Seconds between polls for changes made by other nodes (Kong); Hybrid pushes changes at once and uses this as the fallback poll.',
  ),
  db_update_propagation: key(
    'datastore',
    number({ min: 0 }),
    '0',
    'Extra seconds to wait for changes to propagate in an eventually consistent datastore.',
  ),
  db_cache_ttl: key(
    'datastore',
    number({ min: 0 }),
    '0',
    'Seconds entities stay in the node cache; 0 = until invalidated.',
  ),
  declarative_config: key(
    'datastore',
    path(),
    '',
    'Declarative config file (decK YAML/JSON) a node with `database = off` loads when it has no cached config.',
  ),
  lmdb_environment_path: key(
    'datastore',
    requiredText(),
    'dbless.lmdb',
    'Data plane config cache directory, relative to the prefix.',
  ),
  lmdb_map_size: key('datastore', size(), '2048m', 'Maximum size of the config cache (k/m/g suffixes).'),

  // ---- proxy behaviour ----
  upstream_keepalive_pool_size: key(
    'proxy',
    number({ integer: true, min: 0, minMessage: 'must be 0 or greater' }),
    '512',
    'Idle upstream connections kept per upstream; 0 disables keep-alive.',
  ),
  upstream_keepalive_max_requests: key(
    'proxy',
    number({ integer: true, min: 0, minMessage: 'must be 0 or greater' }),
    '1000',
    'Requests served by one upstream keep-alive connection before it is closed; 0 = unlimited.',
  ),
  upstream_keepalive_idle_timeout: key(
    'proxy',
    number({ integer: true, min: 0, minMessage: 'must be 0 or greater' }),
    '60',
    'Seconds an idle upstream keep-alive connection is kept; 0 = no limit.',
  ),
  headers: key(
    'proxy',
    list(headerToken, 'comma list of header tokens'),
    'server_tokens, latency_tokens, x-kong-request-id',
    'Headers the proxy adds to responses: `server_tokens` (Via, Server), `latency_tokens` (X-Kong-*-Latency), single header names such as `X-Kong-Request-Id`, or `off`.',
  ),
  trusted_ips: key(
    'proxy',
    list(trustedIp, 'comma list of IPs/CIDRs'),
    '',
    'Clients whose `X-Forwarded-*` / real-IP headers are trusted (IPs, CIDR blocks, `unix:`).',
  ),
  real_ip_header: key(
    'proxy',
    requiredText(),
    'X-Real-IP',
    'Header carrying the client address from a trusted proxy.',
    {
      aliases: ['nginx_proxy_real_ip_header'],
    },
  ),
} as const satisfies Record<string, KeyDefinition<unknown>>;

export type ConfigKey = keyof typeof KEY_DEFINITIONS;

type ValueOf<D> = D extends KeyDefinition<infer T> ? T : never;

/** The typed configuration: one field per key, named as in kong.conf. */
export type HybridConfig = { -readonly [K in ConfigKey]: ValueOf<(typeof KEY_DEFINITIONS)[K]> };

export const CONFIG_KEYS = Object.keys(KEY_DEFINITIONS) as ConfigKey[];

/** `cluster_cert` → `KONG_CLUSTER_CERT`. */
export const envName = (k: string): string => `KONG_${k.toUpperCase()}`;

/** Alias → canonical key. */
export const KEY_ALIASES: ReadonlyMap<string, ConfigKey> = new Map(
  CONFIG_KEYS.flatMap((k) => {
    const def: KeyDefinition<unknown> = KEY_DEFINITIONS[k];
    return (def.aliases ?? []).map((a) => [a, k] as const);
  }),
);

export function isConfigKey(name: string): name is ConfigKey {
  return Object.hasOwn(KEY_DEFINITIONS, name);
}
