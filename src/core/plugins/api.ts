// The plugin API: what a plugin is (name, version, priority, schema, phase handlers) and the context its
// handlers receive. Bundled and operators' own plugins are written against this file only.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { RouteCaptures, RouteEntity, ServiceEntity } from '../proxy/types.js';
import type { PluginSchema } from './plugin-schema.js';

/** Kong's request phases, in the order they run. */
export type PluginPhase = 'rewrite' | 'access' | 'header_filter' | 'body_filter' | 'log';

export interface PluginLog {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A consumer as exported by the control plane. */
export interface ConsumerEntity {
  id: string;
  username?: string;
  custom_id?: string;
  tags?: string[];
}

/** A credential that authenticated the request (e.g. a keyauth_credentials row). */
export interface CredentialEntity {
  id: string;
  consumer?: { id: string };
  [field: string]: unknown;
}

/** The client's request as the plugins see and change it before it goes upstream. */
export interface PluginRequest {
  readonly method: string;
  /** Path as received, without the query string. */
  readonly path: string;
  /** Query as received (changes go through setQuery). */
  readonly query: URLSearchParams;
  /** Headers as received, lowercased names (changes go through setHeader/removeHeader). */
  readonly headers: IncomingHttpHeaders;
  readonly scheme: 'http' | 'https';
  /** Host header without the port. */
  readonly host: string;
  readonly port: number;
  /** The client's address (after trusted_ips / real_ip_header). */
  readonly clientIp: string;
  /** The route's regex path captures (named and positional), when its matching path was a `~` regex. */
  readonly captures?: RouteCaptures | null;
  /** Reads the whole request body (buffered once; the buffered bytes are what goes upstream). */
  getBody(): Promise<Buffer>;
  /** The Content-Length header as a number, or null (chunked or absent). */
  readonly contentLength: number | null;

