// Sends a routed request to its service (through the upstream's balancer, or to host:port), streams the
// response back, and retries failed attempts on other targets as Kong does; failures get Kong's answers.
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import {
  BAD_UPSTREAM,
  NAME_RESOLUTION_FAILED,
  NO_PEER,
  UNEXPECTED,
  UPSTREAM_TIMEOUT,
  sendAnswer,
  type KongAnswer,
} from './answers.js';
import {
  appendVia,
  endToEndResponseHeaders,
  headerObject,
  upstreamRequestHeaders,
  type ClientView,
  type HeaderPolicy,
} from './headers.js';
import type {
  AttemptOutcome,
  Balancer,
  ClientRequest,
  ClientResponse,
  BalancerPick,
  BalancerRequest,
  RouteMatch,
  ServiceEntity,
} from './types.js';
import { newRequestId } from './request-id.js';
import type { ResponseSink, UpstreamExchange } from './upstream-client.js';
import type { UpstreamPools } from './upstream-pools.js';
import type { UpstreamTlsSet } from './upstream-tls.js';
import { applyHeaderChanges } from '../plugins/runner/request.js';
import type { RequestRun } from '../plugins/runner/run.js';
import { FilteredResponse, answerStopped, answerThroughPlugins } from './plugin-response.js';

/** Kong's service defaults. */
export const SERVICE_DEFAULTS = {
  retries: 5,
  connect_timeout: 60_000,
  read_timeout: 60_000,
  write_timeout: 60_000,
} as const;

const NO_HEALTH_WORD: AttemptOutcome = { kind: 'none' };

/** Methods nginx does not resend once they reached an upstream (proxy_next_upstream without non_idempotent). */
const NON_IDEMPOTENT = new Set(['POST', 'LOCK', 'PATCH']);

/** How an attempt failed before a response head arrived. */
export interface AttemptFailure {
  outcome: AttemptOutcome | null;
  answer: KongAnswer;
  /** The request never reached the upstream (connection refused, connect timeout): safe to resend. */
  notSent: boolean;
}

/**
 * The error-log line of a failed attempt worth the operator's attention, as nginx logs it (a refused upstream
 * certificate, TLS settings that cannot be loaded); null for failures the answer alone explains.
 */
export function upstreamFailureLine(
  err: Error & { code?: string },
  service: ServiceEntity,
  host: string,
  port: number,
): string | null {
  if (err.code !== 'UPSTREAM_TLS_CERTIFICATE' && err.code !== 'UPSTREAM_TLS_CONTEXT') return null;
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return `${err.message} while SSL handshaking to upstream ${address}, service ${service.name ?? service.id}`;
}

/** Maps a transport error to Kong's answer and the outcome the balancer hears. */
export function classifyFailure(err: Error & { code?: string }): AttemptFailure {
  switch (err.code) {
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return { outcome: { kind: 'tcp_failure' }, answer: BAD_UPSTREAM, notSent: true };
    case 'UPSTREAM_CONNECT_TIMEOUT':
      return { outcome: { kind: 'timeout' }, answer: UPSTREAM_TIMEOUT, notSent: true };
    case 'UPSTREAM_READ_TIMEOUT':
    case 'UPSTREAM_WRITE_TIMEOUT':
      return { outcome: { kind: 'timeout' }, answer: UPSTREAM_TIMEOUT, notSent: false };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { outcome: null, answer: NAME_RESOLUTION_FAILED, notSent: true };
    case 'UPSTREAM_POOL_CLOSED':
      // The pool was closed by a configuration swap between pick and dispatch: resend on a fresh one.
      return { outcome: null, answer: BAD_UPSTREAM, notSent: true };
    case 'UPSTREAM_INVALID_REQUEST':
      // A header or path that can't be sent (a plugin set a control character): not the upstream's fault.
      return { outcome: null, answer: UNEXPECTED, notSent: true };
    case 'UPSTREAM_TLS_CERTIFICATE':
      // The handshake failed, so nothing was sent: nginx tries the next target, and counts a tcp failure.
      return { outcome: { kind: 'tcp_failure' }, answer: BAD_UPSTREAM, notSent: true };
    case 'UPSTREAM_TLS_CONTEXT':
      // The service's own TLS settings can't be loaded: no target is at fault.
      return { outcome: null, answer: BAD_UPSTREAM, notSent: true };
    default:
      return { outcome: { kind: 'tcp_failure' }, answer: BAD_UPSTREAM, notSent: false };
  }
}

