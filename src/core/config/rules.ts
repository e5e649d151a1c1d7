// Cross-key rules for each role (hybrid certificates, CP vs DP duties), modelled on Kong's messages; pure.
import type { ConfigKey, HybridConfig } from './keys.js';
import { isIP } from 'node:net';
import type { ConfigOrigin, ConfigProblem, Listener, ProblemSeverity } from './types.js';

export interface RuleInput {
  config: HybridConfig;
  origins: Record<ConfigKey, ConfigOrigin>;
  /** Keys whose value failed to parse (their default stands in); rules about them are skipped. */
  invalid: ReadonlySet<ConfigKey>;
}

/** Attaches a key's provenance to a problem. */
export function problemAt(
  origins: Record<ConfigKey, ConfigOrigin>,
  key: ConfigKey,
  severity: ProblemSeverity,
  code: string,
  message: string,
  hint?: string,
): ConfigProblem {
  const o = origins[key];
  const problem: ConfigProblem = { severity, code, key, message, source: o.source };
  if (hint !== undefined) problem.hint = hint;
  if (o.file !== undefined) problem.file = o.file;
  if (o.line !== undefined) problem.line = o.line;
  if (o.env !== undefined) problem.env = o.env;
  return problem;
}

const quoted = (role: string): string => `role = "${role}"`;

/** Every role rule; returns all problems at once. */
export function checkRules({ config, origins, invalid }: RuleInput): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const error = (key: ConfigKey, message: string, hint?: string) =>
    problems.push(problemAt(origins, key, 'error', 'config_rule', message, hint));
  const warn = (key: ConfigKey, message: string, hint?: string) =>
    problems.push(problemAt(origins, key, 'warning', 'config_rule', message, hint));
  const explicit = (key: ConfigKey) => origins[key].source !== 'default';

  const { role } = config;
  const hybrid = role === 'control_plane' || role === 'data_plane';
  const roleKnown = !invalid.has('role');

  if (roleKnown && hybrid) {
    for (const k of ['cluster_cert', 'cluster_cert_key'] as const) {
      if (config[k] === null && !invalid.has(k)) {
        error(
          k,
          `cluster certificate and key must be provided to use Hybrid mode (${k} is not set)`,
          config.cluster_mtls === 'shared'
            ? 'Run `hybrid gen_cert` and set cluster_cert and cluster_cert_key to the two files on every node.'
            : 'Set cluster_cert and cluster_cert_key to this node’s certificate and key, issued by the CA in cluster_ca_cert.',
        );
      }
    }
    if (config.cluster_mtls === 'pki' && config.cluster_ca_cert === null && !invalid.has('cluster_ca_cert')) {
      error(
        'cluster_ca_cert',
        'must be specified when cluster_mtls = "pki"',
        'Set cluster_ca_cert to the root CA certificate (self-signed) that issued the cluster certificates.',
      );
    }
    if (config.cluster_mtls === 'shared' && config.cluster_ca_cert !== null) {
      warn(
        'cluster_ca_cert',
        'is ignored when cluster_mtls = "shared"',
        'Remove it, or set cluster_mtls = pki.',
      );
    }
  }
  if (roleKnown && config.cluster_ocsp !== 'off') {
    if (role !== 'control_plane') {
      warn('cluster_ocsp', `is only used by a control plane; ignored with ${quoted(role)}`);
    } else if (config.cluster_mtls !== 'pki') {
      warn('cluster_ocsp', 'is only used when cluster_mtls = "pki"; ignored');
    }
  }

  if (roleKnown && role === 'control_plane') {
    if (config.admin_listen.length === 0 && !invalid.has('admin_listen')) {
      error(
        'admin_listen',
        `must be specified when ${quoted(role)}`,
        'Set admin_listen = 127.0.0.1:8001 (the default).',
      );
    }
    if (config.cluster_listen.length === 0 && !invalid.has('cluster_listen')) {
      error(
        'cluster_listen',
        `must be specified when ${quoted(role)}`,
        'Set cluster_listen = 0.0.0.0:8005 (the default).',
      );
    }
    if (config.database === 'off') {
      error(
        'database',
        `in-memory storage can not be used when ${quoted(role)}`,
        'Set database = sqlite (embedded, the default) or database = postgres.',
      );
    }
    if (config.cluster_use_proxy) error('cluster_use_proxy', `can not be used when ${quoted(role)}`);
    if (Object.keys(config.cluster_dp_labels).length > 0) {
      error(
        'cluster_dp_labels',
        `can not be used when ${quoted(role)}`,
        'Labels belong in the data planes’ configuration.',
      );
    }
    if (explicit('proxy_listen') && config.proxy_listen.length > 0) {
      warn(
        'proxy_listen',
        `is ignored when ${quoted(role)}: control planes do not proxy traffic`,
        'Remove proxy_listen from the control plane configuration (or set it to off).',
      );
    }
  }

  if (roleKnown && role === 'data_plane') {
    if (config.proxy_listen.length === 0 && !invalid.has('proxy_listen')) {
      error('proxy_listen', `must be specified when ${quoted(role)}`, 'Set proxy_listen = 0.0.0.0:8000.');
    }
    if (config.database !== 'off' && !invalid.has('database')) {
      error(
        'database',
        `only in-memory storage can be used when ${quoted(role)}`,
        'Set database = off in your kong.conf (or KONG_DATABASE=off).',
      );
    }
    if (config.cluster_use_proxy && config.proxy_server === null && !invalid.has('proxy_server')) {
      error(
        'cluster_use_proxy',
        'is turned on but no proxy_server is configured',
        'Set proxy_server = http://proxy.example:3128, or turn cluster_use_proxy off.',
      );
    }
    if (config.cluster_mtls === 'pki' && config.cluster_server_name === null) {
      warn(
        'cluster_server_name',
        'is not set in pki mode: the data plane sends "kong_clustering" as SNI and expects the control plane certificate to match it',
        'Set cluster_server_name to the DNS name in the control plane certificate.',
      );
    }
  }

  if (roleKnown && role === 'traditional' && Object.keys(config.cluster_dp_labels).length > 0) {
    error('cluster_dp_labels', `can only be used when role = "data_plane"`);
  }

  if (config.declarative_config !== null && config.database !== 'off' && role !== 'data_plane') {
    warn(
      'declarative_config',
      'is only loaded when database = off; ignored',
      'Use `hybrid config db_import` to load it into the database.',
    );
  }

  // Kong's pairing rules for listener certificates.
  for (const [cert, keyName] of [
    ['ssl_cert', 'ssl_cert_key'],
    ['admin_ssl_cert', 'admin_ssl_cert_key'],
    ['status_ssl_cert', 'status_ssl_cert_key'],
  ] as const) {
    if (invalid.has(cert) || invalid.has(keyName)) continue;
    const certs = config[cert].length;
    const keys = config[keyName].length;
    if (certs > 0 && keys === 0) error(keyName, `must be specified (${cert} is set)`);
    else if (keys > 0 && certs === 0) error(cert, `must be specified (${keyName} is set)`);
    else if (certs !== keys)
      error(keyName, `${cert} was specified ${certs} times while ${keyName} was specified ${keys} times`);
  }

  problems.push(...listenerConflicts({ config, origins, invalid }));
  return problems;
}

