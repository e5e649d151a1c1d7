// Header rules of the proxy: hop-by-hop stripping both ways, X-Forwarded-* / X-Real-IP / Via upstream, and
// which of Kong's informational response headers the `headers` setting turns on.
import type { IncomingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import { plainAddress, type TrustCheck } from './trusted-ips.js';
import type { ClientRequest } from './types.js';

/** Headers that describe one connection, never forwarded (RFC 9110 §7.6.1, plus the legacy ones Kong drops). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Request headers the proxy drops besides the hop-by-hop ones (Kong clears them; undici refuses `expect`). */
const REQUEST_DROPPED = new Set(['proxy-authorization', 'proxy', 'expect']);

/** Request headers the proxy writes itself from what it knows of the client. */
const REQUEST_REWRITTEN = new Set([
  'host',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-path',
  'x-forwarded-prefix',
  'x-real-ip',
  'via',
  'x-kong-request-id',
]);

/** Whether the proxy writes this (lowercase) request header itself, whatever the client sent. */
export function proxyWritesRequestHeader(lower: string): boolean {
  return REQUEST_REWRITTEN.has(lower);
}

/** The response header dropped besides the hop-by-hop ones. */
const RESPONSE_DROPPED = 'proxy-authenticate';

/** Which of Kong's informational headers are on (the `headers` setting; `off` turns all off). */
export interface HeaderPolicy {
  /** `Via` on proxied responses and requests (server_tokens). */
  via: boolean;
  /** `Server` on the proxy's own answers (server_tokens). */
  server: boolean;
  upstreamLatency: boolean;
  proxyLatency: boolean;
  responseLatency: boolean;
  requestId: boolean;
}

export function headerPolicy(tokens: readonly string[]): HeaderPolicy {
  const on = new Set(tokens.map((t) => t.toLowerCase()));
  if (on.has('off')) {
    return {
      via: false,
      server: false,
      upstreamLatency: false,
      proxyLatency: false,
      responseLatency: false,
      requestId: false,
    };
  }
  const latency = on.has('latency_tokens');
  const serverTokens = on.has('server_tokens');
  return {
    via: serverTokens || on.has('via'),
    server: serverTokens || on.has('server'),
    upstreamLatency: latency || on.has('x-kong-upstream-latency'),
    proxyLatency: latency || on.has('x-kong-proxy-latency'),
    responseLatency: latency || on.has('x-kong-response-latency'),
    requestId: on.has('x-kong-request-id'),
  };
}

/** `example.com:8000` → host and port; `[::1]:8000` keeps the brackets off the host. Lowercased. */
export function splitHostHeader(value: string): { host: string; port: number | null } {
  const lower = value.toLowerCase();
  if (lower.startsWith('[')) {
    const end = lower.indexOf(']');
    if (end !== -1) {
      const port = lower.charCodeAt(end + 1) === 58 /* : */ ? Number(lower.slice(end + 2)) : NaN;
      return { host: lower.slice(1, end), port: Number.isInteger(port) ? port : null };
    }
  }
  const colon = lower.lastIndexOf(':');
  if (colon === -1 || lower.indexOf(':') !== colon) return { host: lower, port: null };
  const port = Number(lower.slice(colon + 1));
  return { host: lower.slice(0, colon), port: Number.isInteger(port) && port > 0 ? port : null };
}

/** What the proxy tells the upstream about the client, after trusted_ips and the real-IP header. */
export interface ClientView {
  /** The client's address as the proxy believes it (the real-IP header's when the peer is trusted). */
  realIp: string;
  /** The address of the peer connected to the proxy. */
  peerIp: string;
  /** Whether the peer is in trusted_ips (its X-Forwarded-* are kept). */
  trusted: boolean;
  proto: 'http' | 'https';
  /** Host header without the port (lowercased), or the listener's address. */
  host: string;
  /** Port from the Host header, else the port the client connected to. */
  port: number;
  /** The port the client connected to. */
  listenerPort: number;
  sni?: string;
  /** Request path without the query, as received. */
  path: string;
  /** The query with its `?` (kept when empty, as Kong), or ''. */
  search: string;
  forwardedProto: string;
  forwardedHost: string;
  forwardedPort: string;
}

export interface ClientViewOptions {
  trusted: TrustCheck;
  /** Lowercased real_ip_header (`x-real-ip` by default). */
  realIpHeader: string;
}

export function clientView(
  req: Pick<ClientRequest, 'headers' | 'url' | 'socket'>,
  options: ClientViewOptions,
): ClientView {
  const socket = req.socket;
  const peerIp = plainAddress(socket.remoteAddress) ?? '';
  const listenerPort = socket.localPort ?? 0;
  const encrypted = (socket as TLSSocket).encrypted === true;
  const proto = encrypted ? 'https' : 'http';
  const sni = encrypted ? (socket as TLSSocket).servername || undefined : undefined;
  const hostHeader = req.headers.host ?? (req.headers[':authority'] as string | undefined);
  let host: string;
  let port = listenerPort;
  if (hostHeader) {
    const split = splitHostHeader(hostHeader);
    host = split.host;
    if (split.port !== null) port = split.port;
  } else {
    host = sni ?? plainAddress(socket.localAddress) ?? '';
  }
  const trusted = options.trusted(socket.remoteAddress === undefined ? undefined : peerIp);
  let realIp = peerIp;
  let forwardedProto: string = proto;
  let forwardedHost = host;
  let forwardedPort = String(port);
  if (trusted) {
    const h = req.headers;
    const real = h[options.realIpHeader];
    if (typeof real === 'string') {
      // As nginx's realip without real_ip_recursive: the last address of the header.
      const comma = real.lastIndexOf(',');
      const candidate = (comma === -1 ? real : real.slice(comma + 1)).trim();
      if (isIP(candidate) !== 0) realIp = candidate;
    }
    if (typeof h['x-forwarded-proto'] === 'string') forwardedProto = h['x-forwarded-proto'];
    if (typeof h['x-forwarded-host'] === 'string') forwardedHost = h['x-forwarded-host'];
    if (typeof h['x-forwarded-port'] === 'string') forwardedPort = h['x-forwarded-port'];
  }
  const { path, search } = splitRequestTarget(req.url ?? '/');
  return {
    realIp,
    peerIp,
    trusted,
    proto,
    host,
    port,
    listenerPort,
    sni,
    path,
    search,
    forwardedProto,
    forwardedHost,
    forwardedPort,
  };
}

/** Origin-form `/p?q` or absolute-form `http://h/p?q` → path and `?query`. */
export function splitRequestTarget(target: string): { path: string; search: string } {
  let rest = target;
  if (rest.charCodeAt(0) !== 47 /* / */ && /^[a-z][a-z0-9+.-]*:\/\//i.test(rest)) {
    const slash = rest.indexOf('/', rest.indexOf('//') + 2);
    rest = slash === -1 ? '/' : rest.slice(slash);
  }
  const q = rest.indexOf('?');
  return q === -1 ? { path: rest, search: '' } : { path: rest.slice(0, q), search: rest.slice(q) };
}

export interface UpstreamHeaderOptions {
  /** The Host header to send. */
  host: string;
  /** The request path without the query, for X-Forwarded-Path. */
  path: string;
  /** `1.1 hybrid/<version>` when Via is on, else null. */
  via: string | null;
  requestId: string | null;
  /** Upgrade requests keep `Upgrade` and send `Connection: upgrade`. */
  upgrade?: boolean;
}

/**
 * The request headers to send upstream, as undici's flat `[name, value, …]` list: the client's headers in
 * their order (duplicates kept) without hop-by-hop ones, then Host, X-Forwarded-*, X-Real-IP and Via.
 * X-Forwarded-For always appends the peer to what came in (as Kong); the other X-Forwarded-* come from the
 * client only when it is trusted.
 */
export function upstreamRequestHeaders(
  req: Pick<ClientRequest, 'headers' | 'rawHeaders'>,
  client: ClientView,
  options: UpstreamHeaderOptions,
): string[] {
  const raw = req.rawHeaders;
  const connectionListed = connectionTokens(req.headers.connection);
  const out: string[] = [];
  let xff: string | null = null;
  let via: string | null = null;
  let prefix: string | null = null;
  let path: string | null = null;
  let upgrade: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || REQUEST_DROPPED.has(lower) || REQUEST_REWRITTEN.has(lower)) {
      const value = raw[i + 1]!;
      if (lower === 'x-forwarded-for') xff = xff === null ? value : `${xff}, ${value}`;
      else if (lower === 'via') via = via === null ? value : `${via}, ${value}`;
      else if (lower === 'x-forwarded-prefix') prefix = value;
      else if (lower === 'x-forwarded-path') path = value;
      else if (lower === 'upgrade') upgrade = value;
      continue;
    }
    if (lower.charCodeAt(0) === 58 /* : HTTP/2 pseudo-header */) continue;
    if (connectionListed !== null && connectionListed.has(lower)) continue;
    out.push(name, raw[i + 1]!);
  }
  out.push('host', options.host);
  out.push('x-forwarded-for', xff === null ? client.realIp : `${xff}, ${client.peerIp}`);
  out.push('x-forwarded-proto', client.forwardedProto);
  out.push('x-forwarded-host', client.forwardedHost);
  out.push('x-forwarded-port', client.forwardedPort);
  out.push('x-forwarded-path', client.trusted && path !== null ? path : options.path);
  if (client.trusted && prefix !== null) out.push('x-forwarded-prefix', prefix);
  out.push('x-real-ip', client.realIp);
  if (options.via !== null) out.push('via', via === null ? options.via : `${via}, ${options.via}`);
  if (options.requestId !== null) out.push('x-kong-request-id', options.requestId);
  if (options.upgrade && upgrade !== null) out.push('connection', 'upgrade', 'upgrade', upgrade);
  return out;
}

