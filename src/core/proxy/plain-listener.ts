// The proxy listeners' own HTTP/1.1 server (plain, and TLS after the handshake): connections are parsed with
// Node's llhttp binding and requests are served without Node's per-request objects (IncomingMessage,
// ServerResponse), which cost more than the rest of the proxy path together. PlainRequest and PlainResponse are
// what the proxy and the plugins use of those objects. A request this server leaves to Node (an upgrade,
// `Expect`, HTTP/1.0) hands over its connection, from that request on, to Node's http(s) server bound to the
// same listener. See docs/proxy.md (listeners).
import { STATUS_CODES, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { HTTPParser, METHODS, STOP_AFTER_HEAD, closeParserLater, type Llhttp } from '../http/llhttp.js';
import type { ClientResponse } from './types.js';

/** Serves one request (the same handler Node's server has for the requests it gets). */
export type PlainHandler = (req: PlainRequest, res: PlainResponse) => void;

export interface PlainListenerOptions {
  /** How long an idle keep-alive connection stays open (Node's keepAliveTimeout). */
  keepAliveTimeoutMs: number;
  /** The most time from a request's first byte to the end of its head (Node's headersTimeout). */
  headersTimeoutMs: number;
  /** The most time between two reads of a request body (nginx's client_body_timeout). */
  bodyTimeoutMs: number;
}

export const PLAIN_LISTENER_DEFAULTS: PlainListenerOptions = {
  keepAliveTimeoutMs: 60_000,
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 60_000,
};

/** Request body bytes held for a slow consumer before the connection stops reading. */
const BODY_HIGH_WATER = 64 * 1024;

/** Headers whose repeats Node's IncomingMessage drops (the first one counts). */
const SINGLE_VALUED = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

/** A header list as IncomingMessage.headers shows it (lowercase names, its rules for repeated names). */
export function incomingHeaders(raw: readonly string[]): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const seen = out[name];
    if (seen === undefined) out[name] = name === 'set-cookie' ? [value] : value;
    else if (name === 'set-cookie') (seen as string[]).push(value);
    else if (SINGLE_VALUED.has(name)) continue;
    else out[name] = `${seen as string}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  return out as IncomingHttpHeaders;
}

/** The Date header's value, made at most once a second. */
let dateSecond = -1;
let dateValue = '';
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

/** A request on the plain listener: the part of IncomingMessage the proxy's plugin-free path reads. */
export class PlainRequest implements AsyncIterableIterator<Buffer> {
  readonly httpVersionMajor = 1;
  readonly headers: IncomingHttpHeaders;
  private chunks: Buffer[] = [];
  private queued = 0;
  private complete = false;
  private failure: Error | null = null;
  private discarding = false;
  private waiting: { resolve(r: IteratorResult<Buffer>): void; reject(err: Error): void } | null = null;

  constructor(
    private readonly connection: PlainConnection,
    readonly method: string,
    readonly url: string,
    readonly rawHeaders: string[],
    readonly socket: Socket,
  ) {
    this.headers = incomingHeaders(rawHeaders);
  }

  /** Whether body bytes wait for a consumer beyond the high-water mark (the connection stops reading). */
  get full(): boolean {
    return this.queued >= BODY_HIGH_WATER;
  }

  /** As IncomingMessage.resume() with nobody reading: the body is read and dropped. */
  resume(): this {
    this.discard();
    return this;
  }

  /** The body, chunk by chunk (once); returning early lets the rest go. */
  iterator(_options?: { destroyOnReturn?: boolean }): AsyncIterableIterator<Buffer> {
    return this;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Buffer> {
    return this;
  }

  next(): Promise<IteratorResult<Buffer>> {
    if (this.chunks.length > 0) {
      const chunk = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      const wasFull = this.full;
      this.chunks = [];
      this.queued = 0;
      if (wasFull) this.connection.updateReading();
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.complete || this.discarding) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<Buffer>> {
    this.discard();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** A body chunk from the parser. */
  push(chunk: Buffer): void {
    if (this.discarding) return;
    const waiting = this.waiting;
    if (waiting !== null) {
      this.waiting = null;
      waiting.resolve({ value: chunk, done: false });
      return;
    }
    this.chunks.push(chunk);
    this.queued += chunk.length;
    if (this.full) this.connection.updateReading();
  }

  /** The body is complete. */
  end(): void {
    this.complete = true;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.resolve({ value: undefined, done: true });
  }

  /** The body broke off (the client went away, or sent no data for too long). */
  abort(err: Error): void {
    if (this.complete) return;
    this.failure = err;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.reject(err);
  }

  /** The rest of the body is read and dropped. */
  discard(): void {
    if (this.discarding) return;
    this.discarding = true;
    const wasFull = this.full;
    this.chunks = [];
    this.queued = 0;
    if (wasFull) this.connection.updateReading();
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.resolve({ value: undefined, done: true });
  }
}

/** The response to a PlainRequest: the part of ServerResponse the proxy and the plugins write. */
export class PlainResponse implements ClientResponse {
  headersSent = false;
  statusCode = 200;
  private head: string | null = null;
  private chunked = false;
  private bodyless: boolean;
  private ended = false;
  private aborted = false;
  private closeListeners: (() => void)[] | null = null;
  private closeEmitted = false;
  private drainListener: (() => void) | null = null;

  constructor(
    private readonly connection: PlainConnection,
    readonly socket: Socket,
    /** Whether the connection stays open after this response (the client's wish, unless the server closes). */
    public shouldKeepAlive: boolean,
    method: string,
  ) {
    this.bodyless = method === 'HEAD';
  }

  get destroyed(): boolean {
    return this.aborted || this.socket.destroyed;
  }

  /** The head, written with the first body bytes (or at end). Names and values are the proxy's own or llhttp's. */
  writeHead(status: number, headers: OutgoingHttpHeaders | readonly string[]): this {
    if (this.headersSent) throw new Error('the response head was already written');
    this.headersSent = true;
    this.statusCode = status;
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
    let length = false;
    let date = false;
    const add = (name: string, value: string | number): void => {
      head += `${name}: ${value}\r\n`;
      if (name.length === 14 && name.toLowerCase() === 'content-length') length = true;
      else if (name.length === 4 && name.toLowerCase() === 'date') date = true;
    };
    if (Array.isArray(headers)) {
      const list = headers as readonly string[];
      for (let i = 0; i < list.length; i += 2) add(list[i]!, list[i + 1]!);
    } else {
      const object = headers as OutgoingHttpHeaders;
      for (const name in object) {
        const value = object[name];
        if (value === undefined) continue;
        if (Array.isArray(value)) for (const v of value) add(name, v);
        else add(name, value);
      }
    }
    if (status === 204 || status === 304 || status < 200) this.bodyless = true;
    if (!this.bodyless && !length) {
      this.chunked = true;
      head += 'Transfer-Encoding: chunked\r\n';
    }
    if (!date) head += `Date: ${httpDate()}\r\n`;
    if (this.connection.closing) this.shouldKeepAlive = false;
    head += this.shouldKeepAlive
      ? 'Connection: keep-alive\r\nKeep-Alive: timeout=60\r\n\r\n'
      : 'Connection: close\r\n\r\n';
    this.head = head;
    return this;
  }

  write(chunk: Buffer | string, encoding?: BufferEncoding): boolean {
    if (this.ended || this.destroyed) return false;
    if (this.head === null && !this.headersSent) this.writeHead(200, {});
    return this.send(chunk, encoding, false);
  }

  end(chunk?: Buffer | string, encoding?: BufferEncoding): this {
    if (this.ended) return this;
    if (!this.headersSent) this.writeHead(200, {});
    this.ended = true;
    if (!this.destroyed) this.send(chunk, encoding, true);
    this.connection.responseEnded(this);
    // As ServerResponse: 'close' follows the end (after the current turn), for the log phase and the client.
    if (this.closeListeners !== null) process.nextTick(() => this.emitClose());
    return this;
  }

  destroy(): this {
    if (this.aborted) return this;
    this.aborted = true;
    this.socket.destroy();
    return this;
  }

  /** 'close' (once the response is over, ended or cut) and 'drain' (one waiter at a time) are the events. */
  on(event: string, listener: () => void): this {
    if (event === 'close') (this.closeListeners ??= []).push(listener);
    else if (event === 'drain') this.drainListener = listener;
    return this;
  }

  once(event: string, listener: () => void): this {
    return this.on(event, listener);
  }

  /** The socket drained: a writer waiting for it goes on. */
  drained(): void {
    const listener = this.drainListener;
    this.drainListener = null;
    listener?.();
  }

  /** The connection closed before the response ended. */
  closed(): void {
    if (this.ended) return;
    this.aborted = true;
    this.emitClose();
  }

  private emitClose(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    const listeners = this.closeListeners;
    this.closeListeners = null;
    if (listeners !== null) for (const listener of listeners) listener();
  }

  /** Writes a piece of the body (with the head when it is still unwritten) in one socket write. */
  private send(
    chunk: Buffer | string | undefined,
    encoding: BufferEncoding | undefined,
    last: boolean,
  ): boolean {
    const head = this.head;
    this.head = null;
    const socket = this.socket;
    const data = this.bodyless || chunk === undefined || chunk.length === 0 ? null : chunk;
    const tail = last && this.chunked ? '0\r\n\r\n' : '';
    if (data === null) {
      const text = (head ?? '') + tail;
      return text.length === 0 ? true : socket.write(text, 'latin1');
    }
    if (typeof data === 'string' && (encoding === 'latin1' || encoding === 'binary')) {
      // The common case (see the upstream client's flush): head, framing and body as one latin1 string.
      const framed = this.chunked ? `${data.length.toString(16)}\r\n${data}\r\n${tail}` : data;
      return socket.write((head ?? '') + framed, 'latin1');
    }
    const bytes = typeof data === 'string' ? Buffer.from(data, encoding ?? 'utf8') : data;
    const before = (head ?? '') + (this.chunked ? `${bytes.length.toString(16)}\r\n` : '');
    const after = this.chunked ? `\r\n${tail}` : '';
    if (before.length === 0 && after.length === 0) return socket.write(bytes);
    socket.cork();
    if (before.length > 0) socket.write(before, 'latin1');
    let flushed = socket.write(bytes);
    if (after.length > 0) flushed = socket.write(after, 'latin1');
    socket.uncork();
    return flushed;
  }
}

/** Why the parser stopped after a head: the request goes to Node's server, or waits for the response in flight. */
type Stop = 'handoff' | 'defer';

/** A coarse clock, ticking once a second, for the connections' timeouts (no timer work per request). */
interface Sweep {
  tick: number;
  readonly connections: Set<PlainConnection>;
}

class PlainConnection {
  private readonly parser: Llhttp;
  private partialHeaders: string[] = [];
  private partialUrl = '';
  /** The request whose message the parser is in (until its body is complete). */
  private reading: PlainRequest | null = null;
  /** The response being written (until it ends). */
  private responding: PlainResponse | null = null;
  private stop: Stop | null = null;
  /** The head the parser stopped after (re-serialized), then every byte that came after it. */
  private held: Buffer[] = [];
  private stopHead = '';
  private paused = false;
  private dead = false;
  /** The server is closing: the response in flight says `Connection: close`, an idle connection closes. */
  closing = false;
  /** Tick of the last read, or of the end of the last exchange. */
  private since: number;
  /** A request head has started and not completed. */
  private inHead = false;
  /** Tick at which that head started. */
  private headSince = 0;

  constructor(
    readonly socket: Socket,
    private readonly handler: PlainHandler,
    private readonly handOff: (socket: Socket) => void,
    private readonly options: PlainListenerOptions,
    private readonly sweep: Sweep,
  ) {
    this.since = sweep.tick;
    socket.setNoDelay(true);
    const parser = new HTTPParser();
    parser.initialize(HTTPParser.REQUEST, {}, 0, 0);
    parser[HTTPParser.kOnMessageBegin] = () => {
      this.inHead = true;
      this.headSince = this.sweep.tick;
    };
    parser[HTTPParser.kOnHeaders] = (headers: string[], url: string) => {
      for (const value of headers) this.partialHeaders.push(value);
      this.partialUrl += url;
    };
    parser[HTTPParser.kOnHeadersComplete] = (
      major: number,
      minor: number,
      headers: string[] | undefined,
      method: number,
      url: string | undefined,
      _statusCode: number,
      _statusMessage: string,
      upgrade: boolean,
      shouldKeepAlive: boolean,
    ) => this.onHeadersComplete(major, minor, headers, method, url, upgrade, shouldKeepAlive);
    parser[HTTPParser.kOnBody] = (chunk: Buffer) => this.reading?.push(chunk);
    parser[HTTPParser.kOnMessageComplete] = () => this.onMessageComplete();
    this.parser = parser;
    socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.on('error', this.onError);
    socket.on('end', this.onEnd);
    socket.on('close', this.onClose);
    sweep.connections.add(this);
  }

  private readonly onData = (data: Buffer): void => {
    if (this.dead) return;
    if (this.stop !== null) {
      this.held.push(data);
      return;
    }
    this.since = this.sweep.tick;
    const result = this.parser.execute(data);
    if (typeof result !== 'number') {
      this.refuse(result as Error & { code?: string });
      return;
    }
    if (this.stop === null || this.dead) return;
    this.held.push(Buffer.from(this.stopHead, 'latin1'));
    this.stopHead = '';
    if (result < data.length) this.held.push(data.subarray(result));
    if (this.stop === 'handoff') this.giveToNode();
    else this.updateReading();
  };

  private onHeadersComplete(
    major: number,
    minor: number,
    headers: string[] | undefined,
    methodIndex: number,
    url: string | undefined,
    upgrade: boolean,
    shouldKeepAlive: boolean,
  ): number {
    this.inHead = false;
    // The connection closed while this chunk was parsed (a response that ended it, with more behind it).
    if (this.dead) return STOP_AFTER_HEAD;
    const raw = headers ?? this.partialHeaders;
    const target = url ?? this.partialUrl;
    this.partialHeaders = [];
    this.partialUrl = '';
    const method = METHODS[methodIndex] ?? 'GET';
    if (this.responding !== null) return this.stopAfter('defer', method, target, major, minor, raw);
    if (upgrade || major !== 1 || minor !== 1 || method === 'CONNECT') {
      return this.stopAfter('handoff', method, target, major, minor, raw);
    }
    const req = new PlainRequest(this, method, target, raw, this.socket);
    if (req.headers.expect !== undefined) return this.stopAfter('handoff', method, target, major, minor, raw);
    const res = new PlainResponse(this, this.socket, shouldKeepAlive, method);
    this.reading = req;
    this.responding = res;
    try {
      this.handler(req, res);
    } catch {
      // The handler answers its own failures; one that throws anyway (a bug) costs this connection, not the
      // process (an exception out of llhttp's callback would reach the socket's 'data' event).
      this.socket.destroy();
      return STOP_AFTER_HEAD;
    }
    return 0;
  }

  /** Stops the parser after this head, which is kept (re-serialized) with whatever follows it. */
  private stopAfter(
    stop: Stop,
    method: string,
    target: string,
    major: number,
    minor: number,
    raw: readonly string[],
  ): number {
    this.stop = stop;
    let head = `${method} ${target} HTTP/${major}.${minor}\r\n`;
    for (let i = 0; i < raw.length; i += 2) head += `${raw[i]!}: ${raw[i + 1]!}\r\n`;
    this.stopHead = `${head}\r\n`;
    return STOP_AFTER_HEAD;
  }

  private onMessageComplete(): void {
    // llhttp completes a head it was told to stop after: that request is not this connection's any more.
    if (this.stop !== null) return;
    const req = this.reading;
    this.reading = null;
    req?.end();
    if (this.responding === null) this.since = this.sweep.tick;
  }

  /** Called by the response at its end: the next request, a deferred one, or the connection's end. */
  responseEnded(res: PlainResponse): void {
    if (this.responding !== res) return;
    this.responding = null;
    this.since = this.sweep.tick;
    // A body nobody read to its end is read and dropped, as Node's server does: the connection stays usable.
    this.reading?.discard();
    if (!res.shouldKeepAlive || this.closing) {
      this.socket.end();
      this.finish();
      return;
    }
    if (this.stop === 'defer') {
      // A pipelined request waited for this response: parsing starts again at its head.
      const held = this.held;
      this.held = [];
      this.stop = null;
      this.parser.initialize(HTTPParser.REQUEST, {}, 0, 0);
      this.updateReading();
      this.onData(held.length === 1 ? held[0]! : Buffer.concat(held));
    }
  }

  /** Reading stops while a request body waits for its consumer, or while a pipelined request waits. */
  updateReading(): void {
    if (this.dead) return;
    const pause = this.stop === 'defer' || (this.reading !== null && this.reading.full);
    if (pause === this.paused) return;
    this.paused = pause;
    if (pause) this.socket.pause();
    else this.socket.resume();
  }

  /** Node's http server takes the connection, starting with the held request. */
  private giveToNode(): void {
    const held = this.held;
    this.held = [];
    this.finish();
    const { socket } = this;
    socket.removeListener('data', this.onData);
    socket.removeListener('drain', this.onDrain);
    socket.removeListener('error', this.onError);
    socket.removeListener('end', this.onEnd);
    socket.removeListener('close', this.onClose);
    socket.resume();
    socket.unshift(held.length === 1 ? held[0]! : Buffer.concat(held));
    this.handOff(socket);
  }

  /** A request llhttp refused: 400 (431 for an oversized head), as Node's server answers, then close. */
  private refuse(err: Error & { code?: string }): void {
    this.answerAndClose(err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400);
    this.reading?.abort(err);
  }

  /** A bodyless answer of the server's own, then the connection's end (dropped if a response is in flight). */
  private answerAndClose(status: number): void {
    if (this.responding === null && this.socket.writable) {
      this.socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`, 'latin1');
    } else this.socket.destroy();
    this.finish();
  }

  private readonly onDrain = (): void => {
    this.responding?.drained();
  };

  private readonly onError = (): void => {
    // 'close' follows, which ends what is in flight.
  };

  /**
   * The client ended its side: as Node's server (without httpAllowHalfOpen), what is in flight is abandoned and
   * the connection closes.
   */
  private readonly onEnd = (): void => {
    if (this.reading !== null || this.responding !== null) this.socket.destroy();
    else {
      this.socket.end();
      this.finish();
    }
  };

  private readonly onClose = (): void => {
    const req = this.reading;
    const res = this.responding;
    this.reading = null;
    this.responding = null;
    req?.abort(new Error('the client closed the connection'));
    res?.closed();
    this.finish();
  };

  /** Stops tracking the connection (closed, closing, or handed to Node's server). */
  private finish(): void {
    if (this.dead) return;
    this.dead = true;
    this.sweep.connections.delete(this);
    closeParserLater(this.parser);
  }

  /** Once a second: the idle, head and body timeouts (never early, up to a second late). */
  check(tick: number): void {
    const req = this.reading;
    if (this.responding === null && req === null) {
      if (this.inHead) {
        // A head that takes longer than headersTimeout (slowloris): 408, as Node's server answers.
        if ((tick - this.headSince - 1) * 1000 >= this.options.headersTimeoutMs) this.answerAndClose(408);
      } else if (this.closing || (tick - this.since - 1) * 1000 >= this.options.keepAliveTimeoutMs)
        this.close();
      return;
    }
    if (req !== null && !req.full && (tick - this.since - 1) * 1000 >= this.options.bodyTimeoutMs) {
      // No body bytes for client_body_timeout: the request is dropped with its connection (nginx's 408 is only
      // logged, as its client is not listening either); the upstream exchange ends with the body's failure.
      req.abort(new Error('the client sent no body data in time'));
      this.socket.destroy();
    }
  }

  /** Closes an idle connection. */
  close(): void {
    this.socket.destroy();
    this.finish();
  }

  /** Drops the connection whatever it is doing. */
  destroy(): void {
    this.socket.destroy();
  }
}