export interface ForwarderOptions {
  pools: UpstreamPools;
  policy: HeaderPolicy;
  /** `1.1 hybrid/<version>`. */
  via: string;
  /** `hybrid/<version>`, the Server header of the proxy's own answers. */
  server: string;
  log: { warn(message: string): void; error(message: string): void };
}

/** One proxied request across its attempts; the upstream client reports each attempt's response to it. */
class ProxiedRequest implements TargetChoice, UpstreamExchange {
  pick: BalancerPick | null = null;
  tried: Set<string> | null = null;
  attempts = 0;
  /** Whether undici started reading the client's body (then it can't be sent again). */
  bodyStarted = false;
  /** The response head was written to the client. */
  responded = false;
  status = 0;
  firstSentAt = 0;
  sentAt = 0;
  lastFailure: AttemptFailure | null = null;
  upstreamHeaders: string[] = [];
  hostIndex = -1;
  requestId: string | null = null;
  body: AsyncIterable<Buffer> | Buffer | null = null;
  /** The plugins of this request (null on the plugin-free path). */
  run: RequestRun | null = null;
  /** The method sent upstream (a plugin may change it). */
  method: string;
  /** A Host header a plugin set, sent instead of the target's. */
  hostOverride: string | null = null;
  /** The target of the latest attempt. */
  targetHost = '';
  targetPort = 0;
  private queryParams: URLSearchParams | null = null;

  constructor(
    readonly forwarder: Forwarder,
    readonly req: ClientRequest,
    readonly res: ClientResponse,
    readonly client: ClientView,
    readonly match: RouteMatch,
    readonly service: ServiceEntity,
    readonly balancer: Balancer | null,
    readonly upstreamTls: UpstreamTlsSet,
    readonly startedAt: number,
    /** The upstream path plus the query as received. */
    readonly upstreamTarget: string,
    /** The query with its `?` (kept even when empty, as Kong), or ''. */
    readonly search: string,
  ) {
    this.method = req.method ?? 'GET';
  }

  // BalancerRequest, for consistent hashing.
  get clientIp(): string {
    return this.client.realIp;
  }
  get query(): URLSearchParams {
    return (this.queryParams ??= new URLSearchParams(this.search));
  }
  get captures() {
    return this.match.captures;
  }
  get path(): string {
    return this.client.path;
  }
  get headers(): IncomingHttpHeaders {
    return this.req.headers;
  }

  // UpstreamExchange.
  onResponseHead(statusCode: number, rawHeaders: string[]): ResponseSink {
    return this.forwarder.head(this, statusCode, rawHeaders);
  }
  onResponseEnd(err: (Error & { code?: string }) | null): void {
    this.forwarder.done(this, err);
  }
}

export class Forwarder {
  constructor(private readonly options: ForwarderOptions) {}

