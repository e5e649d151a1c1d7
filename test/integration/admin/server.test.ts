// startAdminApi itself: listeners (several, ssl, taken ports), roles, and routes added by other subsystems.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { startAdminApi, ok } from '../../../src/core/admin/index.js';
import { HybridError } from '../../../src/core/errors.js';
import { adminEngines, openTestStore, startTestAdmin, testCertificate } from '../../helpers/admin.js';
import { httpClient } from '../../helpers/http.js';
import type { Store } from '../../../src/core/store/index.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const engine = adminEngines()[0] ?? 'sqlite';

describe(`startAdminApi (${engine})`, function () {
  this.timeout(30_000);
  let store: Store;
  let closeStore: () => Promise<void>;
  before(async () => ({ store, close: closeStore } = await openTestStore(engine)));
  after(() => closeStore?.());

  it('binds every listen address and reports them; close() frees them', async () => {
    const lines: string[] = [];
    const access: string[] = [];
    const api = await startAdminApi({
      store,
      listen: [
        { host: '127.0.0.1', port: 0 },
        { host: '127.0.0.1', port: 0 },
      ],
      log: { ...quiet, info: (m) => lines.push(m) },
      accessLog: (line) => access.push(line),
    });
    assert.equal(api.addresses.length, 2);
    for (const address of api.addresses) {
      assert.match(address.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${address.url}/status`);
      assert.equal(res.status, 200);
    }
    assert.match(
      lines.join('\n'),
      /listening on http:\/\/127\.0\.0\.1:\d+, http:\/\/127\.0\.0\.1:\d+ \(role traditional\)/,
    );
    assert.equal(access.length, 2);
    assert.match(access[0]!, /^127\.0\.0\.1 - - \[.+\] "GET \/status HTTP\/1\.1" 200 \d+ "-" "/);
    await api.close();
    await api.close();
    await assert.rejects(fetch(`${api.addresses[0]!.url}/status`));
  });

  it('refuses a taken port with a clear error, leaving nothing bound', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(
        startAdminApi({
          store,
          listen: [
            { host: '127.0.0.1', port: 0 },
            { host: '127.0.0.1', port },
          ],
          log: quiet,
        }),
        (err: unknown) =>
          err instanceof HybridError &&
          err.code === 'listen_failed' &&
          err.message === `admin could not listen on 127.0.0.1:${port}: address already in use` &&
          /Another process holds that port/.test(err.hint ?? ''),
      );
    } finally {
      blocker.close();
    }
  });

  it('needs a certificate for an ssl listener, and serves HTTPS with one', async () => {
    await assert.rejects(
      startAdminApi({ store, listen: [{ host: '127.0.0.1', port: 0, ssl: true }], log: quiet }),
      (err: unknown) => err instanceof HybridError && err.code === 'admin_ssl_missing',
    );
    const { cert, key } = await testCertificate();
    const api = await startAdminApi({
      store,
      listen: [{ host: '127.0.0.1', port: 0, ssl: true }],
      tls: { cert, key },
      log: quiet,
    });
    try {
      assert.match(api.addresses[0]!.url, /^https:\/\//);
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest(`${api.addresses[0]!.url}/status`, { rejectUnauthorized: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 200);
    } finally {
      await api.close();
    }
  });

  it('serves routes added by other subsystems, at start and later, and lists them at /endpoints', async () => {
    const api = await startAdminApi({
      store,
      listen: [{ host: '127.0.0.1', port: 0 }],
      role: 'control_plane',
      log: quiet,
      routes: [
        { method: 'GET', path: '/clustering/data-planes', handler: () => ok({ data: [], next: null }) },
      ],
    });
    const http = httpClient(api.addresses[0]!.url);
    try {
      assert.deepEqual((await http.get('/clustering/data-planes')).json, { data: [], next: null });
      api.register({ method: 'GET', path: '/clustering/status', handler: () => ok({ ok: true }) });
      assert.deepEqual((await http.get('/clustering/status')).json, { ok: true });
      const endpoints = (await http.get('/endpoints')).json as { data: string[] };
      for (const path of [
        '/clustering/data-planes',
        '/services/{key}',
        '/services/{parent}/routes',
        '/tags/{tag}',
      ])
        assert.ok(endpoints.data.includes(path), path);
      assert.throws(
        () => api.register({ method: 'GET', path: '/services', handler: () => ok({}) }),
        /already registered/,
      );
    } finally {
      http.close();
      await api.close();
    }
  });
});

for (const role of ['data_plane', 'traditional'] as const) {
  describe(`Admin API on a ${role} node (${engine})`, function () {
    this.timeout(30_000);
    it(
      role === 'data_plane'
        ? 'refuses every write with 405, serves reads'
        : 'answers /clustering/data-planes with 400',
      async () => {
        const t = await startTestAdmin(engine, role);
        try {
          const data = await t.http.get('/clustering/data-planes');
          assert.equal(data.status, 400);
          assert.match((data.json as { message: string }).message, /only available on a control plane/);
          if (role !== 'data_plane') return;
          await t.store.insert('services', { name: 'from-cp', host: 'cp.example' });
          const before = await t.store.snapshot();
          const refused = await t.http.curl('POST', '/services', 'name=x', 'url=http://x.example');
          assert.equal(refused.status, 405);
          assert.deepEqual(refused.json, {
            code: 12,
            name: 'operation unsupported',
            message: "cannot create 'services' entities when not using a database",
          });
          assert.equal((await t.http.patch('/services/from-cp', { retries: 1 })).status, 405);
          assert.equal((await t.http.put('/services/from-cp', { host: 'y' })).status, 405);
          assert.equal((await t.http.delete('/services/from-cp')).status, 405);
          assert.equal((await t.http.post('/services/from-cp/routes', { paths: ['/'] })).status, 405);
          assert.deepEqual((await t.store.snapshot()).entities, before.entities);
          assert.equal(((await t.http.get('/services/from-cp')).json as { name: string }).name, 'from-cp');
        } finally {
          await t.stop();
        }
      },
    );
  });
}
