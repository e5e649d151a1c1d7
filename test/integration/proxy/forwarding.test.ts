// The proxy request path on a real listener: routing answers, forwarding of method/path/query/body, and
// Kong's header handling (X-Forwarded-*, Via, hop-by-hop, preserve_host, latency headers).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import {
  send,
  serviceConfig,
  proxySuite,
  startUpstream,
  type Echo,
  type TestProxy,
} from '../../helpers/proxy.js';

describe('proxy: forwarding', () => {
  const { upstream, startProxy } = proxySuite();
  let proxy: TestProxy;

  it('answers Kong 404 with no configuration and for unmatched requests', async () => {
    proxy = await startProxy();
    const empty = await send(proxy.port, { path: '/anything' });
    assert.equal(empty.status, 404);
    assert.equal(empty.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(JSON.parse(empty.text), { message: 'no Route matched with those values' });
    assert.equal(empty.headers.server, 'hybrid/0.1.0');
    assert.match(String(empty.headers['x-kong-response-latency']), /^\d+$/);

    await proxy.proxy.apply(serviceConfig({ host: '127.0.0.1', port: upstream.port }, [{ paths: ['/api'] }]));
    const unmatched = await send(proxy.port, { path: '/other' });
    assert.equal(unmatched.status, 404);
    assert.deepEqual(JSON.parse(unmatched.text), { message: 'no Route matched with those values' });
  });

  it('forwards method, path, query and body', async () => {
    proxy = await startProxy({
      config: serviceConfig({ host: '127.0.0.1', port: upstream.port }, [{ paths: ['/api'] }]),
    });
    const reply = await send(proxy.port, {
      method: 'PUT',
      path: '/api/items/7?x=1&y=%20two&x=3',
      headers: { 'content-type': 'text/plain', 'x-custom': 'kept' },
      body: 'hello body',
    });
    assert.equal(reply.status, 200);
    const echo = JSON.parse(reply.text) as Echo;
    assert.equal(echo.method, 'PUT');
    assert.equal(echo.url, '/api/items/7?x=1&y=%20two&x=3');
    assert.equal(echo.body, 'hello body');
    assert.equal(echo.headers['x-custom'], 'kept');
    assert.equal(echo.headers['content-type'], 'text/plain');
    // An empty query is kept as Kong keeps it.
    const emptyQuery = JSON.parse((await send(proxy.port, { path: '/api?' })).text) as Echo;
    assert.equal(emptyQuery.url, '/api?');
  });

  it('forwards a chunked request body (no Content-Length) as it streams', async () => {
    proxy = await startProxy({ config: serviceConfig({ host: '127.0.0.1', port: upstream.port }) });
    const echo = await new Promise<Echo>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: proxy.port,
        method: 'POST',
        path: '/chunked',
        agent: false,
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve(JSON.parse(text) as Echo));
      });
      req.on('error', reject);
      req.write('part one, ');
      setImmediate(() => req.end('part two'));
    });
    assert.equal(echo.body, 'part one, part two');
    assert.equal(echo.headers['transfer-encoding'], 'chunked');
  });

  it('sends the stripped path under the service path', async () => {
    proxy = await startProxy({
      config: serviceConfig({ host: '127.0.0.1', port: upstream.port, path: '/base' }, [
        { paths: ['/api'], strip_path: true },
      ]),
    });
    const echo = JSON.parse((await send(proxy.port, { path: '/api/users?id=2' })).text) as Echo;
    assert.equal(echo.url, '/base/users?id=2');
  });

  it('answers 503 for a route without a service, 426 or a redirect for https-only routes on http', async () => {
    const config = serviceConfig({ host: '127.0.0.1', port: upstream.port }, [
      { paths: ['/secure'], protocols: ['https'] },
      { paths: ['/moved'], protocols: ['https'], https_redirect_status_code: 301 },
    ]);
    config.routes!.push({
      id: 'no-svc',
      protocols: ['http'],
      paths: ['/orphan'],
      strip_path: false,
      preserve_host: false,
    });
    proxy = await startProxy({ config });

    const orphan = await send(proxy.port, { path: '/orphan' });
    assert.equal(orphan.status, 503);
    assert.deepEqual(JSON.parse(orphan.text), { message: 'no Service found with those values' });

    const secure = await send(proxy.port, { path: '/secure', headers: { host: 'example.com' } });
    assert.equal(secure.status, 426);
    assert.deepEqual(JSON.parse(secure.text), { message: 'Please use HTTPS protocol' });
    assert.equal(secure.headers.upgrade, 'TLS/1.2, HTTP/1.1');
    assert.match(String(secure.headers.connection), /upgrade/i);

    const moved = await send(proxy.port, { path: '/moved?a=1', headers: { host: 'example.com:8000' } });
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.location, 'https://example.com/moved?a=1');
  });

  it('sets X-Forwarded-*, X-Real-IP and Via upstream, ignoring an untrusted client’s own', async () => {
    proxy = await startProxy({
      config: serviceConfig({ host: '127.0.0.1', port: upstream.port }, [{ paths: ['/'] }]),
    });
    const reply = await send(proxy.port, {
      path: '/p/q?z=1',
      headers: {
        host: 'api.example.com:9999',
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-port': '1',
        'x-real-ip': '198.51.100.1',
        via: '1.0 corp-proxy',
      },
    });
    const echo = JSON.parse(reply.text) as Echo;
    assert.equal(echo.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(echo.headers['x-forwarded-proto'], 'http');
    assert.equal(echo.headers['x-forwarded-host'], 'api.example.com');
    assert.equal(echo.headers['x-forwarded-port'], '9999');
    assert.equal(echo.headers['x-forwarded-path'], '/p/q');
    assert.equal(echo.headers['x-real-ip'], '127.0.0.1');
    assert.equal(echo.headers.via, '1.0 corp-proxy, 1.1 hybrid/0.1.0');
    assert.equal(echo.headers.host, `127.0.0.1:${upstream.port}`);
    assert.match(String(echo.headers['x-kong-request-id']), /^[0-9a-f]{32}$/);
    assert.equal(reply.headers['x-kong-request-id'], echo.headers['x-kong-request-id']);
    assert.equal(reply.headers.via, '1.1 hybrid/0.1.0');
    assert.match(String(reply.headers['x-kong-upstream-latency']), /^\d+$/);
    assert.match(String(reply.headers['x-kong-proxy-latency']), /^\d+$/);
    // Each header appears once: the client's copies were replaced, not duplicated.
    const names = echo.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    for (const name of ['x-forwarded-proto', 'x-forwarded-host', 'x-real-ip', 'via', 'host']) {
      assert.equal(names.filter((n) => n === name).length, 1, name);
    }
  });

  it('keeps X-Forwarded-* and takes the real IP from a trusted client', async () => {
    proxy = await startProxy({
      config: serviceConfig({ host: '127.0.0.1', port: upstream.port }),
      settings: { trusted_ips: ['127.0.0.0/8'] },
    });
    const echo = JSON.parse(
      (
        await send(proxy.port, {
          path: '/x',
          headers: {
            'x-forwarded-for': '203.0.113.9',
            'x-forwarded-proto': 'https',
            'x-forwarded-host': 'public.example',
            'x-forwarded-port': '443',
            'x-forwarded-path': '/public/x',
            'x-forwarded-prefix': '/public',
            'x-real-ip': '198.51.100.1',
          },
        })
      ).text,
    ) as Echo;
    assert.equal(echo.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(echo.headers['x-forwarded-proto'], 'https');
    assert.equal(echo.headers['x-forwarded-host'], 'public.example');
    assert.equal(echo.headers['x-forwarded-port'], '443');
    assert.equal(echo.headers['x-forwarded-path'], '/public/x');
    assert.equal(echo.headers['x-forwarded-prefix'], '/public');
    assert.equal(echo.headers['x-real-ip'], '198.51.100.1');
  });

  it('preserves the client Host with preserve_host', async () => {
    proxy = await startProxy({
      config: serviceConfig({ host: '127.0.0.1', port: upstream.port }, [
        { paths: ['/'], preserve_host: true },
      ]),
    });
    const echo = JSON.parse(
      (await send(proxy.port, { headers: { host: 'Client.Example:8000' } })).text,
    ) as Echo;
    assert.equal(echo.headers.host, 'Client.Example:8000');
  });

  it('removes hop-by-hop headers both ways, including those Connection names', async () => {
    const hop = await startUpstream((req, res) => {
      res.writeHead(200, {
        connection: 'keep-alive, x-up-hop',
        'keep-alive': 'timeout=5',
        'x-up-hop': 'secret',
        'proxy-authenticate': 'Basic',
        'x-up-kept': 'yes',
        'content-type': 'application/json',
      });
      res.end(JSON.stringify(req.headers));
    });
    try {
      proxy = await startProxy({ config: serviceConfig({ host: '127.0.0.1', port: hop.port }) });
      const reply = await new Promise<{ headers: Record<string, unknown>; body: Record<string, string> }>(
        (resolve, reject) => {
          // Raw headers: node's client would not send some of these by itself.
          const req = request({
            host: '127.0.0.1',
            port: proxy.port,
            path: '/',
            agent: false,
            headers: {
              connection: 'keep-alive, x-client-hop',
              'keep-alive': 'timeout=5',
              'x-client-hop': 'gone',
              te: 'trailers',
              'proxy-connection': 'keep-alive',
              'proxy-authorization': 'Basic Zm9v',
              'x-client-kept': 'yes',
            },
          });
          req.on('response', (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () =>
              resolve({ headers: res.headers, body: JSON.parse(text) as Record<string, string> }),
            );
          });
          req.on('error', reject);
          req.end();
        },
      );
      for (const name of ['x-client-hop', 'te', 'proxy-connection', 'proxy-authorization', 'keep-alive']) {
        assert.ok(!(name in reply.body), name);
      }
      assert.equal(reply.body['x-client-kept'], 'yes');
      assert.equal(reply.body.connection, 'keep-alive');
      assert.ok(!('x-up-hop' in reply.headers), 'x-up-hop');
      assert.ok(!('proxy-authenticate' in reply.headers), 'proxy-authenticate');
      assert.equal(reply.headers['x-up-kept'], 'yes');
    } finally {
      await hop.close();
    }
  });

  it('adds no informational headers with headers=off', async () => {
    proxy = await startProxy({
      config: serviceConfig({ host: '127.0.0.1', port: upstream.port }, [{ paths: ['/api'] }]),
      settings: { headers: ['off'] },
    });
    const proxied = await send(proxy.port, { path: '/api' });
    const echo = JSON.parse(proxied.text) as Echo;
    assert.ok(!('via' in echo.headers), 'via');
    assert.ok(!('x-kong-request-id' in echo.headers), 'x-kong-request-id');
    for (const name of ['via', 'x-kong-upstream-latency', 'x-kong-proxy-latency', 'x-kong-request-id']) {
      assert.ok(!(name in proxied.headers), name);
    }
    const own = await send(proxy.port, { path: '/none' });
    assert.ok(!('server' in own.headers), 'server');
    assert.ok(!('x-kong-response-latency' in own.headers), 'x-kong-response-latency');
  });
});