  forward(
    req: ClientRequest,
    res: ClientResponse,
    client: ClientView,
    match: RouteMatch,
    service: ServiceEntity,
    balancer: Balancer | null,
    upstreamTls: UpstreamTlsSet,
    startedAt: number,
    run: RequestRun | null = null,
  ): void {
    const scheme = upstreamScheme(service.protocol);
    if (scheme === null) {
      this.options.log.warn(
        `service ${service.name ?? service.id}: protocol ${service.protocol} is not proxied over HTTP`,
      );
      if (run) answerThroughPlugins(run, req, res, UNEXPECTED, () => this.ownHeaders(startedAt, null));
      else this.answer(req, res, startedAt, UNEXPECTED, null);
      return;
    }
    const target = run ? run.request.upstreamTarget : match.upstreamPath + client.search;
    const p = new ProxiedRequest(
      this,
      req,
      res,
      client,
      match,
      service,
      balancer,
      upstreamTls,
      startedAt,
      target,
      client.search,
    );
    const { policy } = this.options;
    if (policy.requestId) p.requestId = newRequestId();
    p.upstreamHeaders = upstreamRequestHeaders(req, client, {
      host: '',
      path: client.path,
      via: policy.via ? this.options.via : null,
      requestId: p.requestId,
    });
    if (run) {
      this.applyPluginChanges(p, run);
      p.hostIndex = p.upstreamHeaders.indexOf('host') + 1;
      this.attempt(p);
      return;
    }
    p.hostIndex = p.upstreamHeaders.indexOf('host') + 1;
    if (hasBody(req)) {
      p.body = {
        [Symbol.asyncIterator]: () => {
          p.bodyStarted = true;
          // Not destroyed when an attempt fails mid-body: the client still gets Kong's answer.
          return req.iterator({ destroyOnReturn: false });
        },
      };
    }
    this.attempt(p);
  }

  /** What the plugins changed in the request: method, headers, a buffered or replaced body, a body limit. */
  private applyPluginChanges(p: ProxiedRequest, run: RequestRun): void {
    const view = run.request;
    p.run = run;
    p.method = view.upstreamMethod;
    if (view.headerChanges) {
      const changed = applyHeaderChanges(p.upstreamHeaders, view.headerChanges);
      p.upstreamHeaders = changed.list;
      p.hostOverride = changed.host;
    }
    if (view.body !== null) {
      // A buffered or replaced body goes with its own length (and can be resent on a retry).
      const body = view.body;
      const headers = p.upstreamHeaders;
      const kept: string[] = [];
      for (let i = 0; i < headers.length; i += 2) {
        const lower = headers[i]!.toLowerCase();
        if (lower !== 'content-length' && lower !== 'transfer-encoding')
          kept.push(headers[i]!, headers[i + 1]!);
      }
      if (body.length > 0 || hasBody(p.req)) kept.push('content-length', String(body.length));
      p.upstreamHeaders = kept;
      p.body = body;
      run.requestBodyBytes = body.length;
      return;
    }
    if (!hasBody(p.req)) return;
    const limit = view.bodyLimit;
    const req = p.req;
    p.body = {
      async *[Symbol.asyncIterator]() {
        p.bodyStarted = true;
        for await (const chunk of req.iterator({ destroyOnReturn: false })) {
          run.requestBodyBytes += (chunk as Buffer).length;
          if (limit !== null && run.requestBodyBytes > limit.maxBytes) {
            run.bodyLimitExceeded();
            throw new Error('request body over the limit a plugin set');
          }
          yield chunk as Buffer;
        }
      },
    };
  }

  private attempt(p: ProxiedRequest): void {
    const { service } = p;
    const scheme = upstreamScheme(service.protocol)!;
    const target = chooseTarget(p, scheme);
    if (!target) {
      this.fail(p, p.lastFailure?.answer ?? NO_PEER);
      return;
    }
    const { host, port, hostHeader } = target;
    p.upstreamHeaders[p.hostIndex] = p.hostOverride ?? hostHeader;
    p.targetHost = host;
    p.targetPort = port;
    const https = scheme === 'https';
    const pool = this.options.pools.get({
      scheme,
      host,
      port,
      connectTimeoutMs: service.connect_timeout ?? SERVICE_DEFAULTS.connect_timeout,
      tls: https ? p.upstreamTls.forService(service) : null,
      servername: https ? serverName(hostHeader) : null,
    });
    p.attempts++;
    p.sentAt = performance.now();
    if (p.firstSentAt === 0) p.firstSentAt = p.sentAt;
    if (p.run) {
      p.run.upstreamSentAt = p.sentAt;
      p.run.upstreamAddress = `${host}:${port}`;
    }
    pool.send(
      {
        method: p.method,
        path: p.upstreamTarget,
        headers: p.upstreamHeaders,
        body: p.body,
        readTimeoutMs: service.read_timeout ?? SERVICE_DEFAULTS.read_timeout,
        writeTimeoutMs: service.write_timeout ?? SERVICE_DEFAULTS.write_timeout,
      },
      p,
    );
  }

