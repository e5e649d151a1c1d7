// The plain listener's own HTTP/1.1 server driven over raw sockets: what it serves itself (keep-alive, framing,
// bodies both ways, pipelining), what it hands to Node's http server (and that Node keeps the connection), bad
// input, timeouts, the client going away, and closing the server.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { HTTPParser } from '../../../src/core/http/llhttp.js';
import {
  incomingHeaders,
  servePlainRequests,
  type PlainListenerOptions,
  type PlainRequest,
  type PlainResponse,
} from '../../../src/core/proxy/plain-listener.js';
import { waitUntil } from '../../helpers/wait.js';

interface Parsed {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** A raw client connection: bytes written as given, responses parsed as they complete. */
class RawClient {
  readonly responses: Parsed[] = [];
  /** Informational (1xx) responses seen. */
  interim = 0;
  closed = false;
  /** For each request sent, whether it was HEAD (its response has no body). */
  readonly heads: boolean[] = [];
  private readonly socket: Socket;
  private readonly parser = new HTTPParser();
  private current: Parsed | null = null;
  private chunks: Buffer[] = [];

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      // A response delimited by the connection's end completes here.
      this.parser.finish();
      this.closed = true;
    });
    this.parser.initialize(HTTPParser.RESPONSE, {}, 0, 0);
    this.parser[HTTPParser.kOnHeadersComplete] = (
      _major: number,
      _minor: number,
      raw: string[],
      _method: number,
      _url: string,
      status: number,
    ) => {
      if (status < 200) this.interim++;
      const headers: Record<string, string> = {};
      for (let i = 0; i < raw.length; i += 2) headers[raw[i]!.toLowerCase()] = raw[i + 1]!;
      this.current = { status, headers, body: Buffer.alloc(0) };
      this.chunks = [];
      return this.heads[this.responses.length] || status < 200 ? 1 : 0;
    };
    this.parser[HTTPParser.kOnBody] = (chunk: Buffer) => this.chunks.push(Buffer.from(chunk));
    this.parser[HTTPParser.kOnMessageComplete] = () => {
      if (this.current === null || this.current.status < 200) return;
      this.current.body = Buffer.concat(this.chunks);
      this.responses.push(this.current);
      this.current = null;
    };
    this.socket.on('data', (data: Buffer) => this.parser.execute(data));
  }

  /** Writes raw bytes; `heads` marks the HEAD requests among them, in order. */
  send(bytes: string | Buffer, ...heads: boolean[]): void {
    const count = typeof bytes === 'string' ? bytes.split(' HTTP/1.').length - 1 : 1;
    for (let i = 0; i < count; i++) this.heads.push(heads[i] ?? false);
    this.socket.write(bytes);
  }

  write(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  async response(index: number): Promise<Parsed> {
    return waitUntil(() => this.responses[index], { message: `response ${index}`, timeoutMs: 8000 });
  }

  end(): void {
    this.socket.destroy();
  }
}

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

async function readAll(iterator: AsyncIterator<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (;;) {
    const next = await iterator.next();
    if (next.done) return Buffer.concat(chunks);
    chunks.push(next.value);
  }
}

