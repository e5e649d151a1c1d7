// The proxy's HTTP/1.1 upstream client driven directly against small servers on 127.0.0.1 that write crafted
// bytes: keep-alive and pool limits, response framing, timeouts, streamed request bodies, bad input on both
// sides, pool close/destroy, TLS, and backpressure from a slow consumer.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import {
  UpstreamPool,
  type KeepaliveSettings,
  type UpstreamExchange,
  type UpstreamRequest,
  type UpstreamTarget,
} from '../../../src/core/proxy/upstream-client.js';
import { UpstreamTls } from '../../../src/core/proxy/upstream-tls.js';
import { caAndLeafPem, type CaAndLeafPem } from '../../helpers/openssl-pki.js';
import { freePort, makeTempDir } from '../../helpers/tmp.js';
import { silentListener } from '../../helpers/silent-listener.js';
import { waitUntil } from '../../helpers/wait.js';

type EndError = (Error & { code?: string }) | null;

/** One request as the server read it off the wire. */
interface Received {
  method: string;
  path: string;
  /** The request line and header block, as sent. */
  head: string;
  headers: [string, string][];
  /** The body bytes as sent (chunked framing included). */
  rawBody: Buffer;
  /** The body with any chunked framing removed. */
  body: Buffer;
}

/** One connection the server accepted. */
interface Peer {
  socket: Socket | TLSSocket;
  requests: Received[];
  closed: boolean;
}

const headerOf = (headers: readonly (readonly [string, string])[], name: string): string | undefined =>
  headers.find(([n]) => n.toLowerCase() === name)?.[1];

/** Parses one whole request at the start of `buf`, or null when more bytes are needed. */
function takeRequest(buf: Buffer): { request: Received; rest: Buffer } | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end === -1) return null;
  const head = buf.subarray(0, end + 4).toString('latin1');
  const [line, ...fields] = head.slice(0, -4).split('\r\n');
  const [method, path] = line!.split(' ');
  const headers = fields.map((f): [string, string] => {
    const colon = f.indexOf(':');
    return [f.slice(0, colon), f.slice(colon + 1).trim()];
  });
  const bodyStart = end + 4;
  const length = headerOf(headers, 'content-length');
  if (headerOf(headers, 'transfer-encoding') === 'chunked') {
    const parts: Buffer[] = [];
    let at = bodyStart;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at);
      if (lineEnd === -1) return null;
      const size = parseInt(buf.subarray(at, lineEnd).toString('latin1'), 16);
      if (size === 0) {
        if (buf.length < lineEnd + 4) return null;
        const request = {
          method: method!,
          path: path!,
          head,
          headers,
          rawBody: buf.subarray(bodyStart, lineEnd + 4),
        };
        return { request: { ...request, body: Buffer.concat(parts) }, rest: buf.subarray(lineEnd + 4) };
      }
      if (buf.length < lineEnd + 2 + size + 2) return null;
      parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  const size = length === undefined ? 0 : Number(length);
  if (buf.length < bodyStart + size) return null;
  const body = buf.subarray(bodyStart, bodyStart + size);
  return {
    request: { method: method!, path: path!, head, headers, rawBody: body, body },
    rest: buf.subarray(bodyStart + size),
  };
}

interface ServerOptions {
  /** Serve TLS with this certificate. */
  tls?: { cert: string; key: string };
  /** Never read from the connections (pauseOnConnect). */
  noRead?: boolean;
}

/** A server that parses requests and lets each test answer with whatever bytes it likes. */
class RawServer {
  readonly peers: Peer[] = [];
  readonly server: Server;
  port = 0;

  constructor(
    private readonly onRequest: (request: Received, peer: Peer) => void,
    options: ServerOptions,
  ) {
    this.server = options.tls
      ? createTlsServer({ ...options.tls }, (socket) => this.accept(socket, true))
      : createServer({ pauseOnConnect: options.noRead === true }, (socket) =>
          this.accept(socket, options.noRead !== true),
        );
  }

  /** Tracks a connection and feeds its requests to the handler (not at all when `reading` is false). */
  private accept(socket: Socket | TLSSocket, reading: boolean): void {
    const peer: Peer = { socket, requests: [], closed: false };
    this.peers.push(peer);
    socket.on('error', () => undefined);
    socket.on('close', () => (peer.closed = true));
    if (!reading) return;
    let buffered: Buffer = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      for (let taken = takeRequest(buffered); taken !== null; taken = takeRequest(buffered)) {
        buffered = taken.rest;
        peer.requests.push(taken.request);
        this.onRequest(taken.request, peer);
      }
    });
  }

  get closedCount(): number {
    return this.peers.filter((p) => p.closed).length;
  }

  async close(): Promise<void> {
    for (const peer of this.peers) peer.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const servers: RawServer[] = [];
const pools: UpstreamPool[] = [];

async function rawServer(
  onRequest: (request: Received, peer: Peer) => void,
  options: ServerOptions = {},
): Promise<RawServer> {
  const raw = new RawServer(onRequest, options);
  servers.push(raw);
  await new Promise<void>((resolve) => raw.server.listen(0, '127.0.0.1', resolve));
  raw.port = (raw.server.address() as AddressInfo).port;
  return raw;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  204: 'No Content',
  304: 'Not Modified',
  404: 'Not Found',
};

/** A response framed by Content-Length. */
function reply(status: number, body: string | Buffer = '', headers: string[] = []): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? 'X'}\r\ncontent-length: ${bytes.length}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), bytes]);
}

/** Resolves once `data` was handed to the kernel. */
const writeAndWait = (socket: Socket, data: string | Buffer): Promise<void> =>
  new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));

/** Two event-loop turns: the peer's poll phase runs in between, so it reads what was written so far. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));

/** 0x00–0xff, `times` over. */
const allBytes = (times: number) =>
  Buffer.concat(Array.from({ length: times }, () => Buffer.from(Array.from({ length: 256 }, (_, i) => i))));

/** Receives one exchange, as the proxy's per-request object does, and records what it saw. */
class Recorder implements UpstreamExchange {
  heads = 0;
  ends = 0;
  status = 0;
  rawHeaders: string[] = [];
  error: EndError | undefined = undefined;
  out: Writable | null = null;
  outError: Error | null = null;
  readonly chunks: Buffer[] = [];
  readonly sentAt = performance.now();
  headAt = 0;
  endAt = 0;
  private readonly ended: Promise<void>;
  private resolveEnded!: () => void;

  constructor(private readonly makeOut: (rec: Recorder) => Writable = collector) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  onResponseHead(statusCode: number, rawHeaders: string[]): Writable {
    this.heads++;
    this.status = statusCode;
    this.rawHeaders = rawHeaders;
    this.headAt = performance.now();
    this.out = this.makeOut(this);
    // Destroyed with the exchange's error when the body is cut (as the client response is).
    this.out.on('error', (err: Error) => (this.outError = err));
    return this.out;
  }

  onResponseEnd(err: EndError): void {
    this.ends++;
    this.error = err;
    this.endAt = performance.now();
    this.resolveEnded();
  }