  /** The upstream's response head: Kong's headers added, written to the client; the body follows. */
  head(p: ProxiedRequest, statusCode: number, rawHeaders: string[]): ResponseSink {
    const { policy } = this.options;
    p.responded = true;
    p.status = statusCode;
    const list = endToEndResponseHeaders(rawHeaders);
    if (policy.via) appendVia(list, this.options.via);
    if (policy.upstreamLatency) {
      list.push('x-kong-upstream-latency', String(Math.round(performance.now() - p.sentAt)));
    }
    if (policy.proxyLatency) {
      list.push('x-kong-proxy-latency', String(Math.round(p.firstSentAt - p.startedAt)));
    }
    if (p.requestId !== null) list.push('x-kong-request-id', p.requestId);
    const run = p.run;
    if (run) {
      const headers = headerObject(list);
      run.upstreamHeadAt = performance.now();
      const own = () => this.ownHeaders(p.startedAt, p.requestId);
      // Only an asynchronous header_filter or a body_filter needs a writable in between; otherwise the
      // filtered head is written at once and the body streams to the client as on the plugin-free path.
      const filtering = run.filtersBody ? null : run.headerFilter(statusCode, headers, false);
      if (filtering === null || filtering !== undefined) {
        return new FilteredResponse(run, p.req, p.res, statusCode, headers, own, filtering);
      }
      if (run.failure !== null) {
        // The upstream's body is dropped: Kong's 500 instead.
        answerThroughPlugins(run, p.req, p.res, UNEXPECTED, own);
        return new Writable({ write: (_chunk, _encoding, done) => done() });
      }
      p.res.writeHead(run.response.status, run.response.headers);
      return p.res;
    }
    p.res.writeHead(statusCode, list);
    return p.res;
  }

  done(p: ProxiedRequest, err: (Error & { code?: string }) | null): void {
    if (err === null) {
      p.pick?.done({ kind: 'response', status: p.status });
      return;
    }
    if (p.responded) {
      // The head went out: undici has destroyed the client response; the client sees a cut body.
      const failure = classifyFailure(err);
      p.pick?.done(
        failure.outcome?.kind === 'timeout' ? failure.outcome : { kind: 'response', status: p.status },
      );
      return;
    }
    if (p.run?.bodyLimitHit) {
      // The client's body passed a plugin's limit: its answer, then the connection closes (the rest of the
      // body is not read).
      p.pick?.done({ kind: 'tcp_failure' });
      p.res.shouldKeepAlive = false;
      answerStopped(p.run, p.req, p.res, () => this.ownHeaders(p.startedAt, p.requestId));
      return;
    }
    if (p.res.destroyed || p.req.socket.destroyed) {
      // The client went away (or its body broke off): nobody to answer. (A request read to its end is
      // destroyed too, so the socket tells.)
      p.pick?.done({ kind: 'tcp_failure' });
      return;
    }
    const failure = classifyFailure(err);
    // Every attempt ends its pick (least-connections counts it in flight until then), health word or not.
    p.pick?.done(failure.outcome ?? NO_HEALTH_WORD);
    p.lastFailure = failure;
    const line = upstreamFailureLine(err, p.service, p.targetHost, p.targetPort);
    if (line !== null) this.options.log.error(line);
    const retries = p.service.retries ?? SERVICE_DEFAULTS.retries;
    const resendable = !p.bodyStarted && (failure.notSent || !NON_IDEMPOTENT.has(p.method));
    // Name resolution fails alike on every target; a bad request stays bad; a destroyed pool means shutdown;
    // TLS settings that can't be loaded fail on every target too.
    const final =
      failure.answer === NAME_RESOLUTION_FAILED ||
      failure.answer === UNEXPECTED ||
      err.code === 'UPSTREAM_POOL_DESTROYED' ||
      err.code === 'UPSTREAM_TLS_CONTEXT';
    if (!final && resendable && p.attempts <= retries) {
      this.attempt(p);
      return;
    }
    this.fail(p, failure.answer);
  }

