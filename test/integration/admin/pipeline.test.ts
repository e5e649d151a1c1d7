// The HTTP pipeline over real sockets: routing, 404/405/415/413, bodies, HEAD/OPTIONS, data plane refusals.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdminApp, type AdminLogger, type NodeRole } from '../../../src/core/admin/app.js';
import { ok } from '../../../src/core/admin/responses.js';

const quiet: AdminLogger = { info: () => {}, warn: () => {}, error: () => {} };

async function serve(role: NodeRole, errors: string[] = []): Promise<{ base: string; server: Server }> {
  const app = new AdminApp({
    role,
    maxBodyBytes: 1024,
    log: { ...quiet, error: (m) => errors.push(m) },
    serverHeader: 'hybrid/test',
  });
  // An echo route shows what a handler receives; a failing one shows what a bug turns into.
  for (const method of ['POST', 'PUT', 'PATCH', 'GET', 'DELETE'] as const)
    app.register({
      method,
      path: '/echo/:name',
      entity: 'echoes',
      handler: (req) => ok({ method: req.method, params: req.params, args: req.args, kind: req.bodyKind }),
    });
  app.register({ method: 'GET', path: '/echo/fixed', handler: () => ok({ fixed: true }) });
  app.register({
    method: 'POST',
    path: '/local-action',
    allowOnDataPlane: true,
    handler: () => ok({ done: true }),
  });
  app.register({
    method: 'POST',
    path: '/boom',
    handler: () => {
      throw new Error('bug after the body was read');
    },
  });
  app.register({
    method: 'GET',
    path: '/boom',
    handler: () => {
      throw new Error('bug');
    },
  });
  const server = createServer(app.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe('admin HTTP pipeline', () => {
  let base: string;
  let server: Server;
  const errors: string[] = [];
  before(async () => ({ base, server } = await serve('control_plane', errors)));
  after(() => close(server));

  it('routes with parameters and answers JSON with Kong-like headers', async () => {
    const res = await fetch(`${base}/echo/a%20b`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(res.headers.get('server'), 'hybrid/test');
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(await res.json(), { method: 'GET', params: { name: 'a b' }, args: {}, kind: 'empty' });
  });

  it('lets literal routes win over parameters', async () => {
    assert.deepEqual(await (await fetch(`${base}/echo/fixed`)).json(), { fixed: true });
  });

  it('answers 404 {"message":"Not found"} for unknown paths', async () => {
    const res = await fetch(`${base}/nowhere/at/all`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { message: 'Not found' });
  });

  it('answers 405 {"message":"Method not allowed"} with an Allow header', async () => {
    const res = await fetch(`${base}/echo/fixed`, { method: 'DELETE' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET');
    assert.deepEqual(await res.json(), { message: 'Method not allowed' });
  });

  it('answers OPTIONS with the allowed methods and HEAD like GET without a body', async () => {
    const options = await fetch(`${base}/echo/x`, { method: 'OPTIONS' });
    assert.equal(options.status, 204);
    assert.equal(options.headers.get('allow'), 'GET, POST, PUT, PATCH, DELETE, OPTIONS');
    const head = await fetch(`${base}/echo/x`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  it('decodes JSON, urlencoded and multipart bodies', async () => {
    const json = await fetch(`${base}/echo/x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ paths: ['/a'] }),
    });
    assert.deepEqual(((await json.json()) as { args: unknown }).args, { paths: ['/a'] });

    const form = await fetch(`${base}/echo/x`, {
      method: 'PATCH',
      body: new URLSearchParams([
        ['paths[]', '/a'],
        ['paths[]', '/b'],
        ['config.minute', '5'],
      ]),
    });
    assert.deepEqual(await form.json(), {
      method: 'PATCH',
      params: { name: 'x' },
      args: { paths: ['/a', '/b'], config: { minute: '5' } },
      kind: 'form',
    });

    const multipart = new FormData();
    multipart.append('name', 'n1');
    multipart.append('cert', new Blob(['PEM DATA']), 'cert.pem');
    const mp = await fetch(`${base}/echo/x`, { method: 'PUT', body: multipart });
    assert.deepEqual(((await mp.json()) as { args: unknown }).args, { name: 'n1', cert: 'PEM DATA' });
  });

  it("answers Kong's 400 for a JSON body it cannot parse, and 415 for other media types", async () => {
    const bad = await fetch(`${base}/echo/x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name": ',
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), { message: 'Cannot parse JSON body' });
    const xml = await fetch(`${base}/echo/x`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: '<a/>',
    });
    assert.equal(xml.status, 415);
    assert.deepEqual(await xml.json(), { message: 'Unsupported Media Type' });
  });

  it('refuses bodies over the limit with 413 and keeps serving', async () => {
    const res = await fetch(`${base}/echo/x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ v: 'x'.repeat(4096) }),
    }).catch((err: Error) => err);
    if (!(res instanceof Error)) assert.equal(res.status, 413);
    assert.equal((await fetch(`${base}/echo/fixed`)).status, 200);
  });

  it('turns a handler bug into a logged 500 and keeps serving', async () => {
    const res = await fetch(`${base}/boom`);
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { message: 'An unexpected error occurred' });
    assert.match(errors.join('\n'), /GET \/boom failed: Error: bug/);
    assert.equal((await fetch(`${base}/echo/fixed`)).status, 200);
  });

  it('answers a failure that happens after the body was read', async () => {
    const res = await fetch(`${base}/boom`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 500);
  });
});

describe('admin HTTP pipeline on a data plane', () => {
  let base: string;
  let server: Server;
  before(async () => ({ base, server } = await serve('data_plane')));
  after(() => close(server));

  it('refuses every write with 405 and says why, before reading the body', async () => {
    for (const [method, verb] of [
      ['POST', 'create'],
      ['PUT', 'create or update'],
      ['PATCH', 'update'],
      ['DELETE', 'remove'],
    ] as const) {
      const res = await fetch(`${base}/echo/x`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: method === 'DELETE' ? undefined : 'not even json',
      });
      assert.equal(res.status, 405, method);
      assert.deepEqual(await res.json(), {
        code: 12,
        name: 'operation unsupported',
        message: `cannot ${verb} 'echoes' entities when not using a database`,
      });
    }
  });

  it('still serves reads, and writes a route explicitly allows', async () => {
    assert.equal((await fetch(`${base}/echo/x`)).status, 200);
    assert.equal((await fetch(`${base}/local-action`, { method: 'POST' })).status, 200);
  });
});
