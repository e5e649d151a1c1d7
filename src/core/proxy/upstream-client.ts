// The HTTP/1.1 client of the proxy: keep-alive connections to one upstream target, responses parsed by Node's own
// llhttp binding (the parser behind http.request), the head and body handed on as they arrive.
//
// Why not undici or http.request: on this path both cost more than the whole rest of the data plane (undici's
// Pool.stream ≈ 28 µs per request here, http.request more); a connection that knows it carries one proxied
// request at a time needs neither a queue nor per-request streams. See docs/proxy.md (performance).
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { HTTPParser, closeParserLater, type Llhttp } from '../http/llhttp.js';

/**
 * Where a response's body goes: Node's ServerResponse, a plugin filter, or the plain listener's response. The
 * first chunk may come as a latin1 string (see flush), the rest as buffers.
 */
export interface ResponseSink {
  readonly destroyed: boolean;
  write(chunk: Buffer | string, encoding?: BufferEncoding): boolean;
  end(chunk?: Buffer | string, encoding?: BufferEncoding): unknown;
  on(event: 'close', listener: () => void): unknown;
  once(event: 'drain', listener: () => void): unknown;
  destroy(error?: Error): unknown;
}

/** What can go wrong talking to an upstream; transport errors keep the system's code (ECONNREFUSED, …). */
export type UpstreamErrorCode =
  /** No TCP (or TLS) connection within connect_timeout. */
  | 'UPSTREAM_CONNECT_TIMEOUT'
  /** Nothing read from the upstream for read_timeout. */
  | 'UPSTREAM_READ_TIMEOUT'
  /** A write to the upstream did not drain within write_timeout. */
  | 'UPSTREAM_WRITE_TIMEOUT'
  /** The connection closed before the response was complete. */
  | 'UPSTREAM_PREMATURE_CLOSE'
  /** The upstream's bytes are not a valid HTTP/1.x response (or its head is over the size limit). */
  | 'UPSTREAM_INVALID_RESPONSE'
  /** The request carries a method, header or path that can't be sent (a control character in it). */
  | 'UPSTREAM_INVALID_REQUEST'
  /** The client went away while its response was streaming. */
  | 'UPSTREAM_CLIENT_GONE'
  /** The pool was closed (configuration swap) before the request left: it may be sent on a new one. */
  | 'UPSTREAM_POOL_CLOSED'
  /** The pool was destroyed (shutdown) while the request was in flight. */
  | 'UPSTREAM_POOL_DESTROYED'
  /** The upstream's certificate was refused (chain, name or depth); the error's cause is Node's. */
  | 'UPSTREAM_TLS_CERTIFICATE'
  /** The service's TLS settings cannot be loaded (its client certificate or key). */
  | 'UPSTREAM_TLS_CONTEXT';

export class UpstreamError extends Error {
  constructor(
    readonly code: UpstreamErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'UpstreamError';
  }
}

/** One request to send. */
export interface UpstreamRequest {
  method: string;
  /** The request target (path and query). */
  path: string;
  /** `[name, value, …]`, Host included, hop-by-hop headers already removed. */
  headers: readonly string[];
  /**
   * The body: a Buffer (sent with the head), an async iterable read only once the connection is up (framed
   * by the Content-Length among the headers, else chunked), or null.
   */
  body: Buffer | AsyncIterable<Buffer> | null;
  /** read_timeout: the most time between two reads from the upstream once the request is sent. */
  readTimeoutMs: number;
  /** write_timeout: the most time a write to the upstream may wait to drain. */
  writeTimeoutMs: number;
  /**
   * The most time the client may take no data while its response waits (nginx's send_timeout, default
   * 60000): a client that stops reading does not hold the upstream connection forever.
   */
  sendTimeoutMs?: number;
}

/** Receives one exchange's response (the proxy's per-request object implements it: no closures per request). */
export interface UpstreamExchange {
  /** The response head, with the raw `[name, value, …]` list as received; returns where the body goes. */
  onResponseHead(statusCode: number, rawHeaders: string[]): ResponseSink;
  /**
   * The exchange is over: null when the response was delivered whole. After a head, an error means the body
   * was cut and its writable destroyed.
   */
  onResponseEnd(err: (Error & { code?: string }) | null): void;
}

/** How https connections to a target are secured; one object serves every connection of its pools. */
export interface UpstreamTlsOptions {
  /** Identifies the trust, the client certificate, verification and depth: pools are kept per key. */
  readonly key: string;
  /** The tls.connect options (the same object each time); throws when the TLS settings cannot be loaded. */
  connectOptions(): Pick<ConnectionOptions, 'secureContext' | 'rejectUnauthorized' | 'checkServerIdentity'>;
}