  private fail(p: ProxiedRequest, answer: KongAnswer): void {
    if (p.run && !p.res.headersSent) {
      answerThroughPlugins(p.run, p.req, p.res, answer, () => this.ownHeaders(p.startedAt, p.requestId));
      return;
    }
    this.answer(p.req, p.res, p.startedAt, answer, p.requestId);
  }

  /** One of the proxy's own answers, with Server / X-Kong-Response-Latency / X-Kong-Request-Id as configured. */
  answer(
    req: ClientRequest,
    res: ClientResponse,
    startedAt: number,
    answer: KongAnswer,
    requestId: string | null,
  ): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendAnswer(req, res, answer, this.ownHeaders(startedAt, requestId));
  }

  /** Headers on answers the proxy gives itself. */
  ownHeaders(startedAt: number, requestId: string | null): Record<string, string> {
    const { policy } = this.options;
    const extra: Record<string, string> = {};
    if (policy.server) extra.server = this.options.server;
    if (policy.responseLatency) {
      extra['x-kong-response-latency'] = String(Math.round(performance.now() - startedAt));
    }
    if (policy.requestId) extra['x-kong-request-id'] = requestId ?? newRequestId();
    return extra;
  }
}

/** The state of a request across attempts that choosing a target needs. */
export interface TargetChoice extends BalancerRequest {
  readonly service: ServiceEntity;
  readonly balancer: Balancer | null;
  readonly match: RouteMatch;
  pick: BalancerPick | null;
  tried: Set<string> | null;
}

/**
 * The next target of a request: the balancer's pick (skipping targets already tried, then any healthy one
 * again), or the service's host:port when its host is not an upstream. Null when no target is healthy.
 */
export function chooseTarget(
  choice: TargetChoice,
  scheme: 'http' | 'https',
): { host: string; port: number; hostHeader: string } | null {
  const { balancer, service } = choice;
  let host: string;
  let port: number;
  if (balancer) {
    const tried = choice.tried;
    let pick = balancer.pick(choice, tried ?? undefined);
    // Every healthy target was tried: go round again, as Kong's retries do with few targets.
    if (!pick && tried !== null) pick = balancer.pick(choice);
    if (!pick) return null;
    choice.pick = pick;
    (choice.tried ??= new Set()).add(pick.target.key);
    host = pick.target.host;
    port = pick.target.port;
  } else {
    host = service.host;
    port = service.port;
  }
  const hostHeader =
    choice.match.upstreamHost ?? balancer?.upstream.host_header ?? hostWithPort(host, port, scheme);
  return { host, port, hostHeader };
}

/** HTTP/1 requests carry a body only with Content-Length or Transfer-Encoding; HTTP/2 ones unless GET/HEAD. */
export function hasBody(req: Pick<ClientRequest, 'headers' | 'httpVersionMajor' | 'method'>): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  if (req.headers['transfer-encoding'] !== undefined) return true;
  return req.httpVersionMajor === 2 && req.method !== 'GET' && req.method !== 'HEAD';
}

/** The scheme spoken to a service, or null for protocols this path does not proxy (grpc, tcp, …). */
export function upstreamScheme(protocol: ServiceEntity['protocol']): 'http' | 'https' | null {
  if (protocol === 'http' || protocol === 'ws') return 'http';
  if (protocol === 'https' || protocol === 'wss') return 'https';
  return null;
}

/** The Host header for a target: the port only when it is not the scheme's default (as Kong). */
export function hostWithPort(host: string, port: number, scheme: 'http' | 'https'): string {
  const name = host.includes(':') ? `[${host}]` : host;
  return (scheme === 'http' && port === 80) || (scheme === 'https' && port === 443)
    ? name
    : `${name}:${port}`;
}

/** The TLS server name for a Host header value, or null for IP addresses (SNI carries names only). */
export function serverName(hostHeader: string): string | null {
  const name = hostHeader.startsWith('[') ? hostHeader : hostHeader.replace(/:\d+$/, '');
  return isIP(name) === 0 && !name.startsWith('[') ? name : null;
}