  /** Header sent upstream; `undefined` removes it. */
  setHeader(name: string, value: string | string[] | undefined): void;
  removeHeader(name: string): void;
  /** The path sent upstream (replaces the router's upstream path). */
  setPath(path: string): void;
  setQuery(query: URLSearchParams | string): void;
  setMethod(method: string): void;
  /** The body sent upstream (Content-Length is set accordingly). */
  setBody(body: Buffer | string): void;
  /**
   * Caps a body of unknown length (chunked) as it streams upstream, without buffering it: once more than
   * `maxBytes` arrived, the upstream request is abandoned and the client gets `exit(status, body)` instead.
   * A body already buffered (getBody) is checked at once. Absent outside the proxy (unit-test contexts).
   */
  limitBody?(maxBytes: number, status: number, body?: unknown): void;
  /** The connection the request came on (correlation-id's `tracker`). Absent outside the proxy. */
  readonly connection?: {
    readonly serverAddress: string;
    readonly serverPort: number;
    /** Serial number of the connection in this process. */
    readonly serial: number;
    /** Requests made on this connection so far, this one included. */
    readonly requests: number;
  };
  /** Headers, path, query, method and body as they will go upstream. */
  readonly upstream: {
    readonly headers: Readonly<Record<string, string | string[]>>;
    readonly path: string;
    readonly query: string;
    readonly method: string;
  };
}

/** The response on its way to the client: from the upstream, or from a plugin's `exit`. */
export interface PluginResponse {
  status: number;
  /** Lowercased names; changes are what the client receives. */
  readonly headers: OutgoingHttpHeaders;
  setHeader(name: string, value: string | number | string[] | undefined): void;
  removeHeader(name: string): void;
  /** True when the response came from a plugin's exit or the proxy itself, not the upstream. */
  readonly fromPlugin: boolean;
}

/** Timings and sizes for the log phase (Kong's `kong.log.serialize()` essentials). */
export interface PluginLogRecord {
  startedAt: number;
  /** ms: whole request as seen by the client. */
  latencyMs: number;
  /** ms: waiting for the upstream's response head; null when no upstream was called. */
  upstreamLatencyMs: number | null;
  /** ms: the gateway's own share (latency minus upstream). */
  proxyLatencyMs: number;
  requestBytes: number;
  responseBytes: number;
  status: number;
  /** The target that answered, `host:port`, when an upstream was called. */
  upstreamAddress: string | null;
}

/** Per-request state every handler of every plugin can read and write (Kong's kong.ctx.shared). */
export type SharedState = Map<string, unknown>;

/** What a handler receives. One context per plugin per request. */
export interface PluginContext<Config = Record<string, unknown>> {
  /** This plugin entity's validated config (defaults filled). */
  readonly config: Config;
  /** The plugin entity's id (rate-limiting counters, caches are per plugin entity). */
  readonly pluginId: string;
  readonly request: PluginRequest;
  /** Available from header_filter on. */
  readonly response: PluginResponse;
  readonly route: RouteEntity | null;
  readonly service: ServiceEntity | null;
  /** The authenticated consumer: read by every plugin, set by authentication plugins. */
  readonly consumer: ConsumerEntity | null;
  readonly credential: CredentialEntity | null;
  /** Sets who the request is (an authentication plugin's job); later phases and plugins see it. */
  authenticate(consumer: ConsumerEntity | null, credential: CredentialEntity | null): void;
  /** Looks up entities of the current configuration (consumers, credentials…) by id or by an indexed field. */
  readonly entities: EntityLookup;
  readonly shared: SharedState;
  /** This plugin's own per-request state (Kong's kong.ctx.plugin). */
  readonly state: Map<string, unknown>;
  readonly log: PluginLog;
  /**
   * Ends the request here with this answer (Kong's kong.response.exit): no later rewrite/access handler runs
   * and the upstream is not called; header_filter and log handlers still run. A body object is sent as JSON.
   */
  exit(status: number, body?: unknown, headers?: Record<string, string | string[]>): void;
  /** The log-phase record (only in `log`). */
  readonly logRecord: PluginLogRecord | null;
}

/** Lookups into the configuration the data plane serves; built once per configuration version. */
export interface EntityLookup {
  consumer(idOrUsername: string): ConsumerEntity | null;
  /** A key-auth credential by its key. */
  keyAuthCredential(key: string): CredentialEntity | null;
  /** Every row of an entity (e.g. 'consumers'), as exported. */
  all(entity: string): readonly Record<string, unknown>[];
}

/** What a plugin instance (one per plugin entity per configuration version) may hold: counters, caches. */
export interface PluginInstanceOptions<Config> {
  config: Config;
  pluginId: string;
  log: PluginLog;
  /** The node: its id, role and settings some plugins need (Redis defaults, status metrics). */
  node: { id: string; version: string };
}

type Handler<Config> = (ctx: PluginContext<Config>) => void | Promise<void>;

/**
 * A plugin. Handlers are optional; `priority` orders plugins as in Kong (higher runs first in every phase).
 * `body_filter` receives the whole response body (the proxy buffers it only for plugins that declare one) and
 * returns the body to send, or undefined to keep it.
 */
export interface PluginDefinition<Config = Record<string, unknown>> {
  name: string;
  version: string;
  priority: number;
  /** The config schema; bundled plugins' schemas live in src/core/plugins/<name>/schema.ts. */
  schema: PluginSchema;
  /** Creates per-entity state when a configuration is applied; `close` of the previous one is called after. */
  init?(options: PluginInstanceOptions<Config>): PluginInstance<Config> | Promise<PluginInstance<Config>>;
  rewrite?: Handler<Config>;
  access?: Handler<Config>;
  header_filter?: Handler<Config>;
  body_filter?: (
    ctx: PluginContext<Config>,
    body: Buffer,
  ) => Buffer | undefined | Promise<Buffer | undefined>;
  log?: Handler<Config>;
}

/** Per-entity handlers (when `init` is given they replace the definition's own). */
export interface PluginInstance<Config = Record<string, unknown>> {
  rewrite?: Handler<Config>;
  access?: Handler<Config>;
  header_filter?: Handler<Config>;
  body_filter?: PluginDefinition<Config>['body_filter'];
  log?: Handler<Config>;
  close?(): void | Promise<void>;
}

/** Helps a plugin module declare itself with its config type checked. */
export function definePlugin<Config>(definition: PluginDefinition<Config>): PluginDefinition<Config> {
  return definition;
}