export interface UpstreamTarget {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  connectTimeoutMs: number;
  /** https: trust, client certificate and verification; null verifies nothing and presents no certificate. */
  tls: UpstreamTlsOptions | null;
  /** https: the TLS server name to send, or null (IP targets). */
  servername: string | null;
}

export interface KeepaliveSettings {
  /** upstream_keepalive_pool_size: idle connections kept per target; 0 closes every connection after use. */
  poolSize: number;
  /** upstream_keepalive_max_requests: requests per connection before it is closed; 0 = unlimited. */
  maxRequests: number;
  /** upstream_keepalive_idle_timeout in seconds: an idle connection is closed after it; 0 = no limit. */
  idleTimeoutSec: number;
}

/** Header values may not carry control characters other than tab (RFC 9110 §5.5); names and methods are tokens. */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const NOT_TOKEN = /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/;
/** A request target: visible ASCII and obs-text only. */
const INVALID_TARGET = /[^\x21-\x7e\x80-\xff]/;
const NO_TIMER = Infinity;
/** nginx's send_timeout default. */
const SEND_TIMEOUT_MS = 60_000;
/** A first body chunk up to this size leaves with the response head in one write. */
const ONE_WRITE_BYTES = 16_384;

/** The connections to one target: opened on demand (no limit, as nginx), up to poolSize kept idle. */
export class UpstreamPool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  /** The TLS session of the last handshake, offered on the next connection (resumption). */
  tlsSession: Buffer | undefined;
  closed = false;

  constructor(
    readonly target: UpstreamTarget,
    readonly settings: KeepaliveSettings,
  ) {}

  /** Sends `request`; the response and the end go to `exchange`. */
  send(request: UpstreamRequest, exchange: UpstreamExchange): void {
    if (this.closed) {
      deferEnd(exchange, new UpstreamError('UPSTREAM_POOL_CLOSED', 'the upstream pool was closed'));
      return;
    }
    let head: string;
    try {
      head = requestHead(request, this.settings.poolSize === 0);
    } catch (err) {
      deferEnd(exchange, err as UpstreamError);
      return;
    }
    let conn = this.idle.pop();
    if (conn === undefined) {
      try {
        conn = this.open();
      } catch (err) {
        deferEnd(exchange, err as UpstreamError);
        return;
      }
    }
    conn.start(request, exchange, head);
  }

  /** Idle connections, for tests and metrics. */
  get idleCount(): number {
    return this.idle.length;
  }

  /** Open connections (idle or busy). */
  get connectionCount(): number {
    return this.all.size;
  }

  /** Stops taking requests; idle connections close now, busy ones once their response is over. */
  close(): void {
    this.closed = true;
    // destroy() takes each out of the idle list.
    for (const conn of this.idle.splice(0)) conn.destroy();
  }

  /** Closes every connection; requests in flight end with UPSTREAM_POOL_DESTROYED. */
  destroy(): void {
    this.close();
    for (const conn of [...this.all])
      conn.fail(new UpstreamError('UPSTREAM_POOL_DESTROYED', 'the upstream pool was destroyed'));
  }

  /** A connection whose response is over and whose request went out whole. */
  release(conn: Connection): void {
    if (this.closed || this.idle.length >= this.settings.poolSize) {
      conn.destroy();
      return;
    }
    this.idle.push(conn);
  }

  forget(conn: Connection): void {
    this.all.delete(conn);
    const at = this.idle.indexOf(conn);
    if (at !== -1) this.idle.splice(at, 1);
  }

  private open(): Connection {
    const conn = new Connection(this);
    this.all.add(conn);
    return conn;
  }
}

/** One connection; carries one exchange at a time. */
class Connection {
  private readonly socket: Socket | TLSSocket;
  private readonly parser: Llhttp;
  private connected = false;
  private dead = false;
  private requests = 0;
  private partialHeaders: string[] = [];

