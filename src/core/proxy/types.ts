// The data plane's view of a configuration: entity shapes as the control plane exports them, and the
// interfaces the router, the balancer and the proxy agree on.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import type { ResponseSink } from './upstream-client.js';

/** A foreign key as exported: `{ id }`. */
export interface ForeignKey {
  id: string;
}

export interface ServiceEntity {
  id: string;
  name?: string;
  protocol: 'http' | 'https' | 'grpc' | 'grpcs' | 'tcp' | 'tls' | 'udp' | 'ws' | 'wss' | 'tls_passthrough';
  host: string;
  port: number;
  path?: string;
  retries?: number;
  connect_timeout?: number;
  write_timeout?: number;
  read_timeout?: number;
  enabled?: boolean;
  /** Verify the upstream's certificate (null: nginx's default, off). */
  tls_verify?: boolean | null;
  /** The most intermediates the upstream's chain may hold (null: nginx's default, 1). */
  tls_verify_depth?: number | null;
  /** ids of ca_certificates the upstream's certificate must chain to (null: the node's trust). */
  ca_certificates?: string[] | null;
  /** The certificate presented to the upstream. */
  client_certificate?: ForeignKey | null;
  tags?: string[];
  created_at?: number;
}

export interface RouteEntity {
  id: string;
  name?: string;
  protocols: string[];
  methods?: string[];
  hosts?: string[];
  paths?: string[];
  headers?: Record<string, string[]>;
  snis?: string[];
  regex_priority?: number;
  strip_path: boolean;
  preserve_host: boolean;
  path_handling?: 'v0' | 'v1';
  https_redirect_status_code?: number;
  request_buffering?: boolean;
  response_buffering?: boolean;
  service?: ForeignKey;
  tags?: string[];
  created_at?: number;
}

export interface UpstreamEntity {
  id: string;
  name: string;
  algorithm?: 'round-robin' | 'consistent-hashing' | 'least-connections' | 'latency';
  hash_on?: string;
  hash_fallback?: string;
  hash_on_header?: string;
  hash_fallback_header?: string;
  hash_on_cookie?: string;
  hash_on_cookie_path?: string;
  hash_on_query_arg?: string;
  hash_fallback_query_arg?: string;
  hash_on_uri_capture?: string;
  hash_fallback_uri_capture?: string;
  slots?: number;
  host_header?: string;
  healthchecks?: Record<string, unknown>;
  /** Presented to targets when the service has no client_certificate, and by active health checks. */
  client_certificate?: ForeignKey | null;
  created_at?: number;
}

export interface TargetEntity {
  id: string;
  target: string;
  weight?: number;
  upstream: ForeignKey;
  created_at?: number;
}

/** The declarative document a data plane receives (`_format_version: "3.0"`, flat, foreign keys as `{ id }`). */
export interface DeclarativeConfig {
  _format_version?: string;
  services?: ServiceEntity[];
  routes?: RouteEntity[];
  upstreams?: UpstreamEntity[];
  targets?: TargetEntity[];
  plugins?: Record<string, unknown>[];
  consumers?: Record<string, unknown>[];
  certificates?: Record<string, unknown>[];
  snis?: Record<string, unknown>[];
  ca_certificates?: Record<string, unknown>[];
  [entity: string]: unknown;
}

/** What the router needs to know of a request. */
export interface RouteRequest {
  method: string;
  /** Host header without the port, lowercased (the SNI or listener address when absent). */
  host: string;
  /** Port from the Host header, else the port the client connected to. */
  port: number;
  /** Request path without the query string, as received (percent-encoding kept). */
  path: string;
  headers: IncomingHttpHeaders;
  /** TLS server name on https listeners. */
  sni?: string;
  protocol: 'http' | 'https';
}

export interface RouteCaptures {
  unnamed: string[];
  named: Record<string, string>;
}

