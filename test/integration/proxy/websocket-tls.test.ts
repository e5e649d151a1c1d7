// WebSocket upgrades tunnel through the proxy, and https proxy listeners pick the configuration's
// certificate by SNI (exact, `*.` and `.*` wildcards) with the listener's default for other names; http2
// listeners proxy HTTP/2 clients.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect as connectHttp2 } from 'node:http2';
import { connect, type PeerCertificate } from 'node:tls';
import WebSocket, { WebSocketServer } from 'ws';
import { generateSelfSigned } from '../../../src/core/pki/self-signed.js';
import type { DeclarativeConfig } from '../../../src/core/proxy/types.js';
import {
  serviceConfig,
  startEchoUpstream,
  startTestProxy,
  type Echo,
  type TestProxy,
  type Upstream,
} from '../../helpers/proxy.js';

describe('proxy: WebSocket and TLS', () => {
  let proxy: TestProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  it('tunnels a WebSocket echo, with the proxy headers on the upgrade request', async () => {
    const server = createServer();
    const wss = new WebSocketServer({ server });
    let upgradeHeaders: Record<string, unknown> = {};
    wss.on('connection', (socket, req) => {
      upgradeHeaders = req.headers;
      socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      proxy = await startTestProxy({
        config: serviceConfig({ host: '127.0.0.1', port, protocol: 'ws' }, [
          { paths: ['/chat'], protocols: ['ws', 'wss'], strip_path: true },
        ]),
      });
      const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/chat/room?x=1`);
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const replies: string[] = [];
      const got = new Promise<void>((resolve) =>
        ws.on('message', (data) => {
          replies.push(String(data));
          if (replies.length === 3) resolve();
        }),
      );
      for (const text of ['one', 'two', 'x'.repeat(100_000)]) ws.send(text);
      await got;
      assert.deepEqual(replies, ['one', 'two', 'x'.repeat(100_000)]);
      assert.equal(upgradeHeaders['x-forwarded-for'], '127.0.0.1');
      assert.equal(upgradeHeaders.via, '1.1 hybrid/0.1.0');
      assert.equal(upgradeHeaders.host, `127.0.0.1:${port}`);
      ws.close();
      await new Promise((resolve) => ws.once('close', resolve));
    } finally {
      wss.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('answers an upgrade for no route with Kong 404 on the socket', async () => {
    proxy = await startTestProxy();
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/nothing`);
    const status = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('error', () => resolve(-1));
    });
    assert.equal(status, 404);
  });

  describe('https listener', () => {
    let upstream: Upstream;
    const exact = generateSelfSigned('api.example.com', 30);
    const wildcard = generateSelfSigned('wildcard.example.org', 30);
    const suffix = generateSelfSigned('suffix.example', 30);
    const fallback = generateSelfSigned('default.local', 30);

    before(async () => {
      upstream = await startEchoUpstream();
    });
    after(async () => upstream.close());

    function tlsConfig(): DeclarativeConfig {
      return serviceConfig(
        { host: '127.0.0.1', port: upstream.port },
        [{ paths: ['/'], protocols: ['https'] }],
        {
          certificates: [
            { id: 'c-exact', cert: exact.certPem, key: exact.keyPem },
            { id: 'c-wild', cert: wildcard.certPem, key: wildcard.keyPem },
            { id: 'c-suffix', cert: suffix.certPem, key: suffix.keyPem },
          ],
          snis: [
            { id: 's1', name: 'api.example.com', certificate: { id: 'c-exact' } },
            { id: 's2', name: '*.example.org', certificate: { id: 'c-wild' } },
            { id: 's3', name: 'shop.example.*', certificate: { id: 'c-suffix' } },
          ],
        },
      );
    }

    /** Connects with a server name, returns the served certificate's CN and an HTTP answer over it. */
    function handshake(servername: string): Promise<{ cn: string; status: string }> {
      return new Promise((resolve, reject) => {
        const socket = connect(
          { host: '127.0.0.1', port: proxy!.port, servername, rejectUnauthorized: false },
          () => {
            const cert: PeerCertificate = socket.getPeerCertificate();
            socket.write(`GET /hello HTTP/1.1\r\nhost: ${servername}\r\nconnection: close\r\n\r\n`);
            let text = '';
            socket.on('data', (c: Buffer) => (text += c.toString()));
            socket.on('end', () => resolve({ cn: String(cert.subject.CN), status: text.slice(0, 12) }));
          },
        );
        socket.on('error', reject);
      });
    }

    it('serves the certificate of the SNI (exact, prefix and suffix wildcards) or the default', async () => {
      proxy = await startTestProxy({
        config: tlsConfig(),
        tls: { cert: fallback.certPem, key: fallback.keyPem },
      });
      assert.deepEqual(await handshake('api.example.com'), { cn: 'api.example.com', status: 'HTTP/1.1 200' });
      assert.equal((await handshake('a.example.org')).cn, 'wildcard.example.org');
      assert.equal((await handshake('shop.example.net')).cn, 'suffix.example');
      assert.equal((await handshake('other.test')).cn, 'default.local');
      // A new configuration without certificates: the default everywhere, at once.
      await proxy.proxy.apply(serviceConfig({ host: '127.0.0.1', port: upstream.port }));
      assert.equal((await handshake('api.example.com')).cn, 'default.local');
    });

    it('serves HTTP/1.1 over TLS on its own server: keep-alive, routes by SNI, X-Forwarded-Proto https', async () => {
      proxy = await startTestProxy({
        config: serviceConfig({ host: '127.0.0.1', port: upstream.port }, [
          { paths: ['/by-sni'], snis: ['api.example.com'], protocols: ['https'], strip_path: true },
          { paths: ['/'], protocols: ['https'] },
        ]),
        tls: { cert: fallback.certPem, key: fallback.keyPem },
      });
      const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
      const get = (path: string, servername: string) =>
        new Promise<{ reused: boolean; echo: Echo }>((resolve, reject) => {
          const req = httpsRequest(
            { host: '127.0.0.1', port: proxy!.port, path, servername, headers: { host: servername }, agent },
            (res) => {
              let text = '';
              res.on('data', (c: Buffer) => (text += c.toString()));
              res.on('end', () => resolve({ reused: req.reusedSocket, echo: JSON.parse(text) as Echo }));
            },
          );
          req.on('error', reject);
          req.end();
        });
      try {
        const first = await get('/by-sni/1', 'api.example.com');
        const second = await get('/by-sni/2', 'api.example.com');
        assert.deepEqual(
          [first.echo.url, first.reused, second.echo.url, second.reused],
          ['/1', false, '/2', true],
        );
        assert.equal(first.echo.headers['x-forwarded-proto'], 'https');
        // Another server name does not match the SNI route (which strips its path): the catch-all one does.
        const other = await new Promise<Echo>((resolve, reject) => {
          const req = httpsRequest(
            {
              host: '127.0.0.1',
              port: proxy!.port,
              path: '/by-sni/3',
              servername: 'other.test',
              rejectUnauthorized: false,
            },
            (res) => {
              let text = '';
              res.on('data', (c: Buffer) => (text += c.toString()));
              res.on('end', () => resolve(JSON.parse(text) as Echo));
            },
          );
          req.on('error', reject);
          req.end();
        });
        assert.equal(other.url, '/by-sni/3');
      } finally {
        agent.destroy();
      }
    });

    it('proxies HTTP/2 requests on an http2 listener to an HTTP/1.1 upstream', async () => {
      proxy = await startTestProxy({
        config: serviceConfig({ host: '127.0.0.1', port: upstream.port }),
        tls: { cert: fallback.certPem, key: fallback.keyPem },
        http2: true,
      });
      const session = connectHttp2(`https://127.0.0.1:${proxy.port}`, { rejectUnauthorized: false });
      try {
        const stream = session.request({ ':method': 'POST', ':path': '/h2?x=1' });
        stream.end('h2 body');
        const status = new Promise<unknown>((resolve) =>
          stream.once('response', (h) => resolve(h[':status'])),
        );
        let text = '';
        stream.on('data', (c: Buffer) => (text += c.toString()));
        await new Promise((resolve) => stream.once('end', resolve));
        assert.equal(await status, 200);
        const echo = JSON.parse(text) as Echo;
        assert.deepEqual([echo.method, echo.url, echo.body], ['POST', '/h2?x=1', 'h2 body']);
        assert.equal(echo.headers['x-forwarded-proto'], 'https');
        assert.ok(!echo.rawHeaders.some((name) => name.startsWith(':')), 'pseudo-headers are not forwarded');
      } finally {
        session.close();
      }
    });
  });
});