  // The exchange in progress (all reset by start()).
  private exchange: UpstreamExchange | null = null;
  private request: UpstreamRequest | null = null;
  private out: ResponseSink | null = null;
  private pending: Buffer[] = [];
  private keepAlive = false;
  private informational = false;
  private complete = false;
  private bodyWritten = false;
  /** The whole request went out (then the read timeout runs). */
  private sent = false;
  /** performance.now() of the last read, or of the end of sending. */
  private lastRead = 0;
  /** performance.now() since a write waits to drain, or 0. */
  private drainingSince = 0;
  /** performance.now() since the client's response is full (the upstream socket paused), or 0. */
  private clientWaitSince = 0;
  private drained: (() => void) | null = null;
  private idleSince = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = NO_TIMER;
  private readonly connectTimer: NodeJS.Timeout;

  constructor(private readonly pool: UpstreamPool) {
    const { target } = pool;
    if (target.scheme === 'https') {
      const socket = tlsConnect({
        host: target.host,
        port: target.port,
        servername: target.servername ?? undefined,
        ...tlsConnectOptions(target.tls),
        session: pool.tlsSession,
        ALPNProtocols: ['http/1.1'],
      });
      socket.once('secureConnect', () => this.onConnect());
      // Node hands out a session only once the handshake passed verification (and the depth check).
      socket.on('session', (session: Buffer) => (pool.tlsSession = session));
      socket.on('error', (err: Error) => this.fail(this.connected ? err : certificateRefusal(socket, err)));
      this.socket = socket;
    } else {
      this.socket = netConnect({ host: target.host, port: target.port });
      this.socket.once('connect', () => this.onConnect());
      this.socket.on('error', (err: Error) => this.fail(err));
    }
    this.socket.setNoDelay(true);
    this.connectTimer = setTimeout(() => {
      if (!this.connected)
        this.fail(
          new UpstreamError(
            'UPSTREAM_CONNECT_TIMEOUT',
            `connecting to ${target.host}:${target.port} timed out after ${target.connectTimeoutMs} ms`,
          ),
        );
    }, target.connectTimeoutMs);
    this.connectTimer.unref();
    this.socket.on('data', (data: Buffer) => this.onData(data));
    this.socket.on('drain', () => this.onDrain());
    this.socket.on('close', () => this.onClose());

    const parser = new HTTPParser();
    parser.initialize(HTTPParser.RESPONSE, {}, 0, 0);
    parser[HTTPParser.kOnMessageBegin] = () => this.onMessageBegin();
    parser[HTTPParser.kOnHeaders] = (headers: string[]) => this.onHeaders(headers);
    parser[HTTPParser.kOnHeadersComplete] = (
      _major: number,
      _minor: number,
      headers: string[] | undefined,
      _method: number,
      _url: string,
      statusCode: number,
      _statusMessage: string,
      upgrade: boolean,
      shouldKeepAlive: boolean,
    ) => this.onHeadersComplete(headers, statusCode, upgrade, shouldKeepAlive);
    parser[HTTPParser.kOnBody] = (chunk: Buffer) => this.onBody(chunk);
    parser[HTTPParser.kOnMessageComplete] = () => this.onMessageComplete();
    this.parser = parser;
  }

  start(request: UpstreamRequest, exchange: UpstreamExchange, head: string): void {
    this.exchange = exchange;
    this.request = request;
    this.out = null;
    this.keepAlive = false;
    this.informational = false;
    this.complete = false;
    this.bodyWritten = false;
    this.sent = false;
    this.drainingSince = 0;
    this.drained = null;
    this.clientWaitSince = 0;
    this.requests++;
    const { socket } = this;
    const body = request.body;
    if (body === null || Buffer.isBuffer(body)) {
      let flushed: boolean;
      if (body === null || body.length === 0) flushed = socket.write(head, 'latin1');
      else {
        socket.cork();
        socket.write(head, 'latin1');
        flushed = socket.write(body);
        socket.uncork();
      }
      if (flushed) this.requestSent();
      else this.waitDrain(() => this.requestSent());
    } else {
      socket.write(head, 'latin1');
      // The client's body is read only once connected: a request that never reached the upstream can be resent.
      if (this.connected) void this.pump(body, exchange);
    }
    this.armTimer(request.readTimeoutMs);
  }

  /** Fails the exchange in progress (if any) and closes the connection. */
  fail(err: Error & { code?: string }): void {
    const exchange = this.exchange;
    const out = this.out;
    this.exchange = null;
    this.request = null;
    this.out = null;
    this.destroy();
    if (exchange === null) return;
    if (out !== null && !out.destroyed) out.destroy(err);
    exchange.onResponseEnd(err);
  }

