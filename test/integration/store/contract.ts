// The store contract: one suite, run against every engine (sqlite.test.ts, postgres.test.ts).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { StoreError, StoreErrorCode, type EntityRow, type Store } from '../../../src/core/store/index.js';
import { caAndLeafPem, type CaAndLeafPem } from '../../helpers/openssl-pki.js';
import { makeTempDir } from '../../helpers/tmp.js';

export interface StoreFixture {
  store: Store;
  cleanup: () => Promise<void>;
}

/** Asserts the promise rejects with a StoreError of that code; returns it for more checks. */
export async function rejectsWith(promise: Promise<unknown>, code: number): Promise<StoreError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof StoreError, `expected a StoreError, got ${String(err)}`);
    assert.equal(err.storeCode, code, `expected code ${code}, got ${err.storeCode}: ${err.message}`);
    return err;
  }
  assert.fail(`expected a StoreError with code ${code}`);
}

export function storeContract(engine: string, open: () => Promise<StoreFixture>): void {
  describe(`store contract (${engine})`, function () {
    this.timeout(30_000);
    let fixture: StoreFixture;
    let store: Store;
    let pki: CaAndLeafPem;
    let removePki: () => Promise<void>;

    before(async () => {
      const tmp = await makeTempDir();
      removePki = tmp.cleanup;
      pki = await caAndLeafPem(tmp.dir);
    });
    after(async () => removePki());
    beforeEach(async () => {
      fixture = await open();
      store = fixture.store;
    });
    afterEach(async () => fixture.cleanup());

    describe('services', () => {
      it('creates with Kong defaults and the url shorthand, reads by id and name', async () => {
        const svc = await store.insert('services', {
          name: 'billing',
          url: 'https://billing.internal:8443/v1',
        });
        assert.match(svc.id, /^[0-9a-f-]{36}$/);
        assert.equal(svc.protocol, 'https');
        assert.equal(svc.host, 'billing.internal');
        assert.equal(svc.port, 8443);
        assert.equal(svc.path, '/v1');
        assert.equal(svc.retries, 5);
        assert.equal(svc.connect_timeout, 60000);
        assert.equal(svc.read_timeout, 60000);
        assert.equal(svc.write_timeout, 60000);
        assert.equal(svc.enabled, true);
        assert.equal(typeof svc.created_at, 'number');
        assert.ok(svc.created_at < 1e11, 'created_at is in seconds');
        assert.deepEqual(await store.get('services', svc.id), svc);
        assert.deepEqual(await store.get('services', 'billing'), svc);
        assert.equal(await store.get('services', randomUUID()), null);
        assert.equal(await store.get('services', 'nope'), null);
      });

      it('updates (PATCH merge) and deletes', async () => {
        const svc = await store.insert('services', { name: 's', host: 'a.example', port: 81 });
        const patched = await store.update('services', 's', { retries: 2 });
        assert.equal(patched.retries, 2);
        assert.equal(patched.port, 81);
        assert.equal(patched.id, svc.id);
        assert.equal(patched.created_at, svc.created_at);
        await store.delete('services', svc.id);
        assert.equal(await store.get('services', svc.id), null);
        await store.delete('services', svc.id); // deleting a missing entity is fine
      });

      it('rejects bad input with every field error', async () => {
        const err = await rejectsWith(
          store.insert('services', { host: 'x..y', port: 70000, retries: 'many', bogus: 1 }),
          StoreErrorCode.SCHEMA_VIOLATION,
        );
        assert.deepEqual(err.fields, {
          bogus: 'unknown field',
          host: 'invalid hostname: x..y',
          port: 'value should be between 0 and 65535',
          retries: 'expected an integer',
        });
        assert.match(err.message, /^4 schema violations \(/);
        assert.equal(err.httpStatus, 400);
        await rejectsWith(store.insert('services', {}), StoreErrorCode.SCHEMA_VIOLATION);
        await rejectsWith(store.insert('services', { url: 'not a url' }), StoreErrorCode.SCHEMA_VIOLATION);
        await rejectsWith(store.update('services', randomUUID(), { retries: 1 }), StoreErrorCode.NOT_FOUND);
      });

      it('refuses a duplicate name with 409-style UNIQUE violation', async () => {
        await store.insert('services', { name: 'dup', host: 'a.example' });
        const err = await rejectsWith(
          store.insert('services', { name: 'dup', host: 'b.example' }),
          StoreErrorCode.UNIQUE_VIOLATION,
        );
        assert.deepEqual(err.toBody(), {
          code: 5,
          name: 'unique constraint violation',
          message: `UNIQUE violation detected on '{name="dup"}'`,
          fields: { name: 'dup' },
        });
        assert.equal(err.httpStatus, 409);
      });

      it('refuses an id that exists (primary key violation)', async () => {
        const svc = await store.insert('services', { host: 'a.example' });
        await rejectsWith(
          store.insert('services', { id: svc.id, host: 'b.example' }),
          StoreErrorCode.PRIMARY_KEY_VIOLATION,
        );
      });
    });

    describe('routes', () => {
      it('stores matching fields with Kong defaults', async () => {
        const svc = await store.insert('services', { name: 's', host: 'a.example' });
        const route = await store.insert('routes', {
          name: 'r',
          hosts: ['*.example.com', 'api.example.com'],
          paths: ['/v1', '~/items/\\d+$'],
          methods: ['GET', 'POST'],
          headers: { 'x-version': ['1', '2'] },
          service: { id: svc.id },
        });
        assert.deepEqual(route.protocols, ['http', 'https']);
        assert.equal(route.strip_path, true);
        assert.equal(route.preserve_host, false);
        assert.equal(route.regex_priority, 0);
        assert.equal(route.path_handling, 'v0');
        assert.equal(route.https_redirect_status_code, 426);
        assert.equal(route.request_buffering, true);
        assert.equal(route.response_buffering, true);
        assert.deepEqual(route.service, { id: svc.id });
      });

      it("enforces Kong's route rules", async () => {
        let err = await rejectsWith(
          store.insert('routes', { protocols: ['http'] }),
          StoreErrorCode.SCHEMA_VIOLATION,
        );
        assert.deepEqual(err.fields, {
          '@entity': ["must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'"],
        });
        err = await rejectsWith(
          store.insert('routes', {
            paths: ['v1', '/ok'],
            hosts: ['a.*.com'],
            methods: ['get'],
            headers: { Host: ['x'] },
          }),
          StoreErrorCode.SCHEMA_VIOLATION,
        );
        assert.deepEqual(err.fields, {
          paths: ['should start with: / (fixed path) or ~/ (regex path)', null],
          hosts: ['wildcard must be leftmost or rightmost character'],
          methods: ['invalid value: method names must be uppercase letters'],
          headers: { Host: "cannot contain 'host' header, which must be specified in the 'hosts' attribute" },
        });
        await rejectsWith(
          store.insert('routes', { paths: ['/'], https_redirect_status_code: 200 }),
          StoreErrorCode.SCHEMA_VIOLATION,
        );
        await rejectsWith(
          store.insert('routes', { paths: ['/'], path_handling: 'v2' }),
          StoreErrorCode.SCHEMA_VIOLATION,
        );
        await rejectsWith(
          store.insert('routes', { protocols: ['http'], paths: ['/'], snis: ['a.example'] }),
          StoreErrorCode.SCHEMA_VIOLATION,
        );
        await rejectsWith(
          store.insert('routes', { paths: ['~/(unclosed'] }),
          StoreErrorCode.SCHEMA_VIOLATION,
        );
      });

      it('refuses a route pointing at a missing service', async () => {
        const id = randomUUID();
        const err = await rejectsWith(
          store.insert('routes', { paths: ['/'], service: { id } }),
          StoreErrorCode.FOREIGN_KEY_VIOLATION,
        );
        assert.deepEqual(err.fields, { service: { id } });
        assert.equal(
          err.message,
          `the foreign key '{id="${id}"}' does not reference an existing 'services' entity.`,
        );
      });

      it('lists the routes of one service (parent filter)', async () => {
        const a = await store.insert('services', { host: 'a.example' });
        const b = await store.insert('services', { host: 'b.example' });
        await store.insert('routes', { paths: ['/a1'], service: { id: a.id } });
        await store.insert('routes', { paths: ['/a2'], service: { id: a.id } });
        await store.insert('routes', { paths: ['/b'], service: { id: b.id } });
        const page = await store.list('routes', { parent: { field: 'service', id: a.id } });
        assert.deepEqual(page.data.map((r) => (r.paths as string[])[0]).sort(), ['/a1', '/a2']);
        await rejectsWith(
          store.list('routes', { parent: { field: 'nope', id: a.id } }),
          StoreErrorCode.INVALID_FILTER,
        );
      });
    });

    describe('consumers and key-auth credentials', () => {
      it('needs a username or custom_id; both unique', async () => {
        const err = await rejectsWith(store.insert('consumers', {}), StoreErrorCode.SCHEMA_VIOLATION);
        assert.deepEqual(err.fields, {
          '@entity': ["at least one of these fields must be non-empty: 'custom_id', 'username'"],
        });
        await store.insert('consumers', { username: 'alice', custom_id: 'c1' });
        await rejectsWith(
          store.insert('consumers', { username: 'bob', custom_id: 'c1' }),
          StoreErrorCode.UNIQUE_VIOLATION,
        );
        const bob = await store.insert('consumers', { custom_id: 'c2' });
        assert.equal(bob.username, null);
      });

      it('generates a key when absent; keys are unique; credentials go with the consumer', async () => {
        const alice = await store.insert('consumers', { username: 'alice' });
        const generated = await store.insert('keyauth_credentials', { consumer: { id: alice.id } });
        assert.match(generated.key as string, /^[0-9a-f]{32}$/);
        const given = await store.insert('keyauth_credentials', {
          consumer: { id: alice.id },
          key: 'secret-1',
        });
        assert.deepEqual(await store.get('keyauth_credentials', 'secret-1'), given);
        await rejectsWith(
          store.insert('keyauth_credentials', { consumer: { id: alice.id }, key: 'secret-1' }),
          StoreErrorCode.UNIQUE_VIOLATION,
        );
        await rejectsWith(store.insert('keyauth_credentials', { key: 'k' }), StoreErrorCode.SCHEMA_VIOLATION);
        await store.delete('consumers', 'alice');
        assert.equal((await store.list('keyauth_credentials')).data.length, 0);
      });
    });

    describe('plugins', () => {
      it('validates config against the plugin schema and fills its defaults', async () => {
        const plugin = await store.insert('plugins', { name: 'key-auth' });
        assert.deepEqual((plugin.config as Record<string, unknown>).key_names, ['apikey']);
        assert.equal(plugin.enabled, true);
        assert.deepEqual(plugin.protocols, ['grpc', 'grpcs', 'http', 'https']);
        const err = await rejectsWith(
          store.insert('plugins', { name: 'rate-limiting', config: { minute: 'ten', bogus: true } }),
          StoreErrorCode.SCHEMA_VIOLATION,
        );
        assert.deepEqual(err.fields, { config: { bogus: 'unknown field', minute: 'expected a number' } });
        const missing = await rejectsWith(
          store.insert('plugins', { name: 'rate-limiting', config: {} }),
          StoreErrorCode.SCHEMA_VIOLATION,
        );
        assert.match(missing.message, /at least one of these fields must be non-empty: 'config.second'/);
        const unknown = await rejectsWith(
          store.insert('plugins', { name: 'no-such-plugin' }),
          StoreErrorCode.SCHEMA_VIOLATION,
        );
        assert.deepEqual(unknown.fields, {
          name: "plugin 'no-such-plugin' not enabled; add it to the 'plugins' configuration property",
        });
      });

      it('is unique per name and scope, and goes with its route/service/consumer', async () => {
        const svc = await store.insert('services', { host: 'a.example' });
        const route = await store.insert('routes', { paths: ['/'], service: { id: svc.id } });
        const consumer = await store.insert('consumers', { username: 'c' });
        await store.insert('plugins', { name: 'rate-limiting', config: { minute: 5 } });
        await store.insert('plugins', {
          name: 'rate-limiting',
          config: { minute: 5 },
          service: { id: svc.id },
        });
        await store.insert('plugins', {
          name: 'rate-limiting',
          config: { minute: 5 },
          route: { id: route.id },
        });
        await store.insert('plugins', {
          name: 'rate-limiting',
          config: { minute: 5 },
          consumer: { id: consumer.id },
        });
        await rejectsWith(
          store.insert('plugins', { name: 'rate-limiting', config: { second: 1 }, route: { id: route.id } }),
          StoreErrorCode.UNIQUE_VIOLATION,
        );
        await rejectsWith(
          store.insert('plugins', { name: 'key-auth', consumer: { id: consumer.id } }),
          StoreErrorCode.SCHEMA_VIOLATION,
        );
        // A service with routes cannot go; its route can, taking its plugin along.
        const restrict = await rejectsWith(
          store.delete('services', svc.id),
          StoreErrorCode.FOREIGN_KEY_VIOLATION,
        );
        assert.deepEqual(restrict.fields, { '@referenced_by': 'routes' });
        await store.delete('routes', route.id);
        assert.equal((await store.list('plugins')).data.length, 3);
        await store.delete('services', svc.id);
        await store.delete('consumers', consumer.id);
        const left = (await store.list('plugins')).data;
        assert.equal(left.length, 1);
        assert.equal(left[0]!.service, null);
      });

      it('PATCH merges config records', async () => {
        const p = await store.insert('plugins', {
          name: 'rate-limiting',
          config: { minute: 5, policy: 'local' },
        });
        const updated = await store.update('plugins', p.id, { config: { hour: 100 } });
        const config = updated.config as Record<string, unknown>;
        assert.equal(config.minute, 5);
        assert.equal(config.hour, 100);
      });
    });

    describe('upstreams and targets', () => {
      it("fills Kong's defaults including health checks", async () => {
        const up = await store.insert('upstreams', { name: 'backend.internal' });
        assert.equal(up.algorithm, 'round-robin');
        assert.equal(up.slots, 10000);
        assert.equal(up.hash_on, 'none');
        const hc = up.healthchecks as {
          active: {
            healthy: { http_statuses: number[] };
            http_path: string;
            timeout: number;
            concurrency: number;
          };
          passive: { unhealthy: { http_statuses: number[] } };
          threshold: number;
        };
        assert.deepEqual(hc.active.healthy.http_statuses, [200, 302]);
        assert.equal(hc.active.http_path, '/');
        assert.equal(hc.active.concurrency, 10);
        assert.deepEqual(hc.passive.unhealthy.http_statuses, [429, 500, 503]);
        assert.equal(hc.threshold, 0);
        await rejectsWith(
          store.insert('upstreams', { name: 'u2', hash_on: 'header' }),
          StoreErrorCode.SCHEMA_VIOLATION,
        );
        await rejectsWith(
          store.insert('upstreams', { name: 'u3', slots: 5 }),
          StoreErrorCode.SCHEMA_VIOLATION,
        );
      });

      it('targets default to port 8000 and weight 100, unique per upstream, cascade with it', async () => {
        const up = await store.insert('upstreams', { name: 'u' });
        const t = await store.insert('targets', { upstream: { id: up.id }, target: '10.0.0.1' });
        assert.equal(t.target, '10.0.0.1:8000');
        assert.equal(t.weight, 100);
        await rejectsWith(
          store.insert('targets', { upstream: { id: up.id }, target: '10.0.0.1:8000' }),
          StoreErrorCode.UNIQUE_VIOLATION,
        );
        await rejectsWith(
          store.insert('targets', { upstream: { id: up.id }, target: 'bad host:x' }),
          StoreErrorCode.SCHEMA_VIOLATION,
        );
        assert.deepEqual(
          await store.get('targets', '10.0.0.1:8000', { parent: { field: 'upstream', id: up.id } }),
          t,
        );
        await store.delete('upstreams', 'u');
        assert.equal((await store.list('targets')).data.length, 0);
      });
    });

    describe('certificates, snis, ca_certificates', () => {
      it('checks PEM material; SNIs go with their certificate', async () => {
        const cert = await store.insert('certificates', { cert: pki.leafCert, key: pki.leafKey });
        await rejectsWith(
          store.insert('certificates', { cert: 'garbage', key: pki.leafKey }),
          StoreErrorCode.SCHEMA_VIOLATION,
        );
        const mismatch = await rejectsWith(
          store.insert('certificates', { cert: pki.leafCert, key: pki.otherKey }),
          StoreErrorCode.SCHEMA_VIOLATION,
        );
        assert.deepEqual(mismatch.fields, { '@entity': ['certificate does not match key'] });
        await store.insert('snis', { name: '*.example.com', certificate: { id: cert.id } });
        await rejectsWith(
          store.insert('snis', { name: '*.example.com', certificate: { id: cert.id } }),
          StoreErrorCode.UNIQUE_VIOLATION,
        );
        await rejectsWith(
          store.insert('snis', { name: '10.0.0.1', certificate: { id: cert.id } }),
          StoreErrorCode.SCHEMA_VIOLATION,
        );
        await store.delete('certificates', cert.id);
        assert.equal((await store.list('snis')).data.length, 0);
      });

      it('accepts CA certificates only, unique by digest', async () => {
        const ca = await store.insert('ca_certificates', { cert: pki.caCert });
        assert.match(ca.cert_digest as string, /^[0-9a-f]{64}$/);
        await rejectsWith(
          store.insert('ca_certificates', { cert: pki.caCert }),
          StoreErrorCode.UNIQUE_VIOLATION,
        );
        const notCa = await rejectsWith(
          store.insert('ca_certificates', { cert: pki.leafCert }),
          StoreErrorCode.SCHEMA_VIOLATION,
        );
        assert.match(String((notCa.fields as { cert: string }).cert), /missing the "CA" basic constraint/);
      });
    });

    describe('upsert (PUT)', () => {
      it('creates then replaces by name, keeping id and created_at', async () => {
        const created = await store.upsert('services', 'orders', { host: 'a.example', retries: 1 });
        assert.equal(created.name, 'orders');
        const replaced = await store.upsert('services', 'orders', { host: 'b.example' });
        assert.equal(replaced.id, created.id);
        assert.equal(replaced.created_at, created.created_at);
        assert.equal(replaced.host, 'b.example');
        assert.equal(replaced.retries, 5, 'PUT replaces: omitted fields return to defaults');
        assert.equal((await store.list('services')).data.length, 1);
      });

      it('creates at a given id then replaces by id', async () => {
        const id = randomUUID();
        const created = await store.upsert('consumers', id, { username: 'u1' });
        assert.equal(created.id, id);
        const replaced = await store.upsert('consumers', id, { username: 'u2' });
        assert.equal(replaced.id, id);
        assert.equal(replaced.username, 'u2');
        assert.equal(await store.get('consumers', 'u1'), null);
        await rejectsWith(store.upsert('certificates', 'not-a-uuid', {}), StoreErrorCode.INVALID_PRIMARY_KEY);
        await store.insert('consumers', { username: 'taken' });
        await rejectsWith(
          store.upsert('consumers', id, { username: 'taken' }),
          StoreErrorCode.UNIQUE_VIOLATION,
        );
      });
    });

    describe('listing', () => {
      it('pages with a stable cursor, even while rows are added', async () => {
        const ids: string[] = [];
        await store.transaction(async (tx) => {
          for (let i = 0; i < 25; i++) ids.push((await tx.insert('consumers', { username: `user${i}` })).id);
        });
        const seen: string[] = [];
        let page = await store.list('consumers', { size: 10 });
        seen.push(...page.data.map((r) => r.id));
        assert.ok(page.offset);
        await store.insert('consumers', { id: '00000000-0000-4000-8000-000000000000', username: 'early' });
        page = await store.list('consumers', { size: 10, offset: page.offset });
        seen.push(...page.data.map((r) => r.id));
        page = await store.list('consumers', { size: 10, offset: page.offset });
        seen.push(...page.data.map((r) => r.id));
        assert.equal(page.offset, undefined);
        assert.deepEqual(seen, [...ids].sort());
        await rejectsWith(store.list('consumers', { size: 0 }), StoreErrorCode.INVALID_SIZE);
        await rejectsWith(store.list('consumers', { size: 1001 }), StoreErrorCode.INVALID_SIZE);
        await rejectsWith(store.list('consumers', { offset: '!!!' }), StoreErrorCode.INVALID_OFFSET);
        assert.equal((await store.list('consumers')).data.length, 26);
      });

      it('filters by tags: all of (and) or any of (or)', async () => {
        await store.insert('services', { name: 'ab', host: 'h.example', tags: ['a', 'b'] });
        await store.insert('services', { name: 'a', host: 'h.example', tags: ['a'] });
        await store.insert('services', { name: 'c', host: 'h.example', tags: ['c'] });
        const names = async (mode: 'and' | 'or', tags: string[]) =>
          (await store.list('services', { tags: { mode, tags } })).data.map((r) => r.name).sort();
        assert.deepEqual(await names('and', ['a', 'b']), ['ab']);
        assert.deepEqual(await names('and', ['a']), ['a', 'ab']);
        assert.deepEqual(await names('or', ['b', 'c']), ['ab', 'c']);
        assert.deepEqual(await names('or', ['zzz']), []);
        await store.update('services', 'ab', { tags: ['c'] });
        assert.deepEqual(await names('or', ['b']), []);
        assert.deepEqual(await names('and', ['c']), ['ab', 'c']);
      });
    });

    describe('config version and atomicity', () => {
      it('bumps once per committed write, never on a rejected one, and tells subscribers', async () => {
        const heard: number[] = [];
        const unsubscribe = store.onChange((v) => heard.push(v));
        const v0 = await store.version();
        const svc = await store.insert('services', { name: 's', host: 'a.example' });
        assert.equal(await store.version(), v0 + 1);
        await rejectsWith(
          store.insert('services', { name: 's', host: 'a.example' }),
          StoreErrorCode.UNIQUE_VIOLATION,
        );
        await rejectsWith(store.insert('services', { port: 'x' }), StoreErrorCode.SCHEMA_VIOLATION);
        assert.equal(await store.version(), v0 + 1);
        await store.update('services', svc.id, { retries: 3 });
        await store.delete('services', randomUUID()); // nothing deleted, nothing changed
        await store.delete('services', svc.id);
        assert.equal(await store.version(), v0 + 3);
        await store.transaction(async (tx) => {
          await tx.insert('consumers', { username: 'x' });
          await tx.insert('consumers', { username: 'y' });
        });
        assert.equal(await store.version(), v0 + 4);
        assert.deepEqual(heard, [v0 + 1, v0 + 2, v0 + 3, v0 + 4]);
        unsubscribe();
        await store.insert('consumers', { username: 'z' });
        assert.equal(heard.length, 4);
      });

      it('a rejected write changes nothing, even inside a multi-write transaction', async () => {
        await store.insert('services', { name: 'keep', host: 'a.example' });
        const before = await store.snapshot();
        await rejectsWith(
          store.transaction(async (tx) => {
            await tx.insert('services', { name: 'new', host: 'b.example' });
            await tx.update('services', 'keep', { host: 'changed.example' });
            await tx.insert('services', { name: 'keep', host: 'dup.example' });
          }),
          StoreErrorCode.UNIQUE_VIOLATION,
        );
        const after = await store.snapshot();
        assert.deepEqual(after, before);
      });

      it('snapshot lists every entity, parents first, rows by id', async () => {
        const svc = await store.insert('services', { host: 'a.example' });
        await store.insert('routes', { paths: ['/'], service: { id: svc.id } });
        const { version, entities } = await store.snapshot();
        assert.equal(version, await store.version());
        assert.deepEqual(Object.keys(entities).slice(0, 5), [
          'certificates',
          'ca_certificates',
          'snis',
          'services',
          'routes',
        ]);
        assert.equal(entities.routes.length, 1);
        assert.deepEqual((entities.services as EntityRow[])[0], svc);
      });
    });
  });
}
