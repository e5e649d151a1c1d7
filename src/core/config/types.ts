// Shapes shared by the configuration modules: typed values, where a value came from, and problems found.

/** Where a key's value came from; precedence is cli > env > file > default (`cli`: a command's own flag, e.g. `-p`). */
export type ConfigSource = 'default' | 'file' | 'env' | 'cli';

/** Provenance of one key's effective value. */
export interface ConfigOrigin {
  source: ConfigSource;
  /** The raw text as written (trimmed, comments stripped). */
  raw: string;
  /** Path of the file, when source = file. */
  file?: string;
  /** 1-based line number, when source = file. */
  line?: number;
  /** Name of the environment variable, when source = env (e.g. KONG_CLUSTER_CERT). */
  env?: string;
}

export type ProblemSeverity = 'error' | 'warning';

/** One thing wrong with (or worth saying about) a configuration. */
export interface ConfigProblem {
  severity: ProblemSeverity;
  /** Stable machine-readable code, e.g. `config_invalid_value`, `config_role_rule`. */
  code: string;
  /** The configuration key concerned (or `<file>` for a syntax problem of a line). */
  key: string;
  message: string;
  hint?: string;
  source?: ConfigSource;
  file?: string;
  line?: number;
  env?: string;
}

/** One parsed `*_listen` entry such as `0.0.0.0:8443 http2 ssl reuseport backlog=16384`. */
export interface Listener {
  /** IP or host name, IPv6 without brackets (ready for `net.Server.listen`). */
  host: string;
  port: number;
  ssl: boolean;
  http2: boolean;
  reuseport: boolean;
  proxyProtocol: boolean;
  deferred: boolean;
  bind: boolean;
  backlog?: number;
  /** The flags as written, normalised (e.g. `['http2', 'ssl', 'backlog=16384']`). */
  flags: string[];
  /** Canonical text form: `[::1]:8000 ssl`. */
  listener: string;
}

/** A `host:port` address such as `cluster_control_plane`. */
export interface HostPort {
  /** Host name or IP, IPv6 without brackets. */
  host: string;
  port: number;
}

/**
 * A certificate or key given as a file path or inline PEM. `pem` always holds the text;
 * `path` is the absolute file it was read from (absent when given inline).
 */
export interface CertificateValue {
  path?: string;
  pem: string;
}