  destroy(): void {
    if (this.dead) return;
    this.dead = true;
    this.socket.destroy();
    clearTimeout(this.connectTimer);
    if (this.timer !== null) clearTimeout(this.timer);
    this.pool.forget(this);
    // The parser's native memory is freed only by close(), once no execute() is on the stack (as Node's client).
    closeParserLater(this.parser);
    // A body pump waiting for a drain that can't come now goes on, finds its exchange over and lets the
    // client's body go (its iterator returned) instead of holding it forever.
    this.onDrain();
  }

  private onConnect(): void {
    this.connected = true;
    clearTimeout(this.connectTimer);
    const body = this.request?.body;
    if (body && !Buffer.isBuffer(body)) void this.pump(body, this.exchange!);
  }

  /** Streams a body that is not at hand yet (the client's), with its framing. */
  private async pump(body: AsyncIterable<Buffer>, exchange: UpstreamExchange): Promise<void> {
    const chunked = !hasContentLength(this.request!.headers);
    const { socket } = this;
    try {
      for await (const chunk of body) {
        if (this.exchange !== exchange) return;
        if (chunk.length === 0) continue;
        let flushed: boolean;
        if (chunked) {
          socket.cork();
          socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
          socket.write(chunk);
          flushed = socket.write('\r\n', 'latin1');
          socket.uncork();
        } else flushed = socket.write(chunk);
        if (!flushed) await new Promise<void>((resolve) => this.waitDrain(resolve));
        if (this.exchange !== exchange) return;
      }
      if (this.exchange !== exchange) return;
      if (chunked && !socket.write('0\r\n\r\n', 'latin1')) {
        await new Promise<void>((resolve) => this.waitDrain(resolve));
        if (this.exchange !== exchange) return;
      }
      this.requestSent();
    } catch (err) {
      // The client's body broke off (or a plugin refused it): this exchange can't go on.
      if (this.exchange === exchange) this.fail(err as Error);
    }
  }

  private waitDrain(then: () => void): void {
    this.drainingSince = performance.now();
    this.drained = then;
    this.armTimer(this.request!.writeTimeoutMs);
  }

  private onDrain(): void {
    const then = this.drained;
    if (then === null) return;
    this.drained = null;
    this.drainingSince = 0;
    then();
  }

  private requestSent(): void {
    this.sent = true;
    this.lastRead = performance.now();
  }

  private onData(data: Buffer): void {
    this.lastRead = performance.now();
    const result = this.parser.execute(data);
    if (result instanceof Error) {
      if (this.complete) {
        // The response was whole; what followed it is not HTTP: deliver it, never reuse the connection.
        this.keepAlive = false;
        this.flush();
        this.destroy();
        return;
      }
      this.fail(
        new UpstreamError(
          'UPSTREAM_INVALID_RESPONSE',
          `invalid response from the upstream: ${result.message}`,
        ),
      );
      return;
    }
    this.flush();
  }

  /** A response starts: after the one asked for (even a first byte of one), the connection is not reused. */
  private onMessageBegin(): void {
    if (this.complete) this.keepAlive = false;
    else if (this.exchange === null) this.destroy();
  }

  private onHeaders(headers: string[]): void {
    // Head fields split across reads (or trailers, which are not forwarded).
    if (this.out === null) for (const value of headers) this.partialHeaders.push(value);
  }

  private onHeadersComplete(
    headers: string[] | undefined,
    statusCode: number,
    upgrade: boolean,
    shouldKeepAlive: boolean,
  ): number {
    let raw = headers;
    if (raw === undefined) {
      raw = this.partialHeaders;
      this.partialHeaders = [];
    }
    if (this.complete) {
      // A second response after the one asked for: the connection is not trusted again.
      this.keepAlive = false;
      return 1;
    }
    const exchange = this.exchange;
    if (exchange === null || this.out !== null) {
      // Bytes nobody asked for on this connection.
      this.fail(new UpstreamError('UPSTREAM_INVALID_RESPONSE', 'the upstream sent an unexpected response'));
      return 1;
    }
    if (statusCode < 200 && statusCode !== 101) {
      // 100 Continue, 103 Early Hints: informational, the real response follows.
      this.informational = true;
      return 1;
    }
    if (upgrade || statusCode === 101) {
      this.fail(new UpstreamError('UPSTREAM_INVALID_RESPONSE', 'the upstream switched protocols unasked'));
      return 1;
    }
    this.keepAlive = shouldKeepAlive;
    try {
      this.out = exchange.onResponseHead(statusCode, raw);
    } catch (err) {
      this.fail(err as Error);
      return 1;
    }
    this.out.on('close', this.onOutClose);
    return this.request!.method === 'HEAD' ? 1 : 0;
  }