  /** The exchange is over and its writable settled: every byte taken, or destroyed (its error emitted). */
  async done(): Promise<this> {
    await this.ended;
    if (this.out === null) return this;
    if (this.error === null) await finished(this.out);
    else await finished(this.out).catch(() => undefined);
    return this;
  }

  header(name: string): string | undefined {
    for (let i = 0; i < this.rawHeaders.length; i += 2) {
      if (this.rawHeaders[i]!.toLowerCase() === name) return this.rawHeaders[i + 1];
    }
    return undefined;
  }

  get body(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function collector(rec: Recorder): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      rec.chunks.push(chunk);
      done();
    },
  });
}

function poolFor(
  port: number,
  settings: Partial<KeepaliveSettings> = {},
  target: Partial<UpstreamTarget> = {},
): UpstreamPool {
  const pool = new UpstreamPool(
    {
      scheme: 'http',
      host: '127.0.0.1',
      port,
      connectTimeoutMs: 2000,
      tls: null,
      servername: null,
      ...target,
    },
    { poolSize: 8, maxRequests: 0, idleTimeoutSec: 0, ...settings },
  );
  pools.push(pool);
  return pool;
}

function request(over: Partial<UpstreamRequest> = {}): UpstreamRequest {
  return {
    method: 'GET',
    path: '/',
    headers: ['host', 'upstream.test'],
    body: null,
    readTimeoutMs: 5000,
    writeTimeoutMs: 5000,
    ...over,
  };
}

function send(pool: UpstreamPool, req: UpstreamRequest, rec = new Recorder()): Recorder {
  pool.send(req, rec);
  return rec;
}

const exchange = (pool: UpstreamPool, req: UpstreamRequest, rec?: Recorder) => send(pool, req, rec).done();

/** An exchange that must have succeeded. */
async function ok(pool: UpstreamPool, req: UpstreamRequest = request()): Promise<Recorder> {
  const rec = await exchange(pool, req);
  assert.equal(rec.error, null, `exchange failed: ${rec.error?.message}`);
  assert.equal(rec.ends, 1);
  return rec;
}

async function* chunksOf(...parts: (string | Buffer)[]): AsyncIterable<Buffer> {
  for (const part of parts) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    yield typeof part === 'string' ? Buffer.from(part) : part;
  }
}

