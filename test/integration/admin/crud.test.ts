// Entity CRUD over HTTP against a real store: status codes, Kong's error bodies, upserts, nesting, cascades.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { adminEngines, startTestAdmin, testCertificate, type TestAdmin } from '../../helpers/admin.js';

type Row = Record<string, unknown> & { id: string };
type Page = { data: Row[]; next: string | null; offset?: string };

for (const engine of adminEngines()) {
  describe(`Admin API entities (${engine})`, function () {
    this.timeout(30_000);
    let t: TestAdmin;
    before(async () => (t = await startTestAdmin(engine)));
    after(() => t?.stop());

    /** A rejected request must leave the store exactly as it was. */
    async function unchangedBy(action: () => Promise<void>): Promise<void> {
      const before = await t.store.snapshot();
      await action();
      const after = await t.store.snapshot();
      assert.equal(after.version, before.version, 'config version moved');
      assert.deepEqual(after.entities, before.entities);
    }

    describe('per entity: create, read by id and name, update, replace, delete', () => {
      const cases: Array<{
        path: string;
        create: () => Record<string, unknown> | Promise<Record<string, unknown>>;
        key?: string;
        patch: Record<string, unknown>;
      }> = [
        {
          path: '/services',
          create: () => ({ name: 'crud-svc', url: 'http://up.example:8080/p' }),
          key: 'name',
          patch: { retries: 9 },
        },
        {
          path: '/consumers',
          create: () => ({ username: 'crud-user', custom_id: 'c-1' }),
          key: 'username',
          patch: { custom_id: 'c-2' },
        },
        { path: '/upstreams', create: () => ({ name: 'crud-up' }), key: 'name', patch: { slots: 20 } },
        {
          path: '/ca_certificates',
          create: async () => ({ cert: (await testCertificate()).ca }),
          patch: { tags: ['ca'] },
        },
        {
          path: '/certificates',
          create: async () => {
            const { cert, key } = await testCertificate();
            return { cert, key };
          },
          patch: { tags: ['edge'] },
        },
      ];

      for (const c of cases) {
        it(`${c.path}`, async () => {
          const created = await t.http.post(c.path, await c.create());
          assert.equal(created.status, 201, created.text);
          const row = created.json as Row;
          assert.match(row.id, /^[0-9a-f-]{36}$/);
          assert.equal(typeof row.created_at, 'number');

          assert.deepEqual((await t.http.get(`${c.path}/${row.id}`)).json, row);
          if (c.key) {
            const byName = await t.http.get(`${c.path}/${encodeURIComponent(String(row[c.key]))}`);
            assert.equal(byName.status, 200);
            assert.equal((byName.json as Row).id, row.id);
          }

          const patched = await t.http.patch(`${c.path}/${row.id}`, c.patch);
          assert.equal(patched.status, 200, patched.text);
          for (const [k, v] of Object.entries(c.patch)) assert.deepEqual((patched.json as Row)[k], v);

          const replaced = await t.http.put(`${c.path}/${row.id}`, await c.create());
          assert.equal(replaced.status, 200, replaced.text);
          assert.equal((replaced.json as Row).id, row.id);

          const listed = (await t.http.get(c.path)).json as Page;
          assert.ok(listed.data.some((r) => r.id === row.id));
          assert.equal(listed.next, null);

          const deleted = await t.http.delete(`${c.path}/${row.id}`);
          assert.equal(deleted.status, 204);
          assert.equal(deleted.text, '');
          const gone = await t.http.get(`${c.path}/${row.id}`);
          assert.equal(gone.status, 404);
          assert.deepEqual(gone.json, { message: 'Not found' });
          // Deleting what is not there is not an error, as in Kong.
          assert.equal((await t.http.delete(`${c.path}/${row.id}`)).status, 204);
        });
      }

      it('/routes, /plugins, /snis, /key-auths, targets: children reached through their parents', async () => {
        const svc = (await t.http.post('/services', { name: 'kids', host: 'kids.example' })).json as Row;
        const route = await t.http.post('/routes', {
          name: 'kid-route',
          paths: ['/kid'],
          service: { id: svc.id },
        });
        assert.equal(route.status, 201, route.text);
        const routeId = (route.json as Row).id;
        assert.equal((await t.http.get('/routes/kid-route')).status, 200);
        assert.deepEqual(((await t.http.get(`/routes/${routeId}/service`)).json as Row).id, svc.id);

        const plugin = await t.http.post(`/routes/${routeId}/plugins`, { name: 'cors' });
        assert.equal(plugin.status, 201, plugin.text);
        const pluginId = (plugin.json as Row).id;
        assert.equal((await t.http.get(`/routes/kid-route/plugins/${pluginId}`)).status, 200);
        assert.equal((await t.http.get(`/services/kids/plugins/${pluginId}`)).status, 404);
        assert.equal(((await t.http.get(`/plugins/${pluginId}/route`)).json as Row).id, routeId);
        const patched = await t.http.patch(`/plugins/${pluginId}`, { config: { max_age: 60 } });
        assert.equal(patched.status, 200, patched.text);
        assert.equal((patched.json as { config: { max_age: number } }).config.max_age, 60);

        const { cert, key } = await testCertificate();
        const certificate = (await t.http.post('/certificates', { cert, key })).json as Row;
        const sni = await t.http.post(`/certificates/${certificate.id}/snis`, { name: 'kids.example.com' });
        assert.equal(sni.status, 201, sni.text);
        assert.equal((await t.http.get('/snis/kids.example.com')).status, 200);
        assert.equal(
          ((await t.http.get('/snis/kids.example.com/certificate')).json as Row).id,
          certificate.id,
        );
        assert.equal(
          ((await t.http.get(`/certificates/${certificate.id}/snis`)).json as Page).data.length,
          1,
        );
        // Kong names a certificate by any of its SNIs too.
        assert.equal(((await t.http.get('/certificates/kids.example.com')).json as Row).id, certificate.id);
        const tagged = await t.http.patch('/certificates/kids.example.com', { tags: ['by-sni'] });
        assert.deepEqual((tagged.json as Row).tags, ['by-sni']);

        const consumer = (await t.http.post('/consumers', { username: 'kid' })).json as Row;
        const cred = await t.http.post('/consumers/kid/key-auth', { key: 'kid-key' });
        assert.equal(cred.status, 201, cred.text);
        assert.equal(((await t.http.get('/key-auths/kid-key')).json as Row).id, (cred.json as Row).id);
        assert.equal(
          ((await t.http.get(`/key-auths/${(cred.json as Row).id}/consumer`)).json as Row).id,
          consumer.id,
        );

        const up = (await t.http.post('/upstreams', { name: 'kid-up' })).json as Row;
        const target = await t.http.post(`/upstreams/${up.id}/targets`, {
          target: '10.0.0.1:80',
          weight: 50,
        });
        assert.equal(target.status, 201, target.text);
        assert.equal((await t.http.get('/targets')).status, 404);
        const tp = await t.http.patch('/upstreams/kid-up/targets/10.0.0.1:80', { weight: 5 });
        assert.equal(tp.status, 200, tp.text);
        assert.equal((tp.json as Row).weight, 5);
        assert.equal((await t.http.delete('/upstreams/kid-up/targets/10.0.0.1:80')).status, 204);
        assert.equal((await t.http.get('/upstreams/kid-up/targets/10.0.0.1:80')).status, 404);
      });
    });

    describe('errors in Kong’s shapes', () => {
      it('400 schema violation with fields, and nothing written', async () => {
        await unchangedBy(async () => {
          const res = await t.http.post('/services', {
            name: 'bad',
            host: 'ok.example',
            port: 'eighty',
            nope: 1,
          });
          assert.equal(res.status, 400);
          const body = res.json as {
            code: number;
            name: string;
            message: string;
            fields: Record<string, unknown>;
          };
          assert.equal(body.code, 2);
          assert.equal(body.name, 'schema violation');
          assert.match(body.message, /schema violations? \(/);
          assert.equal(body.fields.port, 'expected an integer');
          assert.equal(body.fields.nope, 'unknown field');
        });
      });

      it('409 unique violation, and nothing written', async () => {
        assert.equal((await t.http.post('/consumers', { username: 'dup' })).status, 201);
        await unchangedBy(async () => {
          const res = await t.http.post('/consumers', { username: 'dup' });
          assert.equal(res.status, 409);
          assert.deepEqual(res.json, {
            code: 5,
            name: 'unique constraint violation',
            message: `UNIQUE violation detected on '{username="dup"}'`,
            fields: { username: 'dup' },
          });
        });
      });

      it('404 for a missing entity, a missing parent, and PATCH of nothing', async () => {
        assert.deepEqual((await t.http.get(`/services/${randomUUID()}`)).json, { message: 'Not found' });
        assert.equal((await t.http.get('/services/no-such-service/routes')).status, 404);
        await unchangedBy(async () => {
          assert.equal(
            (await t.http.post('/services/no-such-service/routes', { paths: ['/x'] })).status,
            404,
          );
          const patch = await t.http.patch(`/services/${randomUUID()}`, { retries: 1 });
          assert.equal(patch.status, 404);
        });
      });

      it('no 500 for NUL characters, which no field may hold and PostgreSQL cannot store', async () => {
        await unchangedBy(async () => {
          const body = await t.http.post('/consumers', { username: 'nul\u0000user' });
          assert.equal(body.status, 400, body.text);
          assert.equal((body.json as { name: string }).name, 'schema violation');
          assert.deepEqual((await t.http.get('/consumers/a%00b')).json, { message: 'Not found' });
          assert.equal((await t.http.put('/consumers/a%00b', { custom_id: 'x' })).status, 404);
        });
      });

      it('405 for a method the path does not allow', async () => {
        const res = await t.http.delete('/services');
        assert.equal(res.status, 405);
        assert.deepEqual(res.json, { message: 'Method not allowed' });
        assert.equal((await t.http.post('/services/x')).status, 405);
      });

      it('400 for JSON it cannot parse, 415 for other media types', async () => {
        await unchangedBy(async () => {
          const bad = await t.http.send({
            method: 'POST',
            path: '/services',
            headers: { 'content-type': 'application/json' },
            body: '{"name": "x",',
          });
          assert.equal(bad.status, 400);
          assert.deepEqual(bad.json, { message: 'Cannot parse JSON body' });
          const xml = await t.http.send({
            method: 'POST',
            path: '/services',
            headers: { 'content-type': 'text/xml' },
            body: '<service/>',
          });
          assert.equal(xml.status, 415);
        });
      });

      it('400 for a bad page size or offset', async () => {
        assert.deepEqual((await t.http.get('/services?size=0')).json, {
          code: 9,
          name: 'invalid size',
          message: 'size must be an integer between 1 and 1000',
        });
        assert.equal((await t.http.get('/services?size=abc')).status, 400);
        const offset = await t.http.get('/services?offset=garbage!!');
        assert.equal(offset.status, 400, offset.text);
        assert.equal((offset.json as { code: number }).code, 7);
        // A well-formed cursor around a value no id can be (PostgreSQL cannot even compare a NUL byte).
        for (const forged of ['\u0000', 'not-an-id', '']) {
          const cursor = Buffer.from(JSON.stringify([forged])).toString('base64url');
          const res = await t.http.get(`/services?offset=${cursor}`);
          assert.equal(res.status, 400, res.text);
          assert.equal((res.json as { name: string }).name, 'invalid offset');
        }
      });
    });

    describe('PUT upserts', () => {
      it('creates at a new id, then replaces at that id', async () => {
        const id = randomUUID();
        const first = await t.http.put(`/consumers/${id}`, { username: 'put-by-id' });
        assert.equal(first.status, 200, first.text);
        assert.equal((first.json as Row).id, id);
        const second = await t.http.put(`/consumers/${id}`, { username: 'put-by-id-2' });
        assert.equal((second.json as Row).username, 'put-by-id-2');
        assert.equal(((await t.http.get(`/consumers/${id}`)).json as Row).username, 'put-by-id-2');
      });

      it('creates at a new name, then replaces the whole entity at that name', async () => {
        const first = await t.http.put('/services/put-by-name', { host: 'a.example', retries: 3 });
        assert.equal(first.status, 200, first.text);
        assert.equal((first.json as Row).name, 'put-by-name');
        const second = await t.http.put('/services/put-by-name', { host: 'b.example' });
        assert.equal((second.json as Row).id, (first.json as Row).id);
        assert.equal((second.json as Row).host, 'b.example');
        assert.equal((second.json as Row).retries, 5, 'PUT replaces: unspecified fields return to defaults');
      });

      it('upserts a route nested under its service', async () => {
        const svc = (await t.http.post('/services', { name: 'put-parent', host: 'p.example' })).json as Row;
        const res = await t.http.put('/services/put-parent/routes/put-route', { paths: ['/put'] });
        assert.equal(res.status, 200, res.text);
        assert.deepEqual((res.json as Row).service, { id: svc.id });
      });
    });

    describe('pagination and tags', () => {
      before(async () => {
        for (let i = 0; i < 25; i++) {
          const tags = [`page`, i % 2 === 0 ? 'even' : 'odd', ...(i % 5 === 0 ? ['fifth'] : [])];
          const res = await t.http.post('/upstreams', { name: `page-${String(i).padStart(2, '0')}`, tags });
          assert.equal(res.status, 201, res.text);
        }
      });

      async function walk(first: string): Promise<{ rows: Row[]; pages: number }> {
        const rows: Row[] = [];
        let next: string | null = first;
        let pages = 0;
        while (next) {
          const res = await t.http.get(next);
          assert.equal(res.status, 200, res.text);
          const page = res.json as Page;
          rows.push(...page.data);
          pages++;
          if (page.next) assert.equal(typeof page.offset, 'string');
          next = page.next;
        }
        return { rows, pages };
      }

      it('follows next across pages, each row once, ending with next null', async () => {
        const { rows, pages } = await walk('/upstreams?tags=page&size=10');
        assert.equal(rows.length, 25);
        assert.equal(new Set(rows.map((r) => r.id)).size, 25);
        assert.equal(pages, 3);
      });

      it('filters a,b as AND and a/b as OR', async () => {
        const and = await walk('/upstreams?tags=even,fifth&size=2');
        assert.deepEqual(and.rows.map((r) => r.name).sort(), ['page-00', 'page-10', 'page-20']);
        const or = await walk('/upstreams?tags=odd/fifth');
        assert.equal(or.rows.length, 12 + 3);
      });

      it('refuses mixed tag syntax with Kong’s invalid options body', async () => {
        const res = await t.http.get('/upstreams?tags=a,b/c');
        assert.equal(res.status, 400);
        assert.equal((res.json as { name: string }).name, 'invalid options');
      });

      it('lists /tags and /tags/{tag} across entity types, paginated', async () => {
        await t.http.post('/consumers', { username: 'fifth-consumer', tags: ['fifth'] });
        const { rows } = await walk('/tags/fifth?size=2');
        assert.equal(rows.length, 6);
        // Collections are walked in a fixed order: consumers before upstreams.
        assert.deepEqual(
          rows.map((r) => r.entity_name),
          ['consumers', 'upstreams', 'upstreams', 'upstreams', 'upstreams', 'upstreams'],
        );
        assert.ok(rows.every((r) => r.tag === 'fifth'));
        assert.ok(rows.some((r) => r.entity_name === 'consumers'));
        const all = await walk('/tags?size=7');
        assert.ok(all.rows.length >= 25 * 2 + 5);
      });
    });

    describe('cascade and restrict, seen through the API', () => {
      it('refuses to delete a service that still has routes, and deletes a route’s plugins with it', async () => {
        const svc = (await t.http.post('/services', { name: 'restrict', host: 'r.example' })).json as Row;
        const route = (await t.http.post('/services/restrict/routes', { paths: ['/restrict'] })).json as Row;
        const plugin = (await t.http.post(`/routes/${route.id}/plugins`, { name: 'correlation-id' }))
          .json as Row;

        await unchangedBy(async () => {
          const res = await t.http.delete('/services/restrict');
          assert.equal(res.status, 400, res.text);
          assert.equal((res.json as { code: number }).code, 4);
          assert.match(
            (res.json as { message: string }).message,
            /an existing 'routes' entity references this 'services' entity/,
          );
        });

        assert.equal((await t.http.delete(`/services/restrict/routes/${route.id}`)).status, 204);
        assert.equal((await t.http.get(`/plugins/${plugin.id}`)).status, 404);
        assert.equal((await t.http.delete(`/services/${svc.id}`)).status, 204);
      });

      it('deletes a consumer’s credentials with it, and DELETE on /routes/{r}/service is not allowed', async () => {
        const consumer = (await t.http.post('/consumers', { username: 'cascade' })).json as Row;
        const cred = (await t.http.post(`/consumers/${consumer.id}/key-auth`, {})).json as Row;
        assert.equal((await t.http.delete('/consumers/cascade')).status, 204);
        assert.equal((await t.http.get(`/key-auths/${cred.id}`)).status, 404);

        await t.http.post('/services', { name: 'keep', host: 'k.example' });
        const route = (await t.http.post('/services/keep/routes', { paths: ['/keep'] })).json as Row;
        assert.equal((await t.http.delete(`/routes/${route.id}/service`)).status, 405);
        assert.equal((await t.http.get('/services/keep')).status, 200);
      });

      it('nested paths only see their own children', async () => {
        await t.http.post('/services', { name: 'mine', host: 'm.example' });
        await t.http.post('/services', { name: 'theirs', host: 't.example' });
        const route = (await t.http.post('/services/mine/routes', { paths: ['/mine'] })).json as Row;
        assert.equal((await t.http.get(`/services/theirs/routes/${route.id}`)).status, 404);
        assert.equal((await t.http.delete(`/services/theirs/routes/${route.id}`)).status, 404);
        assert.equal((await t.http.get(`/routes/${route.id}`)).status, 200);
        const mine = (await t.http.get('/services/mine/routes')).json as Page;
        assert.deepEqual(
          mine.data.map((r) => r.id),
          [route.id],
        );
        assert.deepEqual(((await t.http.get('/services/theirs/routes')).json as Page).data, []);
      });
    });

    describe('node endpoints', () => {
      it('/ reports the node, /status the database and server', async () => {
        const root = (await t.http.get('/')).json as Record<string, unknown>;
        assert.equal(root.version, t.nodeInfo.version);
        assert.equal(root.node_id, t.nodeInfo.node_id);
        assert.equal(typeof root.hostname, 'string');
        assert.equal((root.configuration as Record<string, unknown>).pg_password, '******');
        const status = (await t.http.get('/status')).json as {
          database: { reachable: boolean };
          server: { total_requests: number; connections_accepted: number };
        };
        assert.equal(status.database.reachable, true);
        assert.ok(status.server.total_requests > 0);
        assert.ok(status.server.connections_accepted > 0);
      });

      it('serves schemas of entities and plugins', async () => {
        const plugin = await t.http.get('/schemas/plugins/rate-limiting');
        assert.equal(plugin.status, 200);
        assert.ok(Array.isArray((plugin.json as { fields: unknown[] }).fields));
        assert.deepEqual((await t.http.get('/schemas/plugins/nope')).json, {
          message: "No plugin named 'nope'",
        });
        assert.equal((await t.http.get('/schemas/services')).status, 200);
        assert.equal((await t.http.get('/schemas/nope')).status, 404);
      });
    });
  });
}