  private onBody(chunk: Buffer): void {
    if (this.out !== null && !this.complete) this.pending.push(chunk);
  }

  private onMessageComplete(): void {
    if (this.informational) {
      this.informational = false;
      return;
    }
    if (this.out !== null) this.complete = true;
  }

  /** Hands the body read in this turn to the client in one write (with the head when it is still unsent). */
  private flush(): void {
    const out = this.out;
    if (out === null) return;
    const pending = this.pending;
    if (pending.length > 0) {
      const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
      pending.length = 0;
      if (out.destroyed) {
        this.fail(new UpstreamError('UPSTREAM_CLIENT_GONE', 'the client went away'));
        return;
      }
      // The first chunk goes as a latin1 string (the same bytes): Node's response then sends its head and this
      // chunk in one plain write instead of a writev of two buffers.
      const first = !this.bodyWritten && chunk.length <= ONE_WRITE_BYTES;
      this.bodyWritten = true;
      if (this.complete) {
        if (first) out.end(chunk.toString('latin1'), 'latin1');
        else out.end(chunk);
        this.out = null;
      } else if (!(first ? out.write(chunk.toString('latin1'), 'latin1') : out.write(chunk))) {
        this.socket.pause();
        this.clientWaitSince = performance.now();
        this.armTimer(this.request!.sendTimeoutMs ?? SEND_TIMEOUT_MS);
        out.once('drain', this.onOutDrain);
      }
    }
    if (this.complete) {
      if (this.out !== null) {
        this.out.end();
        this.out = null;
      }
      this.finish();
    }
  }

  /**
   * The response is over: the exchange ends (a body still being sent is abandoned, as nginx does), and the
   * connection goes back to the pool when the request went out whole and both sides keep it alive.
   */
  private finish(): void {
    const exchange = this.exchange!;
    this.exchange = null;
    this.request = null;
    this.complete = false;
    // A write still waiting to drain means the request did not go out whole: destroy() below wakes it.
    const { maxRequests } = this.pool.settings;
    if (this.sent && this.keepAlive && (maxRequests === 0 || this.requests < maxRequests)) {
      this.idleSince = performance.now();
      this.pool.release(this);
      if (!this.dead) this.armTimer(this.pool.settings.idleTimeoutSec * 1000);
    } else this.destroy();
    exchange.onResponseEnd(null);
  }

  /** The client took what was written: reading from the upstream (and its read timeout) starts again. */
  private readonly onOutDrain = (): void => {
    this.lastRead = performance.now();
    this.clientWaitSince = 0;
    this.socket.resume();
  };

  /** The client's response closed: before its end, the client went away and the upstream read stops. */
  private readonly onOutClose = (): void => {
    // Responses that ended normally were let go already; a later one on this connection is not destroyed.
    if (this.out !== null && this.out.destroyed) {
      this.fail(new UpstreamError('UPSTREAM_CLIENT_GONE', 'the client went away'));
    }
  };

  private onClose(): void {
    if (this.exchange !== null) {
      // A response delimited by the connection's end completes here.
      const result = this.out !== null ? this.parser.finish() : undefined;
      if (!(result instanceof Error) && this.complete) {
        this.keepAlive = false;
        this.flush();
        return;
      }
      this.fail(
        new UpstreamError(
          'UPSTREAM_PREMATURE_CLOSE',
          this.out === null
            ? 'the upstream closed the connection before responding'
            : 'the upstream closed the connection before the end of the response',
        ),
      );
      return;
    }
    this.destroy();
  }