describe('proxy: upstream client', function () {
  this.timeout(10_000);

  afterEach(async () => {
    for (const pool of pools.splice(0)) pool.destroy();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  describe('keep-alive and framing', () => {
    it('sends the request head as given and reuses one connection for sequential requests', async () => {
      const server = await rawServer((req, peer) => peer.socket.write(reply(200, `saw ${req.path}`)));
      const pool = poolFor(server.port);

      const first = await ok(
        pool,
        request({ path: '/a/b?x=1&y=%20', headers: ['host', 'example.test:8080', 'x-one', '1'] }),
      );
      const second = await ok(
        pool,
        request({ method: 'DELETE', path: '/second', headers: ['host', 'other.test'] }),
      );

      assert.equal(first.status, 200);
      assert.equal(first.body.toString(), 'saw /a/b?x=1&y=%20');
      assert.equal(second.body.toString(), 'saw /second');
      assert.equal(server.peers.length, 1, 'one connection for both requests');
      const [a, b] = server.peers[0]!.requests;
      assert.equal(
        a!.head,
        'GET /a/b?x=1&y=%20 HTTP/1.1\r\nhost: example.test:8080\r\nx-one: 1\r\nconnection: keep-alive\r\n\r\n',
      );
      assert.equal(b!.head, 'DELETE /second HTTP/1.1\r\nhost: other.test\r\nconnection: keep-alive\r\n\r\n');
      assert.equal(server.peers[0]!.closed, false);
      assert.equal(pool.idleCount, 1);
      assert.equal(pool.connectionCount, 1);
    });

    it('delivers a chunked binary body whole (trailers dropped) and reuses the connection', async () => {
      const body = allBytes(40);
      const server = await rawServer((req, peer) => {
        if (req.path !== '/chunked') return void peer.socket.write(reply(200, 'next'));
        let wire = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-kind: chunked\r\n\r\n';
        const parts = [body.subarray(0, 1), body.subarray(1, 4000), body.subarray(4000)];
        let bytes = Buffer.from(wire, 'latin1');
        for (const part of parts) {
          bytes = Buffer.concat([
            bytes,
            Buffer.from(`${part.length.toString(16)};ext=1\r\n`),
            part,
            Buffer.from('\r\n'),
          ]);
        }
        wire = '0\r\nx-trailer: dropped\r\n\r\n';
        peer.socket.write(Buffer.concat([bytes, Buffer.from(wire)]));
      });
      const pool = poolFor(server.port);

      const rec = await ok(pool, request({ path: '/chunked' }));
      assert.equal(rec.status, 200);
      assert.equal(rec.header('x-kind'), 'chunked');
      assert.equal(rec.header('x-trailer'), undefined);
      assert.ok(rec.body.equals(body), 'body bytes differ');
      assert.equal(pool.idleCount, 1);

      await ok(pool, request({ path: '/next' }));
      assert.equal(server.peers.length, 1, 'the connection was reused');
    });

    it('delivers a close-delimited body whole and does not reuse its connection', async () => {
      const body = allBytes(4096); // 1 MB: many reads
      const server = await rawServer((req, peer) => {
        if (req.path === '/eof') {
          peer.socket.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nx-kind: eof\r\n\r\n'), body]));
        } else peer.socket.write(reply(200, 'next'));
      });
      const pool = poolFor(server.port);

      const rec = await ok(pool, request({ path: '/eof' }));
      assert.equal(rec.header('x-kind'), 'eof');
      assert.equal(rec.body.length, body.length);
      assert.ok(rec.body.equals(body), 'body bytes differ');
      assert.equal(pool.idleCount, 0);

      await ok(pool, request({ path: '/next' }));
      assert.equal(server.peers.length, 2, 'a new connection for the next request');
    });

    it('does not reuse the connection of an HTTP/1.0 response', async () => {
      const server = await rawServer((_req, peer) =>
        peer.socket.write('HTTP/1.0 200 OK\r\ncontent-length: 3\r\n\r\nold'),
      );
      const pool = poolFor(server.port);
      assert.equal((await ok(pool)).body.toString(), 'old');
      assert.equal(pool.idleCount, 0);
      await waitUntil(() => server.peers[0]!.closed, { message: 'the client to close the connection' });
    });

    it('does not reuse a connection whose response says connection: close', async () => {
      // The server leaves the connection open: only the client's reading of the header closes it.
      const server = await rawServer((_req, peer) =>
        peer.socket.write(reply(200, 'bye', ['connection', 'close'])),
      );
      const pool = poolFor(server.port);
      assert.equal((await ok(pool)).body.toString(), 'bye');
      assert.equal(pool.idleCount, 0);
      await waitUntil(() => server.peers[0]!.closed, { message: 'the client to close the connection' });
      await ok(pool);
      assert.equal(server.peers.length, 2);
    });

    for (const [name, method, status, headers] of [
      ['HEAD with Content-Length', 'HEAD', 200, ['content-length', '1234', 'x-kind', 'head']],
      ['204', 'GET', 204, ['x-kind', 'no-content']],
      ['304 with Content-Length', 'GET', 304, ['content-length', '50', 'x-kind', 'not-modified']],
    ] as const) {
      it(`delivers a ${name} response without a body and reuses the connection`, async () => {
        const server = await rawServer((req, peer) => {
          if (req.path !== '/bodiless') return void peer.socket.write(reply(200, 'next'));
          let head = `HTTP/1.1 ${status} ${REASONS[status]}\r\n`;
          for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
          peer.socket.write(`${head}\r\n`);
        });
        const pool = poolFor(server.port);

        const rec = await ok(pool, request({ method, path: '/bodiless' }));
        assert.equal(rec.status, status);
        assert.equal(rec.body.length, 0);
        assert.deepEqual(rec.rawHeaders, headers);
        assert.equal(pool.idleCount, 1);

        const next = await ok(pool, request({ path: '/next' }));
        assert.equal(next.body.toString(), 'next', 'the next response is framed right');
        assert.equal(server.peers.length, 1, 'the connection was reused');
      });
    }

    it('skips 100 Continue and 103 Early Hints: the exchange sees only the final head', async () => {
      const server = await rawServer((req, peer) => {
        if (req.path !== '/hints') return void peer.socket.write(reply(200, 'next'));
        void (async () => {
          await writeAndWait(peer.socket, 'HTTP/1.1 100 Continue\r\n\r\n');
          await nextTurn();
          await writeAndWait(
            peer.socket,
            'HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n',
          );
          await nextTurn();
          peer.socket.write(reply(200, 'final', ['x-final', 'yes']));
        })();
      });
      const pool = poolFor(server.port);

      const rec = await ok(pool, request({ path: '/hints' }));
      assert.equal(rec.heads, 1);
      assert.equal(rec.status, 200);
      assert.deepEqual(rec.rawHeaders, ['content-length', '5', 'x-final', 'yes']);
      assert.equal(rec.body.toString(), 'final');
      await ok(pool, request({ path: '/next' }));
      assert.equal(server.peers.length, 1);
    });

    it('takes informational heads that arrive in the same read as the final one', async () => {
      const server = await rawServer((_req, peer) =>
        peer.socket.write(
          Buffer.concat([
            Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n'),
            reply(200, 'final'),
          ]),
        ),
      );
      const rec = await ok(poolFor(server.port));
      assert.equal(rec.heads, 1);
      assert.equal(rec.status, 200);
      assert.equal(rec.header('link'), undefined);
      assert.equal(rec.body.toString(), 'final');
    });

    it('delivers a 200 that announces an upgrade (Apache sends Upgrade: h2) as a plain response', async () => {
      const server = await rawServer((_req, peer) =>
        peer.socket.write(reply(200, 'plain', ['upgrade', 'h2,h2c', 'connection', 'Upgrade, Keep-Alive'])),
      );
      const rec = await ok(poolFor(server.port));
      assert.equal(rec.status, 200);
      assert.equal(rec.body.toString(), 'plain');
    });

    it('keeps response heads split across several TCP writes intact', async () => {
      const server = await rawServer((_req, peer) => {
        void (async () => {
          for (const piece of [
            'HTTP/1.1 200 O',
            'K\r\nx-a: 1\r\nx-b: tw',
            'o\r\ncontent-length: 5\r\n\r\nhello',
          ]) {
            await writeAndWait(peer.socket, piece);
            await nextTurn();
          }
        })();
      });
      const rec = await ok(poolFor(server.port));
      assert.equal(rec.status, 200);
      assert.deepEqual(rec.rawHeaders, ['x-a', '1', 'x-b', 'two', 'content-length', '5']);
      assert.equal(rec.body.toString(), 'hello');
    });

    it('keeps a head of more than 32 fields split across writes intact (the parser hands them on in parts)', async () => {
      const fields = Array.from({ length: 45 }, (_, i) => [`x-field-${i}`, `value-${i}`]).flat();
      const head = `HTTP/1.1 200 OK\r\n${fields.map((f, i) => (i % 2 ? `${f}\r\n` : `${f}: `)).join('')}`;
      const wire = `${head}content-length: 2\r\n\r\nok`;
      const cuts = [10, wire.indexOf('x-field-20') + 4, wire.indexOf('x-field-40') + 3, wire.length];
      const server = await rawServer((_req, peer) => {
        void (async () => {
          let from = 0;
          for (const cut of cuts) {
            await writeAndWait(peer.socket, wire.slice(from, cut));
            await nextTurn();
            from = cut;
          }
        })();
      });
      const rec = await ok(poolFor(server.port));
      assert.deepEqual(rec.rawHeaders, [...fields, 'content-length', '2']);
      assert.equal(rec.body.toString(), 'ok');
    });
  });

  describe('broken responses', () => {
    it('fails a response that is not HTTP with UPSTREAM_INVALID_RESPONSE and no head', async () => {
      const server = await rawServer((_req, peer) => peer.socket.write('SSH-2.0-OpenSSH_9.6\r\n'));
      const rec = await exchange(poolFor(server.port), request());
      assert.equal(rec.error?.code, 'UPSTREAM_INVALID_RESPONSE');
      assert.equal(rec.heads, 0);
      assert.equal(rec.ends, 1);
      await waitUntil(() => server.peers[0]!.closed, { message: 'the connection to close' });
    });

    it('fails a response head over the size limit (a 100 KB header) with UPSTREAM_INVALID_RESPONSE', async () => {
      const server = await rawServer((_req, peer) =>
        peer.socket.write(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(100 * 1024)}\r\ncontent-length: 0\r\n\r\n`),
      );
      const rec = await exchange(poolFor(server.port), request());
      assert.equal(rec.error?.code, 'UPSTREAM_INVALID_RESPONSE');
      assert.equal(rec.heads, 0);
      await waitUntil(() => server.peers[0]!.closed, { message: 'the connection to close' });
    });

    it('fails with UPSTREAM_PREMATURE_CLOSE when the upstream closes mid-body, destroying the writable', async () => {
      const server = await rawServer((_req, peer) => {
        peer.socket.end(
          Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n'), allBytes(1)]),
        );
      });
      const pool = poolFor(server.port);
      const rec = await exchange(pool, request());
      assert.equal(rec.heads, 1);
      assert.equal(rec.status, 200);
      assert.equal(rec.error?.code, 'UPSTREAM_PREMATURE_CLOSE');
      assert.equal(rec.out!.destroyed, true);
      assert.equal(rec.outError, rec.error, 'the writable was destroyed with the exchange error');
      assert.equal(rec.ends, 1);
      assert.equal(pool.connectionCount, 0);
    });

    it('fails with UPSTREAM_PREMATURE_CLOSE when a chunked body is cut', async () => {
      const server = await rawServer((_req, peer) => {
        peer.socket.end('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n');
      });
      const rec = await exchange(poolFor(server.port), request());
      assert.equal(rec.heads, 1);
      assert.equal(rec.error?.code, 'UPSTREAM_PREMATURE_CLOSE');
      assert.equal(rec.out!.destroyed, true);
    });

    it('fails with UPSTREAM_PREMATURE_CLOSE and no head when the upstream closes before any byte', async () => {
      const server = await rawServer((_req, peer) => peer.socket.end());
      const pool = poolFor(server.port);
      const rec = await exchange(pool, request());
      assert.equal(rec.error?.code, 'UPSTREAM_PREMATURE_CLOSE');
      assert.equal(rec.heads, 0);
      assert.equal(pool.connectionCount, 0);
    });

    it('fails a 101 nobody asked for with UPSTREAM_INVALID_RESPONSE', async () => {
      const server = await rawServer((_req, peer) =>
        peer.socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n',
        ),
      );
      const rec = await exchange(poolFor(server.port), request());
      assert.equal(rec.error?.code, 'UPSTREAM_INVALID_RESPONSE');
      assert.equal(rec.heads, 0);
      await waitUntil(() => server.peers[0]!.closed, { message: 'the connection to close' });
    });

    it('ends the exchange with the error its onResponseHead throws, closing the connection', async () => {
      const server = await rawServer((_req, peer) => peer.socket.write(reply(200, 'ok')));
      const pool = poolFor(server.port);
      const refused = new Error('the response head was refused');
      const rec = await exchange(
        pool,
        request(),
        new Recorder(() => {
          throw refused;
        }),
      );
      assert.equal(rec.error, refused);
      assert.equal(rec.ends, 1);
      assert.equal(pool.connectionCount, 0);
      await waitUntil(() => server.peers[0]!.closed, { message: 'the connection to close' });
    });

    it('fails without a head when the upstream resets the connection', async () => {
      const server = await rawServer((_req, peer) => peer.socket.resetAndDestroy());
      const rec = await exchange(poolFor(server.port), request());
      // A reset surfaces with the system's code (a clean close is UPSTREAM_PREMATURE_CLOSE, above).
      assert.equal(rec.error?.code, 'ECONNRESET');
      assert.equal(rec.heads, 0);
    });

    for (const [name, unasked] of [
      ['a response', reply(200, 'unasked')],
      ['garbage', Buffer.from('\x00\x01 not http')],
    ] as const) {
      it(`drops an idle connection on which the upstream sends ${name} nobody asked for`, async () => {
        const server = await rawServer((_req, peer) => peer.socket.write(reply(200, 'ok')));
        const pool = poolFor(server.port);
        await ok(pool);
        assert.equal(pool.idleCount, 1);
        server.peers[0]!.socket.write(unasked);
        await waitUntil(() => server.peers[0]!.closed, { message: 'the connection to close' });
        assert.equal(pool.connectionCount, 0);
        const next = await ok(pool);
        assert.equal(next.body.toString(), 'ok');
        assert.equal(server.peers.length, 2);
      });
    }

    it('delivers the declared bytes of a body longer than its Content-Length and drops the connection', async () => {
      // A length counted in characters instead of bytes: 'héllo' is 6 bytes.
      const server = await rawServer((req, peer) => {
        if (req.path === '/long')
          peer.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nh\u00e9llo', 'utf8');
        else peer.socket.write(reply(200, 'next'));
      });
      const pool = poolFor(server.port);
      const rec = await ok(pool, request({ path: '/long' }));
      assert.ok(
        rec.body.equals(Buffer.from('h\u00e9ll')),
        `body ${JSON.stringify(rec.body.toString('latin1'))}`,
      );
      assert.equal(pool.idleCount, 0, 'a connection with surplus bytes was kept');
      await waitUntil(() => server.peers[0]!.closed, { message: 'the connection to close' });
      assert.equal((await ok(pool, request({ path: '/next' }))).body.toString(), 'next');
    });

    it('drops a connection whose whole response is followed by the first bytes of another', async () => {
      const server = await rawServer((req, peer) => {
        if (req.path === '/begun')
          peer.socket.write(Buffer.concat([reply(200, 'asked'), Buffer.from('HTTP/1.1 2')]));
        else peer.socket.write(reply(200, 'next'));
      });
      const pool = poolFor(server.port);
      const rec = await ok(pool, request({ path: '/begun' }));
      assert.equal(rec.body.toString(), 'asked');
      assert.equal(pool.idleCount, 0, 'a connection with a half-read response was kept');
      await waitUntil(() => server.peers[0]!.closed, { message: 'the connection to close' });
      assert.equal((await ok(pool, request({ path: '/next' }))).body.toString(), 'next');
    });

    it('delivers a response followed in the same read by one nobody asked for, and drops the connection', async () => {
      const server = await rawServer((req, peer) => {
        if (req.path === '/two')
          peer.socket.write(Buffer.concat([reply(200, 'asked'), reply(200, 'unasked')]));
        else peer.socket.write(reply(200, 'next'));
      });
      const pool = poolFor(server.port);
      const rec = await ok(pool, request({ path: '/two' }));
      assert.equal(rec.body.toString(), 'asked');
      assert.equal(rec.heads, 1);
      assert.equal(pool.idleCount, 0, 'a connection with surplus bytes was kept');
      await waitUntil(() => server.peers[0]!.closed, { message: 'the connection to close' });
      assert.equal((await ok(pool, request({ path: '/next' }))).body.toString(), 'next');
    });
  });

  describe('timeouts', () => {
    it('fails with UPSTREAM_READ_TIMEOUT when the body stops after the head', async () => {
      const server = await rawServer((_req, peer) =>
        peer.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nab'),
      );
      const rec = await exchange(poolFor(server.port), request({ readTimeoutMs: 300 }));
      assert.equal(rec.heads, 1);
      assert.equal(rec.error?.code, 'UPSTREAM_READ_TIMEOUT');
      assert.equal(rec.out!.destroyed, true);
      const sinceLastRead = rec.endAt - rec.headAt;
      assert.ok(sinceLastRead >= 295, `timed out ${sinceLastRead.toFixed(0)} ms after the last read`);
      const elapsed = rec.endAt - rec.sentAt;
      assert.ok(elapsed >= 300 && elapsed < 800, `timed out after ${elapsed.toFixed(0)} ms`);
      await waitUntil(() => server.peers[0]!.closed, { message: 'the connection to close' });
    });

    it('fails with UPSTREAM_READ_TIMEOUT when no response comes at all', async () => {
      const server = await rawServer(() => undefined);
      const rec = await exchange(poolFor(server.port), request({ readTimeoutMs: 300 }));
      assert.equal(rec.error?.code, 'UPSTREAM_READ_TIMEOUT');
      assert.equal(rec.heads, 0);
      const elapsed = rec.endAt - rec.sentAt;
      assert.ok(elapsed >= 300 && elapsed < 800, `timed out after ${elapsed.toFixed(0)} ms`);
    });

    it('applies the read timeout between reads, not to the whole response', async () => {
      const server = await rawServer((_req, peer) => {
        peer.socket.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n');
        let sent = 0;
        const timer = setInterval(() => {
          if (peer.socket.destroyed) return clearInterval(timer);
          if (++sent <= 5) peer.socket.write(`1\r\n${sent}\r\n`);
          else {
            clearInterval(timer);
            peer.socket.write('0\r\n\r\n');
          }
        }, 200);
      });
      const rec = await ok(poolFor(server.port), request({ readTimeoutMs: 400 }));
      assert.equal(rec.body.toString(), '12345');
      assert.ok(rec.endAt - rec.sentAt >= 1000, 'the response took longer than the read timeout');
    });

    it('fails with UPSTREAM_WRITE_TIMEOUT when the upstream does not read a 16 MB body', async () => {
      const server = await rawServer(() => undefined, { noRead: true });
      const body = Buffer.alloc(16 * 1024 * 1024, 'w');
      const pool = poolFor(server.port);
      const rec = await exchange(
        pool,
        request({
          method: 'POST',
          headers: ['host', 'upstream.test', 'content-length', String(body.length)],
          body,
          writeTimeoutMs: 300,
          readTimeoutMs: 5000,
        }),
      );
      assert.equal(rec.error?.code, 'UPSTREAM_WRITE_TIMEOUT');
      assert.equal(rec.heads, 0);
      const elapsed = rec.endAt - rec.sentAt;
      assert.ok(elapsed >= 300 && elapsed < 1500, `timed out after ${elapsed.toFixed(0)} ms`);
      assert.equal(pool.connectionCount, 0);
      // The server sees the close once it reads what is queued before it.
      server.peers[0]!.socket.resume();
      await waitUntil(() => server.peers[0]!.closed, { message: 'the connection to close' });
    });

    it('fails with UPSTREAM_WRITE_TIMEOUT when the upstream does not read a streamed body, and stops reading it', async () => {
      const server = await rawServer(() => undefined, { noRead: true });
      const block = Buffer.alloc(1024 * 1024, 's');
      let stopped = false;
      async function* body(): AsyncIterable<Buffer> {
        try {
          yield* chunksOf(...Array.from({ length: 32 }, () => block));
        } finally {
          stopped = true;
        }
      }
      const rec = await exchange(
        poolFor(server.port),
        request({ method: 'POST', body: body(), writeTimeoutMs: 300 }),
      );
      assert.equal(rec.error?.code, 'UPSTREAM_WRITE_TIMEOUT');
      const elapsed = rec.endAt - rec.sentAt;
      assert.ok(elapsed >= 300 && elapsed < 1500, `timed out after ${elapsed.toFixed(0)} ms`);
      // The client's body is let go (its iterator returned), not left waiting for a drain that can't come.
      await waitUntil(() => stopped, { timeoutMs: 2000, message: 'the body iterator to be returned' });
    });
  });

  describe('request bodies', () => {
    it('frames a streamed body without Content-Length as chunked (empty chunks skipped)', async () => {
      const server = await rawServer((req, peer) => peer.socket.write(reply(200, `got ${req.body.length}`)));
      const pool = poolFor(server.port);
      const binary = allBytes(1);
      const rec = await ok(
        pool,
        request({ method: 'POST', body: chunksOf('hello', Buffer.alloc(0), ' ', binary, 'world') }),
      );
      assert.equal(rec.body.toString(), 'got 267');
      const received = server.peers[0]!.requests[0]!;
      assert.match(received.head, /\r\ntransfer-encoding: chunked\r\n/);
      const expected = Buffer.concat([
        Buffer.from('5\r\nhello\r\n1\r\n \r\n100\r\n'),
        binary,
        Buffer.from('\r\n5\r\nworld\r\n0\r\n\r\n'),
      ]);
      assert.ok(
        received.rawBody.equals(expected),
        `wire body: ${JSON.stringify(received.rawBody.toString('latin1'))}`,
      );
      assert.equal(pool.idleCount, 1, 'a whole request keeps its connection');
    });

    it('sends a streamed body with Content-Length raw', async () => {
      const server = await rawServer((req, peer) => peer.socket.write(reply(200, `got ${req.body.length}`)));
      const rec = await ok(
        poolFor(server.port),
        request({
          method: 'PUT',
          headers: ['host', 'upstream.test', 'Content-Length', '11'],
          body: chunksOf('hello', ' ', 'world'),
        }),
      );
      assert.equal(rec.body.toString(), 'got 11');
      const received = server.peers[0]!.requests[0]!;
      assert.doesNotMatch(received.head, /transfer-encoding/i);
      assert.equal(received.rawBody.toString(), 'hello world');
    });

    it('fails the exchange with the error of a body that throws, and closes the connection', async () => {
      const server = await rawServer((_req, peer) => peer.socket.write(reply(200, 'unexpected')));
      const pool = poolFor(server.port);
      const broken = new Error('the client body broke off');
      async function* body(): AsyncIterable<Buffer> {
        yield Buffer.from('part');
        await new Promise<void>((resolve) => setImmediate(resolve));
        throw broken;
      }
      const rec = await exchange(pool, request({ method: 'POST', body: body() }));
      assert.equal(rec.error, broken);
      assert.equal(rec.heads, 0);
      assert.equal(rec.ends, 1);
      assert.equal(pool.connectionCount, 0);
      await waitUntil(() => server.peers[0]?.closed, { message: 'the connection to close' });
      assert.equal(server.peers[0]!.requests.length, 0, 'the body never ended on the wire');
    });

    it('delivers a response that comes before the body is sent, stops reading the body, drops the connection', async () => {
      const server = await rawServer(() => undefined);
      let stopped = false;
      async function* endless(): AsyncIterable<Buffer> {
        try {
          for (;;) {
            await new Promise<void>((resolve) => setImmediate(resolve));
            yield Buffer.from('more ');
          }
        } finally {
          stopped = true;
        }
      }
      const pool = poolFor(server.port);
      const rec = send(pool, request({ method: 'POST', body: endless() }));
      const peer = await waitUntil(() => server.peers[0], { message: 'the connection' });
      peer.socket.write(reply(413, 'too large'));
      await rec.done();
      assert.equal(rec.error, null);
      assert.equal(rec.status, 413);
      assert.equal(rec.body.toString(), 'too large');
      await waitUntil(() => stopped, { message: 'the body to stop being read' });
      assert.equal(pool.connectionCount, 0, 'a connection whose request was cut was kept');
      await waitUntil(() => peer.closed, { message: 'the connection to close' });
    });

    it('stops reading the body when the response comes while a body write waits to drain', async () => {
      const server = await rawServer(() => undefined, { noRead: true });
      const block = Buffer.alloc(1024 * 1024, 'd');
      let pulled = 0;
      let stopped = false;
      async function* endless(): AsyncIterable<Buffer> {
        try {
          for (;;) {
            pulled++;
            yield block;
          }
        } finally {
          stopped = true;
        }
      }
      const pool = poolFor(server.port);
      const rec = send(pool, request({ method: 'POST', body: endless() }));
      // The socket's buffers fill up: the body stops being pulled.
      let seen = -1;
      await waitUntil(
        () => {
          const blocked = pulled > 0 && pulled === seen;
          seen = pulled;
          return blocked;
        },
        { intervalMs: 100, message: 'the body write to block' },
      );
      server.peers[0]!.socket.write(reply(413, 'too large'));
      await rec.done();
      assert.equal(rec.status, 413);
      assert.equal(rec.error, null);
      await waitUntil(() => stopped, { timeoutMs: 2000, message: 'the body iterator to be returned' });
      assert.equal(pool.connectionCount, 0);
    });

    it('does not read a streamed body when the connection is refused (it can be sent elsewhere)', async () => {
      let started = false;
      const body: AsyncIterable<Buffer> = {
        [Symbol.asyncIterator]() {
          started = true;
          return chunksOf('x')[Symbol.asyncIterator]();
        },
      };
      const rec = await exchange(poolFor(await freePort()), request({ method: 'POST', body }));
      assert.equal(rec.error?.code, 'ECONNREFUSED');
      assert.equal(started, false);
    });
  });

  describe('requests that cannot be sent', () => {
    for (const [name, over] of [
      ['a header value with CR/LF', { headers: ['host', 'upstream.test', 'x-a', 'one\r\nx-injected: 1'] }],
      ['a header value with a bare LF', { headers: ['host', 'upstream.test', 'x-a', 'one\nx-injected: 1'] }],
      ['a header name with a space', { headers: ['host', 'upstream.test', 'bad name', 'v'] }],
      ['a header name with a colon', { headers: ['host', 'upstream.test', 'x:y', 'v'] }],
      ['an empty header name', { headers: ['host', 'upstream.test', '', 'v'] }],
      ['a path with a space', { path: '/a b' }],
      ['a path with CR/LF', { path: '/a\r\nx-injected: 1' }],
      ['an empty path', { path: '' }],
      ['a method with a space', { method: 'GET /admin HTTP/1.1\r\nx:' }],
      ['an empty method', { method: '' }],
    ] as const) {
      it(`refuses ${name} with UPSTREAM_INVALID_REQUEST, asynchronously and without a connection`, async () => {
        const server = await rawServer((_req, peer) => peer.socket.write(reply(200, 'ok')));
        const pool = poolFor(server.port);
        const rec = send(pool, request(over));
        assert.equal(rec.ends, 0, 'ended synchronously');
        assert.equal(pool.connectionCount, 0);
        await rec.done();
        assert.equal(rec.error?.code, 'UPSTREAM_INVALID_REQUEST');
        assert.equal(rec.heads, 0);
        // The next request is the first connection the server sees.
        await ok(pool);
        assert.equal(server.peers.length, 1);
        assert.equal(server.peers[0]!.requests.length, 1);
      });
    }
  });

  describe('pool limits', () => {
    it('closes a connection after maxRequests and opens a new one', async () => {
      const server = await rawServer((_req, peer) => peer.socket.write(reply(200, 'ok')));
      const pool = poolFor(server.port, { maxRequests: 2 });
      await ok(pool);
      await ok(pool);
      await waitUntil(() => server.peers[0]!.closed, { message: 'the first connection to close' });
      await ok(pool);
      assert.equal(server.peers.length, 2);
      assert.equal(server.peers[0]!.requests.length, 2);
      assert.equal(server.peers[1]!.requests.length, 1);
      assert.equal(pool.idleCount, 1);
    });

    it('with poolSize 0 sends connection: close and opens a connection per request', async () => {
      const server = await rawServer((_req, peer) => peer.socket.write(reply(200, 'ok')));
      const pool = poolFor(server.port, { poolSize: 0 });
      for (let i = 0; i < 3; i++) await ok(pool);
      assert.equal(server.peers.length, 3);
      for (const peer of server.peers) {
        assert.equal(peer.requests.length, 1);
        assert.equal(headerOf(peer.requests[0]!.headers, 'connection'), 'close');
      }
      assert.equal(pool.idleCount, 0);
      await waitUntil(() => server.closedCount === 3, { message: 'every connection to close' });
      assert.equal(pool.connectionCount, 0);
    });

    it('serves more concurrent requests than poolSize and keeps only poolSize idle', async () => {
      const waiting: Peer[] = [];
      const server = await rawServer((_req, peer) => {
        // Answer once all five are in, so they overlap.
        waiting.push(peer);
        if (waiting.length === 5) for (const p of waiting) p.socket.write(reply(200, 'ok'));
      });
      const pool = poolFor(server.port, { poolSize: 2 });
      const recs = await Promise.all(Array.from({ length: 5 }, () => exchange(pool, request())));
      for (const rec of recs) {
        assert.equal(rec.error, null);
        assert.equal(rec.body.toString(), 'ok');
      }
      assert.equal(server.peers.length, 5);
      assert.equal(pool.idleCount, 2);
      assert.equal(pool.connectionCount, 2);
      await waitUntil(() => server.closedCount === 3, { message: 'three connections to close' });
    });

    it('closes an idle connection after idleTimeoutSec', async () => {
      const server = await rawServer((_req, peer) => peer.socket.write(reply(200, 'ok')));
      const pool = poolFor(server.port, { idleTimeoutSec: 1 });
      const rec = await ok(pool);
      assert.equal(pool.idleCount, 1);
      await waitUntil(() => server.peers[0]!.closed, {
        timeoutMs: 3000,
        message: 'the idle connection to close',
      });
      const idle = performance.now() - rec.endAt;
      assert.ok(idle >= 990 && idle < 2000, `closed after ${idle.toFixed(0)} ms idle`);
      assert.equal(pool.idleCount, 0);
      assert.equal(pool.connectionCount, 0);
    });

    it('lets go of an idle connection the upstream closed and opens a new one', async () => {
      const server = await rawServer((req, peer) => {
        peer.socket.write(reply(200, 'ok'));
        if (req.path === '/then-close') peer.socket.end();
      });
      const pool = poolFor(server.port);
      await ok(pool, request({ path: '/then-close' }));
      await waitUntil(() => pool.connectionCount === 0, { message: 'the pool to drop the connection' });
      assert.equal(pool.idleCount, 0);
      const next = await ok(pool, request({ path: '/next' }));
      assert.equal(next.body.toString(), 'ok');
      assert.equal(server.peers.length, 2);
    });
  });

  describe('close and destroy', () => {
    it('close(): idle connections close now, a request in flight finishes first, later sends fail', async () => {
      let hold: Peer | undefined;
      const server = await rawServer((req, peer) => {
        if (req.path === '/hold') hold = peer;
        else peer.socket.write(reply(200, 'quick'));
      });
      const pool = poolFor(server.port);
      const held = send(pool, request({ path: '/hold' }));
      await ok(pool, request({ path: '/quick' }));
      await waitUntil(() => hold, { message: 'the held request to arrive' });
      assert.equal(pool.idleCount, 1);
      const idlePeer = server.peers.find((p) => p !== hold)!;

      pool.close();
      await waitUntil(() => idlePeer.closed, { message: 'the idle connection to close' });
      assert.equal(hold!.closed, false);
      assert.equal(held.ends, 0);

      hold!.socket.write(reply(200, 'held'));
      await held.done();
      assert.equal(held.error, null);
      assert.equal(held.body.toString(), 'held');
      await waitUntil(() => hold!.closed, { message: 'the busy connection to close after its response' });
      assert.equal(pool.connectionCount, 0);

      const late = send(pool, request());
      assert.equal(late.ends, 0, 'ended synchronously');
      await late.done();
      assert.equal(late.error?.code, 'UPSTREAM_POOL_CLOSED');
      assert.equal(server.peers.length, 2);
    });

    it('destroy(): requests in flight end with UPSTREAM_POOL_DESTROYED, with or without a head', async () => {
      const server = await rawServer((req, peer) => {
        if (req.path === '/partial') peer.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc');
      });
      const pool = poolFor(server.port);
      const silent = send(pool, request({ path: '/silent' }));
      const partial = send(pool, request({ path: '/partial' }));
      await waitUntil(() => partial.heads === 1 && server.peers.length === 2, { message: 'both in flight' });

      pool.destroy();
      await Promise.all([silent.done(), partial.done()]);
      assert.equal(silent.error?.code, 'UPSTREAM_POOL_DESTROYED');
      assert.equal(silent.heads, 0);
      assert.equal(partial.error?.code, 'UPSTREAM_POOL_DESTROYED');
      assert.equal(partial.out!.destroyed, true);
      assert.equal(partial.outError, partial.error);
      assert.equal(silent.ends + partial.ends, 2);
      assert.equal(pool.connectionCount, 0);
      await waitUntil(() => server.closedCount === 2, { message: 'both connections to close' });
    });
  });

  describe('the consumer', () => {
    /** A writable destroyed as soon as it takes its first chunk: the client went away. */
    const goneAfterFirstChunk = (rec: Recorder) =>
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          rec.chunks.push(chunk);
          done();
          setImmediate(() => this.destroy());
        },
      });

    it('closes the upstream connection when the writable is destroyed while the upstream is quiet', async () => {
      const server = await rawServer((_req, peer) =>
        peer.socket.write(
          Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 1000000\r\n\r\n'), allBytes(8)]),
        ),
      );
      const pool = poolFor(server.port);
      const rec = await exchange(pool, request({ readTimeoutMs: 5000 }), new Recorder(goneAfterFirstChunk));
      assert.equal(rec.error?.code, 'UPSTREAM_CLIENT_GONE');
      assert.ok(rec.endAt - rec.sentAt < 1000, 'ended by the read timeout instead');
      assert.equal(pool.connectionCount, 0);
      await waitUntil(() => server.peers[0]!.closed, { message: 'the upstream connection to close' });
    });

    it('closes the upstream connection when the writable is destroyed while the body streams', async () => {
      const total = 64 * 1024 * 1024;
      const block = Buffer.alloc(64 * 1024, 'b');
      const server = await rawServer((_req, peer) => {
        peer.socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${total}\r\n\r\n`);
        let sent = 0;
        const pump = () => {
          while (sent < total && !peer.socket.destroyed) {
            sent += block.length;
            if (!peer.socket.write(block)) return void peer.socket.once('drain', pump);
          }
        };
        pump();
      });
      const pool = poolFor(server.port);
      const rec = await exchange(pool, request(), new Recorder(goneAfterFirstChunk));
      assert.equal(rec.error?.code, 'UPSTREAM_CLIENT_GONE');
      assert.equal(pool.connectionCount, 0);
      await waitUntil(() => server.peers[0]!.closed, { message: 'the upstream connection to close' });
    });
  });

  describe('backpressure', () => {
    const TOTAL = 20 * 1024 * 1024;

    /**
     * Streams `total` bytes of a counting pattern, honouring backpressure, and notes the server's view; with
     * `stopAt`, goes silent after that many.
     */
    function streamingServer(total: number, stopAt = total) {
      const state = { written: 0, stalls: 0, hash: createHash('sha256'), doneAt: -1 };
      return {
        state,
        handler: (_req: Received, peer: Peer) => {
          peer.socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${total}\r\n\r\n`);
          let index = 0;
          const pump = () => {
            while (state.written < stopAt) {
              const block = Buffer.alloc(64 * 1024);
              for (let i = 0; i < block.length; i += 4) block.writeUInt32BE(index++, i);
              state.hash.update(block);
              state.written += block.length;
              const last = state.written >= stopAt;
              const flushed = peer.socket.write(
                block,
                last ? () => (state.doneAt = performance.now()) : undefined,
              );
              if (!flushed && !last) {
                state.stalls++;
                return void peer.socket.once('drain', pump);
              }
            }
          };
          pump();
        },
      };
    }

    it('pauses the upstream for a slow consumer: 20 MB arrive in order without piling up in memory', async () => {
      const { state, handler } = streamingServer(TOTAL);
      const server = await rawServer(handler);
      const hash = createHash('sha256');
      let received = 0;
      let peakBuffered = 0;
      let receivedWhenServerDone = -1;
      const slow = () =>
        new Writable({
          highWaterMark: 1024,
          write(chunk: Buffer, _encoding, done) {
            // Whatever the client wrote while the previous chunk drained is counted here.
            peakBuffered = Math.max(peakBuffered, this.writableLength);
            hash.update(chunk);
            received += chunk.length;
            if (state.doneAt !== -1 && receivedWhenServerDone === -1) receivedWhenServerDone = received;
            setTimeout(done, 1);
          },
        });
      const rec = await exchange(poolFor(server.port), request({ readTimeoutMs: 5000 }), new Recorder(slow));
      assert.equal(rec.error, null);
      assert.equal(received, TOTAL);
      assert.equal(hash.digest('hex'), state.hash.digest('hex'), 'bytes differ or arrived out of order');
      // Without pausing the upstream socket, the consumer's buffer would take the whole body.
      assert.ok(peakBuffered <= 256 * 1024, `the consumer buffered up to ${peakBuffered} bytes`);
      assert.ok(state.stalls > 0, 'the server never had to wait');
      assert.ok(
        receivedWhenServerDone === -1 || receivedWhenServerDone >= TOTAL - 16 * 1024 * 1024,
        `the server was done when the consumer had ${receivedWhenServerDone} bytes`,
      );
    });

    it('does not count time paused for a slow consumer against the read timeout', async () => {
      const total = 4 * 1024 * 1024;
      const { handler } = streamingServer(total);
      const server = await rawServer(handler);
      let received = 0;
      let stalled = false;
      const stalling = () =>
        new Writable({
          highWaterMark: 1024,
          write(chunk: Buffer, _encoding, done) {
            received += chunk.length;
            // Once, the client takes longer than the read timeout to take a chunk.
            if (!stalled && received > 1024 * 1024) {
              stalled = true;
              setTimeout(done, 700);
            } else done();
          },
        });
      const rec = await exchange(
        poolFor(server.port),
        request({ readTimeoutMs: 300 }),
        new Recorder(stalling),
      );
      assert.equal(rec.error, null, `failed: ${rec.error?.code}`);
      assert.equal(received, total);
      assert.ok(stalled);
    });

    it('still times out an upstream that goes silent once the slow consumer caught up', async () => {
      const { handler } = streamingServer(4 * 1024 * 1024, 2 * 1024 * 1024);
      const server = await rawServer(handler);
      let received = 0;
      let stalledAt = 0;
      const stalling = () =>
        new Writable({
          highWaterMark: 1024,
          write(chunk: Buffer, _encoding, done) {
            received += chunk.length;
            if (stalledAt === 0 && received > 1024 * 1024) {
              stalledAt = performance.now();
              setTimeout(done, 700);
            } else done();
          },
        });
      const rec = await exchange(
        poolFor(server.port),
        request({ readTimeoutMs: 300 }),
        new Recorder(stalling),
      );
      assert.equal(rec.error?.code, 'UPSTREAM_READ_TIMEOUT');
      assert.equal(received, 2 * 1024 * 1024, 'timed out before taking what the upstream sent');
      const afterStall = rec.endAt - stalledAt;
      assert.ok(
        afterStall >= 1000 && afterStall < 1600,
        `timed out ${afterStall.toFixed(0)} ms after the stall began`,
      );
    });
  });

  describe('a client that stops reading', () => {
    it('is given up after the send timeout, and the upstream connection closed', async () => {
      let peer: Peer | null = null;
      const server = await rawServer((_req, p) => {
        peer = p;
        p.socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${8 * 1024 * 1024}\r\n\r\n`);
        p.socket.write(Buffer.alloc(8 * 1024 * 1024));
      });
      // Takes one chunk and never another.
      const stuck = () => new Writable({ highWaterMark: 1024, write: () => undefined });
      const rec = await exchange(
        poolFor(server.port),
        request({ readTimeoutMs: 5000, sendTimeoutMs: 300 }),
        new Recorder(stuck),
      );
      assert.equal(rec.error?.code, 'UPSTREAM_CLIENT_GONE');
      const waited = rec.endAt - rec.headAt;
      assert.ok(waited >= 300 && waited < 1200, `given up after ${waited.toFixed(0)} ms`);
      assert.equal(rec.out!.destroyed, true);
      await waitUntil(() => peer !== null && peer.closed, { message: 'the upstream connection to close' });
    });
  });

  describe('connecting', () => {
    it('fails with ECONNREFUSED when nothing listens', async () => {
      const pool = poolFor(await freePort());
      const rec = await exchange(pool, request());
      assert.equal(rec.error?.code, 'ECONNREFUSED');
      assert.equal(rec.heads, 0);
      assert.equal(pool.connectionCount, 0);
    });

    it('fails with UPSTREAM_CONNECT_TIMEOUT when a TCP connect gets no answer', async () => {
      const silent = await silentListener();
      try {
        const pool = poolFor(silent.port, {}, { connectTimeoutMs: 300 });
        const rec = await exchange(pool, request());
        assert.equal(rec.error?.code, 'UPSTREAM_CONNECT_TIMEOUT');
        const elapsed = rec.endAt - rec.sentAt;
        assert.ok(elapsed >= 299 && elapsed < 1000, `timed out after ${elapsed.toFixed(0)} ms`);
        assert.equal(pool.connectionCount, 0);
      } finally {
        silent.close();
      }
    });

    it('fails with UPSTREAM_CONNECT_TIMEOUT when the TLS handshake never completes', async () => {
      const server = await rawServer(() => undefined, { noRead: true });
      const pool = poolFor(server.port, {}, { scheme: 'https', connectTimeoutMs: 300 });
      const rec = await exchange(pool, request());
      assert.equal(rec.error?.code, 'UPSTREAM_CONNECT_TIMEOUT');
      const elapsed = rec.endAt - rec.sentAt;
      assert.ok(elapsed >= 299 && elapsed < 1000, `timed out after ${elapsed.toFixed(0)} ms`);
      assert.equal(pool.connectionCount, 0);
      await waitUntil(
        () => {
          server.peers[0]?.socket.resume();
          return server.peers[0]?.closed;
        },
        { message: 'the connection to close' },
      );
    });

    describe('TLS with a self-signed certificate', () => {
      let pki: CaAndLeafPem;
      let cleanup: () => Promise<void>;
      before(async () => {
        const tmp = await makeTempDir();
        cleanup = tmp.cleanup;
        pki = await caAndLeafPem(tmp.dir);
      });
      after(async () => cleanup());

      /** TLS that verifies against Node's CA list and presents `identity`, if any. */
      const verifying = (identity: { cert: string; key: string } | null = null) =>
        new UpstreamTls(
          'verify',
          true,
          { max: 1, setting: 'tls_verify_depth' },
          { system: true, pems: [] },
          identity,
        );

      it('succeeds without verification, keeps the connection and resumes the session on a new one', async () => {
        const server = await rawServer((req, peer) => peer.socket.write(reply(200, `tls ${req.path}`)), {
          tls: { cert: pki.leafCert, key: pki.leafKey },
        });
        const pool = poolFor(server.port, {}, { scheme: 'https', servername: 'example.com' });
        assert.equal((await ok(pool, request({ path: '/one' }))).body.toString(), 'tls /one');
        assert.equal((await ok(pool, request({ path: '/two' }))).body.toString(), 'tls /two');
        assert.equal(server.peers.length, 1);

        const fresh = poolFor(server.port, { poolSize: 0 }, { scheme: 'https' });
        await ok(fresh);
        await ok(fresh);
        assert.equal(server.peers.length, 3);
        assert.equal((server.peers[2]!.socket as TLSSocket).isSessionReused(), true);
      });

      it('fails with UPSTREAM_TLS_CERTIFICATE, Node’s refusal as its cause, when verifying', async () => {
        const server = await rawServer((_req, peer) => peer.socket.write(reply(200, 'ok')), {
          tls: { cert: pki.leafCert, key: pki.leafKey },
        });
        const pool = poolFor(
          server.port,
          {},
          { scheme: 'https', tls: verifying(), servername: 'example.com' },
        );
        const rec = await exchange(pool, request());
        assert.equal(rec.error?.code, 'UPSTREAM_TLS_CERTIFICATE');
        assert.equal((rec.error?.cause as { code?: string }).code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
        assert.equal(
          rec.error?.message,
          'upstream SSL certificate verify error: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)',
        );
        assert.equal(rec.heads, 0);
        assert.equal(
          server.peers.every((p) => p.requests.length === 0),
          true,
        );
      });

      it('fails with UPSTREAM_TLS_CONTEXT, opening no connection, when the client certificate cannot be loaded', async () => {
        const server = await rawServer((_req, peer) => peer.socket.write(reply(200, 'ok')), {
          tls: { cert: pki.leafCert, key: pki.leafKey },
        });
        const mismatched = verifying({ cert: pki.leafCert, key: pki.otherKey });
        const pool = poolFor(server.port, {}, { scheme: 'https', tls: mismatched });
        const rec = await exchange(pool, request());
        assert.equal(rec.error?.code, 'UPSTREAM_TLS_CONTEXT');
        assert.match(rec.error!.message, /^the TLS settings cannot be used: /);
        assert.equal(pool.connectionCount, 0);
        assert.equal(server.peers.length, 0);
      });
    });
  });
});