/**
 * Makes `server` (an http.Server or https.Server, not yet listening) parse its connections itself: `handler`
 * serves the requests, Node's server gets the connections that need it. closeIdleConnections /
 * closeAllConnections / close cover both kinds.
 */
export function servePlainRequests(
  server: Server,
  handler: PlainHandler,
  options: PlainListenerOptions = PLAIN_LISTENER_DEFAULTS,
): void {
  // An https server's HTTP layer gets each connection once its TLS handshake is done.
  const event = server instanceof TlsServer ? 'secureConnection' : 'connection';
  const [nodeConnection] = server.listeners(event) as ((socket: Socket) => void)[];
  if (nodeConnection === undefined) throw new Error(`the server has no ${event} listener`);
  server.removeListener(event, nodeConnection);
  const sweep: Sweep = { tick: 0, connections: new Set() };
  const handOff = (socket: Socket) => nodeConnection.call(server, socket);
  server.on(event, (socket: Socket) => {
    new PlainConnection(socket, handler, handOff, options, sweep);
  });
  const timer = setInterval(() => {
    sweep.tick++;
    for (const connection of sweep.connections) connection.check(sweep.tick);
  }, 1000);
  timer.unref();
  server.once('close', () => clearInterval(timer));

  const closeIdle = server.closeIdleConnections.bind(server);
  server.closeIdleConnections = () => {
    closeIdle();
    for (const connection of sweep.connections) {
      connection.closing = true;
      connection.check(sweep.tick);
    }
  };
  const closeAll = server.closeAllConnections.bind(server);
  server.closeAllConnections = () => {
    closeAll();
    for (const connection of sweep.connections) connection.destroy();
  };
}
