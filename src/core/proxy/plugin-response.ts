// Responses of requests plugins apply to: the head goes through header_filter before it is written, the body
// through body_filter (buffered only then), and the log phase runs once the response is over.
import type { OutgoingHttpHeaders } from 'node:http';
import { Writable } from 'node:stream';
import type { PluginExit, RequestRun } from '../plugins/runner/run.js';
import { UNEXPECTED, answerParts, sendAnswer, type KongAnswer } from './answers.js';
import type { ProxyLog } from './runtime.js';
import type { ClientRequest, ClientResponse } from './types.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/** Runs the log phase once the response is over (finished or cut), when a plugin that applies logs. */
export function logWhenDone(run: RequestRun, req: ClientRequest, res: ClientResponse, log: ProxyLog): void {
  if (!run.logs) return;
  // Kong's response size is nginx's bytes_sent, head included. On HTTP/1 the connection carries one response
  // at a time, so its byte count's growth is this response, whichever path wrote it (streamed straight from
  // the upstream, filtered, or an answer); an HTTP/2 connection is shared, there the body counted on its way is used.
  const socket = req.httpVersionMajor === 1 ? res.socket : null;
  const sentBefore = socket ? socket.bytesWritten : 0;
  // 'close' comes once per response: a plain listener spares once()'s wrapper.
  res.once('close', () => {
    if (socket) run.responseBytes = socket.bytesWritten - sentBefore;
    try {
      run.runLog(res.statusCode)?.catch((err: unknown) => log.error(`plugin log phase: ${String(err)}`));
    } catch (err) {
      log.error(`plugin log phase: ${String(err)}`);
    }
  });
}

/** A plugin's exit as a response: an object body is JSON (Kong's kong.response.exit). */
export function exitParts(
  exit: PluginExit,
  own: Record<string, string>,
): { status: number; headers: OutgoingHttpHeaders; body: Buffer | null } {
  const headers: OutgoingHttpHeaders = { ...own };
  let body: Buffer | null = null;
  if (exit.body !== undefined && exit.body !== null) {
    if (Buffer.isBuffer(exit.body)) body = exit.body;
    else if (typeof exit.body === 'string') body = Buffer.from(exit.body);
    else {
      body = Buffer.from(JSON.stringify(exit.body));
      headers['content-type'] = JSON_TYPE;
    }
  }
  if (exit.headers)
    for (const [name, value] of Object.entries(exit.headers)) headers[name.toLowerCase()] = value;
  headers['content-length'] = body ? body.length : 0;
  return { status: exit.status, headers, body };
}

/**
 * Sends a response the gateway makes itself (a plugin's exit, a failure, Kong's own answers) through the
 * plugins' header_filter and body_filter. A filter that fails turns it into Kong's 500.
 */
export function respondThroughPlugins(
  run: RequestRun,
  req: ClientRequest,
  res: ClientResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  body: Buffer | null,
  own: () => Record<string, string>,
): void {
  // Drain the request body so the keep-alive connection stays usable.
  req.resume();
  const write = async (): Promise<void> => {
    const filtering = run.headerFilter(status, headers, true);
    if (filtering) await filtering;
    if (run.failure !== null) return unexpected(req, res, own);
    let out = body;
    if (run.filtersBody) {
      out = await run.bodyFilter(body ?? Buffer.alloc(0));
      if (run.failure !== null) return unexpected(req, res, own);
      run.response.headers['content-length'] = out.length;
    }
    if (res.headersSent || res.destroyed) return;
    run.responseBytes = out?.length ?? 0;
    res.writeHead(run.response.status, run.response.headers);
    res.end(out ?? undefined);
  };
  write().catch(() => unexpected(req, res, own));
}

/** Answers with one of Kong's own answers through the plugins. */
export function answerThroughPlugins(
  run: RequestRun,
  req: ClientRequest,
  res: ClientResponse,
  answer: KongAnswer,
  own: () => Record<string, string>,
): void {
  const { headers, body } = answerParts(answer, own());
  respondThroughPlugins(run, req, res, answer.status, headers, body, own);
}

/** Answers a plugin's exit, or Kong's 500 when a plugin failed. */
export function answerStopped(
  run: RequestRun,
  req: ClientRequest,
  res: ClientResponse,
  own: () => Record<string, string>,
): void {
  if (run.failure !== null || run.exit === null) {
    answerThroughPlugins(run, req, res, UNEXPECTED, own);
    return;
  }
  const { status, headers, body } = exitParts(run.exit, own());
  respondThroughPlugins(run, req, res, status, headers, body, own);
}

function unexpected(req: ClientRequest, res: ClientResponse, own: () => Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendAnswer(req, res, UNEXPECTED, own());
}

/**
 * The writable undici streams an upstream response body into when plugins apply: the head is written after
 * header_filter handlers ran; with a body_filter the whole body is buffered and filtered first.
 */
export class FilteredResponse extends Writable {
  private pending: Promise<void> | null = null;
  private headWritten = false;
  /** A filter failed: the upstream's response is dropped and Kong's 500 sent instead. */
  private replaced = false;
  private chunks: Buffer[] | null = null;

  constructor(
    private readonly run: RequestRun,
    private readonly req: ClientRequest,
    private readonly res: ClientResponse,
    status: number,
    headers: OutgoingHttpHeaders,
    private readonly own: () => Record<string, string>,
    /** header_filter already under way (a promise), or null to run it here. */
    started: Promise<void> | null = null,
  ) {
    super();
    const filtering = started ?? run.headerFilter(status, headers, false);
    if (filtering) this.pending = filtering.then(() => this.afterHeaderFilter());
    else this.afterHeaderFilter();
    res.once('close', () => {
      if (!this.writableFinished) this.destroy();
    });
  }

  private afterHeaderFilter(): void {
    this.pending = null;
    if (this.run.failure !== null) {
      this.replaced = true;
      unexpected(this.req, this.res, this.own);
      return;
    }
    if (this.run.filtersBody) this.chunks = [];
  }

  private writeHead(): void {
    if (this.headWritten) return;
    this.headWritten = true;
    this.res.writeHead(this.run.response.status, this.run.response.headers);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.pending) {
      this.pending.then(() => this._write(chunk, _encoding, callback), callback);
      return;
    }
    if (this.replaced) return callback();
    if (this.chunks) {
      this.chunks.push(chunk);
      return callback();
    }
    this.writeHead();
    this.run.responseBytes += chunk.length;
    if (this.res.write(chunk)) callback();
    else this.res.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.pending) {
      this.pending.then(() => this._final(callback), callback);
      return;
    }
    if (this.replaced) return callback();
    if (!this.chunks) {
      this.writeHead();
      this.res.end();
      return callback();
    }
    const body = Buffer.concat(this.chunks);
    this.chunks = null;
    this.run.bodyFilter(body).then(
      (out) => {
        if (this.run.failure !== null) {
          unexpected(this.req, this.res, this.own);
          return callback();
        }
        const headers = this.run.response.headers;
        if (out !== body) {
          headers['content-length'] = out.length;
          delete headers['transfer-encoding'];
        }
        this.run.responseBytes = out.length;
        this.writeHead();
        this.res.end(out);
        callback();
      },
      (err: Error) => callback(err),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // The upstream broke off mid-body (or the client went away): the client sees a cut response.
    if (error && !this.res.destroyed) this.res.destroy();
    callback(error);
  }
}
