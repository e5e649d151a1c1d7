// request-size-limiting through a real proxy: Content-Length over the limit (413, 417 with Expect), chunked
// bodies counted as they stream, require_content_length (411), size units, scoping, config validation.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { BUNDLED_HANDLERS } from '../../../src/core/plugins/handlers.js';
import { schema } from '../../../src/core/plugins/request-size-limiting/schema.js';
import { validate } from '../../../src/core/schema/schema.js';
import {
  send,
  serviceConfig,
  proxySuite,
  type Reply,
  type TestProxy,
  pluginEntity,
} from '../../helpers/proxy.js';

const EXCEEDED = { message: 'Request size limit exceeded' };

/** Sends a chunked body in `chunks` pieces of `size` bytes (no Content-Length). */
function sendChunked(port: number, path: string, chunks: number, size: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, agent: false });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    // The proxy may answer and close before every chunk went out.
    req.on('error', (err: Error & { code?: string }) => (err.code === 'EPIPE' ? undefined : reject(err)));
    let sent = 0;
    const piece = Buffer.alloc(size, 120);
    const next = () => {
      if (sent === chunks || req.destroyed) return void req.end();
      sent++;
      if (req.write(piece)) setImmediate(next);
      else req.once('drain', next);
    };
    next();
  });
}

describe('plugin: request-size-limiting', () => {
  const { upstream, startProxy } = proxySuite();
  let proxy: TestProxy;
  let upstreamBytes = 0;

  before(() => {
    upstream.server.on('request', (req) => req.on('data', (c: Buffer) => (upstreamBytes += c.length)));
  });

  const start = async (config: Record<string, unknown>, scope: Record<string, unknown> = {}) =>
    (proxy = await startProxy({
      plugins: BUNDLED_HANDLERS,
      config: serviceConfig(
        { host: '127.0.0.1', port: upstream.port },
        [
          { id: 'route-1', paths: ['/limited'] },
          { id: 'route-2', paths: ['/free'] },
        ],
        {
          plugins: [pluginEntity('request-size-limiting', config, scope)],
        },
      ),
    }));

  it('refuses a Content-Length over the limit with 413 (417 when the client expects 100-continue)', async () => {
    await start({ allowed_payload_size: 10, size_unit: 'bytes' });
    const ok = await send(proxy.port, { method: 'POST', path: '/limited', body: '0123456789' });
    assert.equal(ok.status, 200);
    const over = await send(proxy.port, { method: 'POST', path: '/limited', body: '0123456789x' });
    assert.equal(over.status, 413);
    assert.deepEqual(JSON.parse(over.text), EXCEEDED);
    const expecting = await send(proxy.port, {
      method: 'POST',
      path: '/limited',
      headers: { expect: '100-continue', 'content-length': '11' },
      body: '0123456789x',
    });
    assert.equal(expecting.status, 417);
  });

  it('counts a chunked body as it streams and answers 413 once it passes the limit', async () => {
    await start({ allowed_payload_size: 64, size_unit: 'kilobytes' });
    upstreamBytes = 0;
    const small = await sendChunked(proxy.port, '/limited', 4, 1024);
    assert.equal(small.status, 200);
    const big = await sendChunked(proxy.port, '/limited', 400, 1024);
    assert.equal(big.status, 413);
    assert.deepEqual(JSON.parse(big.text), EXCEEDED);
    assert.equal(big.headers.connection, 'close');
    // The upstream saw at most the limit of the big body (plus the small one), never all 400 KiB.
    assert.ok(upstreamBytes <= 4 * 1024 + 64 * 1024 + 16 * 1024, `upstream got ${upstreamBytes} bytes`);
    // The proxy keeps serving.
    assert.equal((await send(proxy.port, { path: '/limited' })).status, 200);
  });

  it('require_content_length: 411 without Content-Length unless the body is chunked', async () => {
    await start({ require_content_length: true });
    const none = await send(proxy.port, { path: '/limited' });
    assert.equal(none.status, 411);
    assert.deepEqual(JSON.parse(none.text), { message: 'A valid Content-Length header is required' });
    assert.equal((await send(proxy.port, { method: 'POST', path: '/limited', body: 'x' })).status, 200);
    assert.equal((await sendChunked(proxy.port, '/limited', 2, 10)).status, 200);
  });

  it('megabytes by default (128 MB); scoped to a route it leaves other routes alone', async () => {
    await start({ allowed_payload_size: 1 }, { route: { id: 'route-1' } });
    const big = Buffer.alloc(1024 * 1024 + 1, 97);
    assert.equal((await send(proxy.port, { method: 'POST', path: '/limited', body: big })).status, 413);
    assert.equal((await send(proxy.port, { method: 'POST', path: '/free', body: big })).status, 200);
  });

  it('validates its config as Kong does', () => {
    const fields = { name: schema.name, fields: schema.config };
    const defaults = validate(fields, {});
    assert.ok(defaults.ok);
    assert.deepEqual(defaults.value, {
      allowed_payload_size: 128,
      size_unit: 'megabytes',
      require_content_length: false,
    });
    const bad = validate(fields, { size_unit: 'gigabytes', allowed_payload_size: 1.5 });
    assert.ok(!bad.ok);
    assert.equal(bad.errors.size_unit, 'expected one of: megabytes, kilobytes, bytes');
    assert.equal(bad.errors.allowed_payload_size, 'expected an integer');
  });
});