type ListenKey =
  'proxy_listen' | 'admin_listen' | 'status_listen' | 'cluster_listen' | 'cluster_telemetry_listen';

/** The listeners a node of this role opens. */
export function activeListenKeys(role: HybridConfig['role']): ListenKey[] {
  if (role === 'control_plane')
    return ['admin_listen', 'status_listen', 'cluster_listen', 'cluster_telemetry_listen'];
  return ['proxy_listen', 'admin_listen', 'status_listen'];
}

/** Two sockets collide when the ports match and one address covers the other (`::` is dual-stack on Linux). */
function overlaps(a: Listener, b: Listener): boolean {
  if (a.port !== b.port) return false;
  if (a.host === b.host || a.host === '::' || b.host === '::') return true;
  const v4Wildcard = (x: Listener, y: Listener) => x.host === '0.0.0.0' && isIP(y.host) !== 6;
  return v4Wildcard(a, b) || v4Wildcard(b, a);
}

/** A port opened twice (within one key or across keys) would fail to bind at start; say so now. */
function listenerConflicts({ config, origins, invalid }: RuleInput): ConfigProblem[] {
  if (invalid.has('role')) return [];
  const seen: { key: ListenKey; listener: Listener }[] = [];
  const problems: ConfigProblem[] = [];
  for (const key of activeListenKeys(config.role)) {
    if (invalid.has(key)) continue;
    for (const listener of config[key]) {
      const clash = seen.find((s) => overlaps(s.listener, listener));
      if (clash) {
        const other =
          clash.key === key ? 'another entry of the same key' : `${clash.key} (${clash.listener.listener})`;
        problems.push(
          problemAt(
            origins,
            key,
            'error',
            'config_listen_conflict',
            `${listener.listener} uses port ${listener.port}, already taken by ${other}`,
            'Give every listener its own port (or distinct, non-wildcard addresses).',
          ),
        );
      }
      seen.push({ key, listener });
    }
  }
  return problems;
}