  /** Makes sure the timer fires no later than `ms` from now (0 = no limit). */
  private armTimer(ms: number): void {
    if (ms <= 0 || this.dead) return;
    const due = performance.now() + ms;
    if (this.timer !== null && this.timerDue <= due) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => this.onTimer(), ms);
    this.timer.unref();
  }

  /** One timer per connection, re-armed only when it fires: no timer work per request in steady state. */
  private onTimer(): void {
    this.timer = null;
    this.timerDue = NO_TIMER;
    if (this.dead) return;
    const now = performance.now();
    const request = this.request;
    if (request === null) {
      const limit = this.pool.settings.idleTimeoutSec * 1000;
      if (limit <= 0) return;
      if (now - this.idleSince >= limit) this.destroy();
      else this.armTimer(limit - (now - this.idleSince));
      return;
    }
    if (this.drainingSince !== 0) {
      const waited = now - this.drainingSince;
      if (waited >= request.writeTimeoutMs) {
        this.fail(
          new UpstreamError(
            'UPSTREAM_WRITE_TIMEOUT',
            `writing to the upstream timed out after ${request.writeTimeoutMs} ms`,
          ),
        );
        return;
      }
      this.armTimer(request.writeTimeoutMs - waited);
    }
    if (this.sent || this.out !== null) {
      if (this.clientWaitSince !== 0) {
        // Paused for a slow client: the proxy is not reading, so the upstream is not late; the client may be.
        const sendTimeout = request.sendTimeoutMs ?? SEND_TIMEOUT_MS;
        const waited = now - this.clientWaitSince;
        if (waited >= sendTimeout) {
          this.fail(
            new UpstreamError('UPSTREAM_CLIENT_GONE', `the client took no data for ${sendTimeout} ms`),
          );
          return;
        }
        this.armTimer(Math.min(request.readTimeoutMs, sendTimeout - waited));
        return;
      }
      const quiet = now - this.lastRead;
      if (quiet >= request.readTimeoutMs) {
        this.fail(
          new UpstreamError(
            'UPSTREAM_READ_TIMEOUT',
            `reading from the upstream timed out after ${request.readTimeoutMs} ms`,
          ),
        );
        return;
      }
      this.armTimer(request.readTimeoutMs - quiet);
      return;
    }
    // Still sending (waiting for the client's body): check again later.
    this.armTimer(request.readTimeoutMs);
  }
}

/** The request line and header block; throws when a value can't be sent as it is. */
export function requestHead(request: UpstreamRequest, closeAfter: boolean): string {
  const { method, path, headers, body } = request;
  // A plugin may set the method: one with a space or CR/LF in it would rewrite the request line.
  if (NOT_TOKEN.test(method) || method.length === 0) {
    throw new UpstreamError('UPSTREAM_INVALID_REQUEST', `invalid request method ${JSON.stringify(method)}`);
  }
  if (INVALID_TARGET.test(path) || path.length === 0) {
    throw new UpstreamError('UPSTREAM_INVALID_REQUEST', `invalid request target ${JSON.stringify(path)}`);
  }
  let head = `${method} ${path} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (NOT_TOKEN.test(name) || name.length === 0 || INVALID_VALUE.test(value)) {
      throw new UpstreamError('UPSTREAM_INVALID_REQUEST', `invalid request header ${JSON.stringify(name)}`);
    }
    head += `${name}: ${value}\r\n`;
  }
  if (body !== null && !Buffer.isBuffer(body) && !hasContentLength(headers)) {
    head += 'transfer-encoding: chunked\r\n';
  }
  // As Kong's `proxy_set_header Connection keep-alive` (or close when upstream keep-alive is off).
  return head + (closeAfter ? 'connection: close\r\n\r\n' : 'connection: keep-alive\r\n\r\n');
}

function hasContentLength(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') return true;
  }
  return false;
}

const NO_TLS: ReturnType<UpstreamTlsOptions['connectOptions']> = { rejectUnauthorized: false };

/** The TLS options of a connection; throws UPSTREAM_TLS_CONTEXT when the settings cannot be loaded. */
export function tlsConnectOptions(
  tls: UpstreamTlsOptions | null,
): ReturnType<UpstreamTlsOptions['connectOptions']> {
  if (tls === null) return NO_TLS;
  try {
    return tls.connectOptions();
  } catch (err) {
    const message = `the TLS settings cannot be used: ${(err as Error).message}`;
    throw new UpstreamError('UPSTREAM_TLS_CONTEXT', message, { cause: err });
  }
}

/**
 * An error of a TLS connection before its handshake completed, as the proxy reports it: a certificate Node
 * refused (its chain, its name, or the depth check) becomes UPSTREAM_TLS_CERTIFICATE, with Node's error as its
 * cause; anything else is kept.
 */
export function certificateRefusal(
  socket: TLSSocket,
  err: Error & { code?: string },
): Error & { code?: string } {
  // Node sets authorizationError before it destroys a socket whose certificate it refused.
  if (socket.authorized || !socket.authorizationError) return err;
  return new UpstreamError(
    'UPSTREAM_TLS_CERTIFICATE',
    `upstream SSL certificate verify error: ${err.message} (${err.code ?? String(socket.authorizationError)})`,
    { cause: err },
  );
}

function deferEnd(exchange: UpstreamExchange, err: UpstreamError): void {
  process.nextTick(() => exchange.onResponseEnd(err));
}