export interface RouteMatch {
  route: RouteEntity;
  /** The route's service, or null for a route without one (Kong answers 503 then). */
  service: ServiceEntity | null;
  /** Path to send upstream (strip_path, path_handling and the service path applied), without the query. */
  upstreamPath: string;
  /** The Host header to send upstream when preserve_host is on, else null (the target's host is used). */
  upstreamHost: string | null;
  /** Regex path captures, when the matching path was a `~` regex. */
  captures: RouteCaptures | null;
  /**
   * Set when an http request matched a route that accepts https only: the status to answer with instead of
   * proxying (the route's https_redirect_status_code, 426 by default; 301/302/307/308 carry a Location).
   */
  redirect?: number;
}

/** Built once per configuration version; matching must not cost time linear in the route count. */
export interface Router {
  readonly routeCount: number;
  /** Routes left out of the router, one line each (a regex that does not compile, a missing service…). */
  readonly warnings?: readonly string[];
  match(request: RouteRequest): RouteMatch | null;
}

/** One upstream address a balancer can hand out. */
export interface BalancerTarget {
  /** Stable key: `host:port`. */
  key: string;
  host: string;
  port: number;
  weight: number;
  /** The target's configured host name when `host` is an address it resolved to (Kong sends it as Host). */
  hostname?: string;
}

/** What consistent hashing may hash on. */
export interface BalancerRequest {
  clientIp: string;
  headers: IncomingHttpHeaders;
  path: string;
  query: URLSearchParams;
  consumerId?: string;
  credentialId?: string;
  captures?: RouteCaptures | null;
}

/** How a proxied attempt went, for passive health checks and least-connections accounting. */
export type AttemptOutcome =
  | { kind: 'response'; status: number }
  | { kind: 'tcp_failure' }
  | { kind: 'timeout' }
  /** Over without a word on the target's health (name resolution, a closed pool, a request not sendable). */
  | { kind: 'none' };

export interface BalancerPick {
  target: BalancerTarget;
  /** Call once when the attempt is over (least-connections and passive health checks depend on it). */
  done(outcome: AttemptOutcome): void;
  /**
   * Set when consistent hashing on a cookie found none and made one up: the response must carry
   * `Set-Cookie: <name>=<value>; Path=<path>; Same-Site=Lax; HttpOnly` (as Kong does).
   */
  hashCookie?: { name: string; value: string; path: string };
}

export interface Balancer {
  readonly upstream: UpstreamEntity;
  /** A healthy target, skipping `exclude` keys (retries); null when none is healthy. */
  pick(request: BalancerRequest, exclude?: ReadonlySet<string>): BalancerPick | null;
  /** For `kong_upstream_target_health`: each target and its state. */
  health(): { target: BalancerTarget; state: 'healthy' | 'unhealthy' | 'dns_error' | 'healthchecks_off' }[];
  close(): void;
}

/**
 * A client's request as the proxy and the plugins read it: Node's IncomingMessage (TLS and HTTP/2 listeners,
 * upgrades), or the plain listener's own (see plain-listener.ts).
 */
export interface ClientRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly httpVersionMajor: number;
  readonly socket: Socket;
  /** Lets the body go (read and dropped). */
  resume(): unknown;
  /** The body, chunk by chunk; returning early does not destroy the request. */
  iterator(options: { destroyOnReturn: boolean }): AsyncIterableIterator<Buffer>;
}

/** The response to a ClientRequest: Node's ServerResponse, or the plain listener's own. */
export interface ClientResponse extends ResponseSink {
  readonly headersSent: boolean;
  /** The status written (200 until then). */
  readonly statusCode: number;
  /** Set false before the head to close the connection after this response. */
  shouldKeepAlive: boolean;
  readonly socket: Socket | null;
  writeHead(status: number, headers: OutgoingHttpHeaders | string[]): unknown;
  /** 'close' once the response is over, whether it ended or was cut. */
  once(event: 'close' | 'drain', listener: () => void): unknown;
}
