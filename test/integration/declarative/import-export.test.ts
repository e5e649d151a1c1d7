// Declarative import/export on both engines: round trip, idempotence, all-or-nothing, every error with its path.
import assert from 'node:assert/strict';
import {
  DeclarativeInvalidError,
  exportDeclarative,
  importDeclarative,
  parseDeclarativeText,
  serializeDeclarative,
  SAMPLE_CONFIG,
} from '../../../src/core/declarative/index.js';
import type { Store } from '../../../src/core/store/index.js';
import { tempPostgresStore } from '../../helpers/postgres.js';
import { tempSqliteStore } from '../../helpers/sqlite.js';

const DOC = {
  _format_version: '3.0',
  services: [
    {
      name: 'orders',
      url: 'http://orders.internal:8080/api',
      tags: ['team-a'],
      routes: [
        { name: 'orders-read', paths: ['/orders'], methods: ['GET'], plugins: [{ name: 'cors' }] },
        { paths: ['~/orders/\\d+$'], hosts: ['*.example.com'] },
      ],
      plugins: [{ name: 'rate-limiting', config: { minute: 10 } }],
    },
    { name: 'billing', host: 'billing.internal' },
  ],
  routes: [{ name: 'billing-route', paths: ['/billing'], service: 'billing' }],
  consumers: [
    {
      username: 'alice',
      keyauth_credentials: [{ key: 'alice-key' }, {}],
      plugins: [{ name: 'request-size-limiting' }],
    },
  ],
  upstreams: [
    { name: 'orders.upstream', targets: [{ target: '10.0.0.1' }, { target: '10.0.0.2:9000', weight: 5 }] },
  ],
  plugins: [{ name: 'correlation-id' }, { name: 'key-auth', route: 'billing-route' }],
};