describe('plain listener (own HTTP/1.1 server, Node hand-off)', function () {
  this.timeout(20_000);
  let server: Server;
  let port: number;
  const clients: RawClient[] = [];
  /** What the handler saw: requests served plainly, and each response closed early. */
  const seen: { plain: PlainRequest[]; closedEarly: string[]; bodyErrors: string[] } = {
    plain: [],
    closedEarly: [],
    bodyErrors: [],
  };

  const handler = (req: PlainRequest, res: PlainResponse): void => {
    seen.plain.push(req);
    res.on('close', () => seen.closedEarly.push(req.url));
    const path = req.url;
    if (path === '/echo') {
      readAll(req.iterator({ destroyOnReturn: false })).then(
        (body) => {
          const text = JSON.stringify({ bytes: body.length, sha: sha(body) });
          res.writeHead(200, ['content-type', 'application/json', 'content-length', String(text.length)]);
          res.end(text);
        },
        (err: Error) => seen.bodyErrors.push(err.message),
      );
    } else if (path === '/slow') {
      setTimeout(() => {
        res.writeHead(200, { 'content-length': 4 });
        res.end('slow');
      }, 150);
    } else if (path === '/chunks') {
      res.writeHead(200, ['content-type', 'text/plain', 'x-kind', 'chunked']);
      res.write('a', 'latin1');
      res.write(Buffer.from('bb'));
      res.end('ccc');
    } else if (path === '/no-content') {
      res.writeHead(204, { 'x-kind': 'none' });
      res.end();
    } else if (path === '/throw') {
      throw new Error('a handler bug');
    } else if (path === '/ignore') {
      // Answered at once without reading the body (as the proxy's own 404 is).
      res.writeHead(404, ['content-length', '0']);
      res.end();
    } else if (path === '/slow-consumer') {
      void (async () => {
        const chunks: Buffer[] = [];
        const iterator = req.iterator({ destroyOnReturn: false });
        for (;;) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          const next = await iterator.next();
          if (next.done) break;
          chunks.push(next.value);
        }
        const all = Buffer.concat(chunks);
        const text = JSON.stringify({ bytes: all.length, sha: sha(all) });
        res.writeHead(200, ['content-length', String(text.length)]);
        res.end(text);
      })();
    } else if (path === '/hang') {
      res.writeHead(200, ['content-length', '100']);
      res.write('partial', 'latin1');
    } else {
      res.writeHead(200, ['content-length', '5', 'x-path', path]);
      res.end('plain', 'latin1');
    }
  };

  const nodeHandler = (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = JSON.stringify({
        node: req.url,
        version: req.httpVersion,
        bytes: Buffer.concat(chunks).length,
      });
      res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': 'node' });
      res.end(text);
    });
  };

  async function start(options?: PlainListenerOptions): Promise<void> {
    server = createServer({ keepAliveTimeout: 60_000 }, nodeHandler);
    servePlainRequests(server, handler, options);
    server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      socket.end(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\n\r\nhi`,
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  }

  const client = (): RawClient => {
    const c = new RawClient(port);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    seen.plain.length = 0;
    seen.closedEarly.length = 0;
    seen.bodyErrors.length = 0;
    await start();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.end();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('serves keep-alive requests on one connection itself, with Date and keep-alive headers', async () => {
    const c = client();
    c.send('GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
    const first = await c.response(0);
    c.send('GET /b?q=1 HTTP/1.1\r\nHost: x\r\n\r\n');
    const second = await c.response(1);
    assert.equal(first.status, 200);
    assert.equal(first.body.toString(), 'plain');
    assert.equal(first.headers['x-path'], '/a');
    assert.equal(second.headers['x-path'], '/b?q=1');
    assert.equal(first.headers.connection, 'keep-alive');
    assert.equal(first.headers['keep-alive'], 'timeout=60');
    assert.ok(!Number.isNaN(Date.parse(first.headers.date!)), 'a Date header');
    assert.equal(seen.plain.length, 2);
    assert.equal(c.closed, false);
  });

  it('shows headers as IncomingMessage does (lowercase, repeats joined, single-valued ones kept first)', () => {
    const headers = incomingHeaders([
      'Host',
      'a',
      'HOST',
      'b',
      'X-Tag',
      '1',
      'x-tag',
      '2',
      'Set-Cookie',
      's1',
      'set-cookie',
      's2',
      'Cookie',
      'c1',
      'cookie',
      'c2',
    ]);
    assert.deepEqual(headers, { host: 'a', 'x-tag': '1, 2', 'set-cookie': ['s1', 's2'], cookie: 'c1; c2' });
  });

  it("matches Node's IncomingMessage.headers for repeated names of every kind", async () => {
    // Node's own server parses the same head; its req.headers is the reference for the plain listener's.
    const names = [
      'age',
      'authorization',
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
      'set-cookie',
      'cookie',
      'accept',
      'x-custom',
      'X-Mixed-Case',
      'connection',
      'via',
      'x-forwarded-for',
      'www-authenticate',
      'proxy-authenticate',
      'content-disposition',
    ];
    const raw: string[] = [];
    for (const name of names) raw.push(name, `${name}-1`, name.toUpperCase(), `${name}-2`);
    const reference = createServer((req, res) => {
      res.end(JSON.stringify({ headers: req.headers, raw: req.rawHeaders }));
    });
    await new Promise<void>((resolve) => reference.listen(0, '127.0.0.1', resolve));
    try {
      const refPort = (reference.address() as AddressInfo).port;
      const text = await new Promise<string>((resolve, reject) => {
        const socket = connect(refPort, '127.0.0.1', () => {
          let head = 'GET / HTTP/1.1\r\n';
          for (let i = 0; i < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
          socket.write(`${head}Connection: close\r\n\r\n`);
        });
        let out = '';
        socket.on('data', (d: Buffer) => (out += d.toString()));
        socket.on('end', () => resolve(out.slice(out.indexOf('\r\n\r\n') + 4)));
        socket.on('error', reject);
      });
      const node = JSON.parse(text) as { headers: IncomingHttpHeaders; raw: string[] };
      assert.deepEqual(incomingHeaders(node.raw), node.headers);
    } finally {
      reference.closeAllConnections();
      await new Promise((resolve) => reference.close(resolve));
    }
  });

  it('answers pipelined requests in order, an HTTP/1.0 one (Node) last', async () => {
    const c = client();
    c.send(
      'GET /slow HTTP/1.1\r\nHost: x\r\n\r\n' +
        'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc' +
        'GET /node/x HTTP/1.0\r\nHost: x\r\n\r\n',
    );
    const [slow, echo, node] = [await c.response(0), await c.response(1), await c.response(2)];
    assert.equal(slow.body.toString(), 'slow');
    assert.deepEqual(JSON.parse(echo.body.toString()), { bytes: 3, sha: sha(Buffer.from('abc')) });
    assert.equal(node.headers['x-served-by'], 'node');
    assert.deepEqual(JSON.parse(node.body.toString()), { node: '/node/x', version: '1.0', bytes: 0 });
  });

  it('hands the connection to Node at a request it leaves to Node, with its body, and Node keeps it', async () => {
    const c = client();
    c.send('GET /first HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal((await c.response(0)).body.toString(), 'plain');
    // The head and part of the body first, the rest of the body later: Node gets all of it.
    c.send(
      'POST /node/upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n01234',
    );
    c.write('56789');
    const handed = await c.response(1);
    assert.deepEqual(JSON.parse(handed.body.toString()), { node: '/node/upload', version: '1.1', bytes: 10 });
    c.send('GET /after HTTP/1.1\r\nHost: x\r\n\r\n');
    const after = await c.response(2);
    assert.equal(after.headers['x-served-by'], 'node', 'the connection stays with Node');
    assert.equal(seen.plain.length, 1);
  });

  it('hands over HTTP/1.0, Expect: 100-continue and upgrade requests', async () => {
    const old = client();
    old.send('GET /a HTTP/1.0\r\nHost: x\r\n\r\n');
    assert.deepEqual(JSON.parse((await old.response(0)).body.toString()), {
      node: '/a',
      version: '1.0',
      bytes: 0,
    });

    const expect = client();
    expect.send('POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n');
    await waitUntil(() => expect.interim === 1, { message: '100 Continue' });
    assert.equal(expect.responses.length, 0);
    expect.write('ok');
    assert.deepEqual(JSON.parse((await expect.response(0)).body.toString()), {
      node: '/b',
      version: '1.1',
      bytes: 2,
    });

    const upgrade = new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () =>
        socket.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'),
      );
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.on('close', () => resolve(text));
    });
    const text = await upgrade;
    assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(text, /\r\n\r\nhi$/);
    assert.equal(seen.plain.length, 0);
  });

  it('frames a body without a length as chunked, and sends no body for HEAD and 204', async () => {
    const c = client();
    c.send('GET /chunks HTTP/1.1\r\nHost: x\r\n\r\n');
    const chunked = await c.response(0);
    assert.equal(chunked.headers['transfer-encoding'], 'chunked');
    assert.equal(chunked.body.toString(), 'abbccc');
    c.send('HEAD /chunks HTTP/1.1\r\nHost: x\r\n\r\n', true);
    const head = await c.response(1);
    assert.equal(head.body.length, 0);
    c.send('GET /no-content HTTP/1.1\r\nHost: x\r\n\r\n');
    const none = await c.response(2);
    assert.equal(none.status, 204);
    assert.equal(none.headers['transfer-encoding'], undefined);
    // The connection is still in step: a fourth request is answered.
    c.send('GET /d HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal((await c.response(3)).body.toString(), 'plain');
  });

  it('streams a large chunked request body to its consumer intact', async () => {
    const c = client();
    const body = Buffer.alloc(3 * 1024 * 1024 + 7, 'x');
    for (let i = 0; i < body.length; i += 997) body[i] = i % 251;
    c.send('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    for (let i = 0; i < body.length; i += 256 * 1024) {
      const piece = body.subarray(i, i + 256 * 1024);
      c.write(Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]));
    }
    c.write('0\r\n\r\n');
    const echo = await c.response(0);
    assert.deepEqual(JSON.parse(echo.body.toString()), { bytes: body.length, sha: sha(body) });
  });

  it('a handler that throws costs its connection, not the server', async () => {
    const c = client();
    c.send('GET /throw HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitUntil(() => c.closed, { message: 'the connection dropped' });
    assert.equal(c.responses.length, 0);
    const next = client();
    next.send('GET /fine HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal((await next.response(0)).headers['x-path'], '/fine');
  });

  it('drops a body nobody reads and serves the next request on the connection', async () => {
    const c = client();
    c.send(`POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: ${1024 * 1024}\r\n\r\n`);
    c.write(Buffer.alloc(1024 * 1024, 'z'));
    assert.equal((await c.response(0)).status, 404);
    c.send('GET /next HTTP/1.1\r\nHost: x\r\n\r\n');
    const next = await c.response(1);
    assert.equal(next.headers['x-path'], '/next');
  });

  it('stops reading while a slow consumer holds a body past the high-water mark, and delivers it whole', async () => {
    const c = client();
    const body = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4093) body[i] = i % 253;
    c.send(`POST /slow-consumer HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
    c.write(body);
    await waitUntil(() => seen.plain[0]?.socket.isPaused(), { message: 'the connection paused' });
    const echo = await c.response(0);
    assert.deepEqual(JSON.parse(echo.body.toString()), { bytes: body.length, sha: sha(body) });
  });

  it('closes after the response when the client asks, and answers bad requests 400 / 431 then closes', async () => {
    const c = client();
    c.send('GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const closing = await c.response(0);
    assert.equal(closing.headers.connection, 'close');
    await waitUntil(() => c.closed, { message: 'the connection closed' });

    const bad = client();
    bad.send('GET /a HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    assert.equal((await bad.response(0)).status, 400);
    await waitUntil(() => bad.closed, { message: 'the bad connection closed' });

    const big = client();
    big.send(`GET /a HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(20_000)}\r\n\r\n`);
    assert.equal((await big.response(0)).status, 431);
    await waitUntil(() => big.closed, { message: 'the oversized connection closed' });
  });

  it('tells the response when the client goes away before its end', async () => {
    const c = client();
    c.send('GET /hang HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitUntil(() => seen.plain.length === 1, { message: 'the request' });
    c.end();
    await waitUntil(() => seen.closedEarly.includes('/hang'), { message: 'the close listener' });
  });

  it('closes idle connections at once on closeIdleConnections, and in-flight ones after their response', async () => {
    const idle = client();
    idle.send('GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
    await idle.response(0);
    const busy = client();
    busy.send('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitUntil(() => seen.plain.length === 2, { message: 'the slow request' });
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await waitUntil(() => idle.closed, { message: 'the idle connection closed' });
    const slow = await busy.response(0);
    assert.equal(slow.body.toString(), 'slow');
    assert.equal(slow.headers.connection, 'close');
    await closed;
    await start();
  });

  describe('timeouts', () => {
    beforeEach(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await start({ keepAliveTimeoutMs: 1000, headersTimeoutMs: 1000, bodyTimeoutMs: 1000 });
    });

    it('closes a keep-alive connection idle for keepAliveTimeout', async () => {
      const c = client();
      c.send('GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
      await c.response(0);
      const since = Date.now();
      await waitUntil(() => c.closed, { message: 'the idle close', timeoutMs: 5000 });
      assert.ok(Date.now() - since >= 900, 'not before the timeout');
    });

    it('answers 408 to a head that does not complete within headersTimeout', async () => {
      const c = client();
      c.write('GET /a HTTP/1.1\r\nHost: x\r\n');
      const timer = setInterval(() => c.write('X-Drip: 1\r\n'), 200);
      try {
        const answer = await c.response(0);
        assert.equal(answer.status, 408);
        await waitUntil(() => c.closed, { message: 'the connection closed' });
      } finally {
        clearInterval(timer);
      }
    });

    it('drops a request whose body stalls for the body timeout; its consumer hears it', async () => {
      const c = client();
      c.send('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part');
      await waitUntil(() => c.closed, { message: 'the connection dropped', timeoutMs: 5000 });
      await waitUntil(() => seen.bodyErrors.length === 1, { message: 'the body error' });
      assert.match(seen.bodyErrors[0]!, /no body data in time/);
    });
  });
});