/**
 * The end-to-end headers of a response head as `[name, value, …]` with lowercased names, in the upstream's
 * order: hop-by-hop headers (and those the upstream's Connection names) and Proxy-Authenticate removed.
 */
export function endToEndResponseHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  let connection: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || name === RESPONSE_DROPPED) {
      if (name === 'connection')
        connection = connection === null ? raw[i + 1]! : `${connection},${raw[i + 1]!}`;
      continue;
    }
    out.push(name, raw[i + 1]!);
  }
  const listed = connectionTokens(connection ?? undefined);
  if (listed === null) return out;
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) if (!listed.has(out[i]!)) kept.push(out[i]!, out[i + 1]!);
  return kept;
}

/** Adds the proxy's Via after the upstream's own (RFC 9110 §7.6.3), in a lowercased header list. */
export function appendVia(headers: string[], via: string): void {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === 'via') {
      headers[i + 1] = `${headers[i + 1]!}, ${via}`;
      return;
    }
  }
  headers.push('via', via);
}

/** A lowercased header list as an object, repeated names as arrays (the shape plugins see). */
export function headerObject(headers: readonly string[]): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    const seen = out[name];
    if (seen === undefined) out[name] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else out[name] = [seen, value];
  }
  return out as IncomingHttpHeaders;
}

/** The header names a Connection header lists (`close` and `keep-alive` are options, not names). */
function connectionTokens(value: string | string[] | undefined): Set<string> | null {
  if (value === undefined) return null;
  const text = Array.isArray(value) ? value.join(',') : value;
  let names: Set<string> | null = null;
  for (const token of text.split(',')) {
    const name = token.trim().toLowerCase();
    if (name === '' || name === 'close' || name === 'keep-alive') continue;
    (names ??= new Set()).add(name);
  }
  return names;
}