async function rejectsDeclarative(promise: Promise<unknown>): Promise<DeclarativeInvalidError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof DeclarativeInvalidError, `expected DeclarativeInvalidError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the import to be refused');
}

function suite(engine: string, open: () => Promise<{ store: Store; cleanup: () => Promise<void> }>) {
  describe(`declarative config (${engine})`, function () {
    this.timeout(30_000);
    const opened: { cleanup: () => Promise<void> }[] = [];
    const fresh = async () => {
      const f = await open();
      opened.push(f);
      return f.store;
    };
    afterEach(async () => {
      while (opened.length > 0) await opened.pop()!.cleanup();
    });

    it('imports nested and referenced entities', async () => {
      const store = await fresh();
      const result = await importDeclarative(store, DOC);
      assert.equal(result.created, 16);
      assert.deepEqual(result.entities, {
        services: 2,
        routes: 3,
        consumers: 1,
        keyauth_credentials: 2,
        upstreams: 1,
        targets: 2,
        plugins: 5,
      });
      const orders = await store.get('services', 'orders');
      assert.equal(orders?.port, 8080);
      const route = await store.get('routes', 'billing-route');
      assert.deepEqual(route?.service, { id: (await store.get('services', 'billing'))!.id });
      const keyAuth = (await store.list('plugins')).data.find((p) => p.name === 'key-auth');
      assert.deepEqual(keyAuth?.route, { id: route!.id });
      const targets = (await store.list('targets')).data.map((t) => t.target).sort();
      assert.deepEqual(targets, ['10.0.0.1:8000', '10.0.0.2:9000']);
    });

    it('round trip: export, import into an empty store, export again — identical bytes', async () => {
      const first = await fresh();
      await importDeclarative(first, DOC);
      const exported = (await exportDeclarative(first)).doc;
      const second = await fresh();
      await importDeclarative(second, exported);
      const again = (await exportDeclarative(second)).doc;
      assert.deepEqual(again, exported);
      assert.equal(serializeDeclarative(again, 'yaml'), serializeDeclarative(exported, 'yaml'));
      assert.equal(serializeDeclarative(again, 'json'), serializeDeclarative(exported, 'json'));
      // Re-importing the export where it came from changes nothing.
      const version = await first.version();
      const result = await importDeclarative(
        first,
        parseDeclarativeText(serializeDeclarative(exported, 'yaml')),
      );
      assert.equal(result.unchanged, 16);
      assert.equal(await first.version(), version);
    });

    it('importing the same file twice changes nothing (ids derived, keys kept)', async () => {
      const store = await fresh();
      await importDeclarative(store, DOC);
      const before = await store.snapshot();
      const result = await importDeclarative(store, DOC);
      assert.deepEqual([result.created, result.updated, result.unchanged], [0, 0, 16]);
      assert.deepEqual(await store.snapshot(), before);
    });

    it('updates what changed, matched by name', async () => {
      const store = await fresh();
      await importDeclarative(store, DOC);
      const id = (await store.get('services', 'billing'))!.id;
      const changed = structuredClone(DOC);
      changed.services[1] = { name: 'billing', host: 'billing-v2.internal' };
      const result = await importDeclarative(store, changed);
      assert.deepEqual([result.created, result.updated], [0, 1]);
      const billing = await store.get('services', 'billing');
      assert.equal(billing?.id, id);
      assert.equal(billing?.host, 'billing-v2.internal');
    });

    it('an invalid file imports nothing and reports every error with its path', async () => {
      const store = await fresh();
      await store.insert('consumers', { username: 'taken' });
      const before = await store.snapshot();
      const bad = {
        _format_version: '3.0',
        services: [
          { name: 'ok', host: 'ok.internal', routes: [{ paths: ['/fine'] }, { paths: ['nope'] }] },
          { name: 'ok', host: 'dup.internal' },
          { name: 'bad-port', host: 'x.internal', port: 'eighty' },
        ],
        routes: [{ paths: ['/x'], service: 'missing-service' }],
        consumers: [{ username: 'taken', custom_id: 'other' }, {}],
        upstreams: [{ name: 'u', targets: [{ target: 'a b' }] }],
        plugins: [{ name: 'rate-limiting', config: { minute: 'ten' } }, { name: 'nope' }],
        bogus: [],
      };
      const err = await rejectsDeclarative(importDeclarative(store, bad));
      assert.deepEqual(
        err.problems.map((p) => p.path),
        [
          'bogus',
          'services[0].routes[1].paths[0]',
          'services[1].name',
          'services[2].port',
          'routes[0].service',
          'consumers[1]',
          'upstreams[0].targets[0].target',
          'plugins[0].config.minute',
          'plugins[1].name',
        ].sort(byOrderIn(err.problems.map((p) => p.path))),
      );
      assert.match(err.message, /services\[0\]\.routes\[1\]\.paths\[0\]: should start with/);
      assert.deepEqual(await store.snapshot(), before);
      // The username clash against the store is reported too when it is the only problem.
      const clash = await rejectsDeclarative(
        importDeclarative(store, {
          _format_version: '3.0',
          consumers: [{ username: 'taken', custom_id: 'c' }, { custom_id: 'c' }],
        }),
      );
      assert.deepEqual(
        clash.problems.map((p) => p.path),
        ['consumers[1].custom_id'],
      );
      assert.deepEqual(await store.snapshot(), before);
    });

    it('refuses a file without _format_version or with an unknown one', async () => {
      const store = await fresh();
      let err = await rejectsDeclarative(importDeclarative(store, { services: [] }));
      assert.deepEqual(err.problems, [{ path: '_format_version', message: 'required field missing' }]);
      err = await rejectsDeclarative(importDeclarative(store, { _format_version: '9.9' }));
      assert.equal(err.problems[0]?.path, '_format_version');
      err = await rejectsDeclarative(importDeclarative(store, ['not', 'a', 'map']));
      assert.equal(err.problems.length, 1);
    });

    it('imports the sample written by config init', async () => {
      const store = await fresh();
      const result = await importDeclarative(store, parseDeclarativeText(SAMPLE_CONFIG));
      assert.ok(result.created >= 7);
    });
  });
}

/** The expected list must equal the actual set; its order is the file's walk order, which we keep. */
function byOrderIn(actual: string[]) {
  return (a: string, b: string) => actual.indexOf(a) - actual.indexOf(b);
}

suite('sqlite', tempSqliteStore);

suite('postgres', async () => {
  return tempPostgresStore();
});

describe('declarative parsing', () => {
  it('locates YAML syntax errors by line', () => {
    assert.throws(
      () =>
        parseDeclarativeText(
          '_format_version: "3.0"\nservices:\n  - name: a\n   bad: indentation\n',
          'kong.yml',
        ),
      (err: unknown) =>
        err instanceof DeclarativeInvalidError && /^line \d+, column \d+$/.test(err.problems[0]!.path),
    );
  });
  it('reads JSON as well', () => {
    assert.deepEqual(parseDeclarativeText('{"_format_version": "3.0", "services": []}'), {
      _format_version: '3.0',
      services: [],
    });
  });
});
