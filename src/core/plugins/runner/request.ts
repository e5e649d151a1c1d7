// The client's request as plugins see and change it: reads come from what arrived, changes are recorded and
// applied to the upstream request by the proxy (headers, path, query, method, a buffered body).
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { proxyWritesRequestHeader, type ClientView } from '../../proxy/headers.js';
import type { PluginRequest } from '../api.js';
import type { ClientRequest, RouteCaptures } from '../../proxy/types.js';
import { lowerHeaderName } from './header-names.js';

/** A cap on a streamed body and the answer given when it is passed. */
export interface BodyLimit {
  maxBytes: number;
  status: number;
  body: unknown;
}

interface ConnectionInfo {
  serverAddress: string;
  serverPort: number;
  serial: number;
  requests: number;
}

let connectionSerial = 0;
const connections = new WeakMap<Socket, ConnectionInfo>();

export class RequestView implements PluginRequest {
  /** Header changes by lowercased name; undefined removes the header. Null until the first change. */
  headerChanges: Map<string, string | string[] | undefined> | null = null;
  pathOverride: string | null = null;
  /** Query without its `?`. */
  queryOverride: string | null = null;
  methodOverride: string | null = null;
  captures: RouteCaptures | null = null;
  /** The body sent upstream once read or replaced. */
  body: Buffer | null = null;
  bodyLimit: BodyLimit | null = null;
  private bodyRead: Promise<Buffer> | null = null;
  private parsedQuery: URLSearchParams | null = null;
  private connectionInfo: ConnectionInfo | null = null;

  constructor(
    private readonly req: ClientRequest,
    private readonly client: ClientView,
    /** The router's upstream path (the request path when no route matched). */
    private readonly upstreamPath: string,
    /** Told when a body already read is over a limit set afterwards (the request's run). */
    private readonly limits: { limitExceeded(limit: BodyLimit): void },
  ) {}

  get method(): string {
    return this.req.method ?? 'GET';
  }
  get path(): string {
    return this.client.path;
  }
  get query(): URLSearchParams {
    return (this.parsedQuery ??= new URLSearchParams(this.client.search));
  }
  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }
  get scheme(): 'http' | 'https' {
    return this.client.proto;
  }
  get host(): string {
    return this.client.host;
  }
  get port(): number {
    return this.client.port;
  }
  get clientIp(): string {
    return this.client.realIp;
  }
  get contentLength(): number | null {
    const raw = this.req.headers['content-length'];
    if (raw === undefined) return null;
    const n = Number(raw);
    return Number.isSafeInteger(n) && n >= 0 ? n : null;
  }

  get connection(): ConnectionInfo {
    if (this.connectionInfo) return this.connectionInfo;
    const socket = this.req.socket;
    let info = connections.get(socket);
    if (!info) {
      info = {
        serverAddress: socket.localAddress ?? '',
        serverPort: socket.localPort ?? 0,
        serial: ++connectionSerial,
        requests: 0,
      };
      connections.set(socket, info);
    }
    info.requests++;
    this.connectionInfo = { ...info };
    return this.connectionInfo;
  }

  getBody(): Promise<Buffer> {
    if (this.body !== null) return Promise.resolve(this.body);
    this.bodyRead ??= (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of this.req.iterator({ destroyOnReturn: false })) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      this.body ??= body;
      this.checkLimit();
      return this.body;
    })();
    return this.bodyRead;
  }

  /** Whether the client's body was (or is being) read by a plugin, so the proxy must not stream it. */
  get bodyTaken(): boolean {
    return this.body !== null || this.bodyRead !== null;
  }

  limitBody(maxBytes: number, status: number, body?: unknown): void {
    this.bodyLimit = { maxBytes, status, body };
    this.checkLimit();
  }

  private checkLimit(): void {
    if (this.bodyLimit !== null && this.body !== null && this.body.length > this.bodyLimit.maxBytes) {
      this.limits.limitExceeded(this.bodyLimit);
    }
  }

  setHeader(name: string, value: string | string[] | undefined): void {
    const lower = lowerHeaderName(name);
    // Removing a header that neither the client, a plugin nor the proxy sets changes nothing (authentication
    // plugins clear their X-Consumer-* on every request).
    if (
      value === undefined &&
      this.req.headers[lower] === undefined &&
      !this.headerChanges?.has(lower) &&
      !proxyWritesRequestHeader(lower)
    )
      return;
    (this.headerChanges ??= new Map()).set(lower, value);
  }
  removeHeader(name: string): void {
    this.setHeader(name, undefined);
  }
  setPath(path: string): void {
    this.pathOverride = path;
  }
  setQuery(query: URLSearchParams | string): void {
    const text = typeof query === 'string' ? query : query.toString();
    this.queryOverride = text.startsWith('?') ? text.slice(1) : text;
  }
  setMethod(method: string): void {
    this.methodOverride = method.toUpperCase();
  }
  setBody(body: Buffer | string): void {
    this.body = typeof body === 'string' ? Buffer.from(body) : body;
  }

  /** Size of the request line and headers as received (HTTP/1.1 framing), for the log record. */
  headBytes(): number {
    const raw = this.req.rawHeaders;
    let bytes = this.method.length + (this.req.url?.length ?? 0) + 12; // `M U HTTP/1.1\r\n`
    for (let i = 0; i < raw.length; i += 2) bytes += raw[i]!.length + raw[i + 1]!.length + 4;
    return bytes + 2;
  }

  /** The method sent upstream. */
  get upstreamMethod(): string {
    return this.methodOverride ?? this.method;
  }

  /** Path and query sent upstream: the query keeps its `?` when unchanged (as received), as Kong. */
  get upstreamTarget(): string {
    const path = this.pathOverride ?? this.upstreamPath;
    if (this.queryOverride === null) return path + this.client.search;
    return this.queryOverride === '' ? path : `${path}?${this.queryOverride}`;
  }

  get upstream(): PluginRequest['upstream'] {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(this.req.headers))
      if (value !== undefined) headers[name] = value;
    if (this.headerChanges) {
      for (const [name, value] of this.headerChanges) {
        if (value === undefined) delete headers[name];
        else headers[name] = value;
      }
    }
    return {
      headers,
      path: this.pathOverride ?? this.upstreamPath,
      query: this.queryOverride ?? this.client.search.slice(1),
      method: this.upstreamMethod,
    };
  }
}

/**
 * Applies header changes to undici's flat `[name, value, …]` list: changed names are removed, then set ones
 * appended (a list value as repeated headers). Returns the Host override, if a plugin set one. The list itself
 * is extended (not copied) when no header of it is replaced or removed: the caller's list is its own.
 */
export function applyHeaderChanges(
  list: string[],
  changes: ReadonlyMap<string, string | string[] | undefined>,
): { list: string[]; host: string | null } {
  const changed = [...changes.keys()];
  let out = list;
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i]!;
    if (isChanged(name, changed)) {
      // The first header to go: the ones before it are kept in a copy, which the rest go on into.
      if (out === list) out = list.slice(0, i);
    } else if (out !== list) out.push(name, list[i + 1]!);
  }
  let host: string | null = null;
  for (const [name, value] of changes) {
    if (value === undefined) continue;
    if (name === 'host') {
      host = Array.isArray(value) ? value[0]! : value;
      continue;
    }
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value);
  }
  return { list: out, host };
}

/**
 * Whether a header of the list is one of the changed (lowercase) names; Host stays (its override is applied
 * apart). Names are compared by length first, so most headers are passed over without being lowercased.
 */
function isChanged(name: string, changed: readonly string[]): boolean {
  for (const lower of changed) {
    if (lower.length !== name.length || lower === 'host') continue;
    if (lower === name || lower === name.toLowerCase()) return true;
  }
  return false;
}
