// The curl lines of Kong's getting-started guides, sent byte for byte, against a real store.
import assert from 'node:assert/strict';
import { adminEngines, startTestAdmin, type TestAdmin } from '../../helpers/admin.js';

type Row = Record<string, unknown> & { id: string };

for (const engine of adminEngines()) {
  describe(`Kong's getting-started curl lines (${engine})`, function () {
    this.timeout(30_000);
    let t: TestAdmin;
    before(async () => (t = await startTestAdmin(engine)));
    after(() => t?.stop());

    it('creates a service from name and url', async () => {
      // curl -i -X POST http://localhost:8001/services --data name=example_service --data url='http://httpbin.org'
      const res = await t.http.curl('POST', '/services', 'name=example_service', 'url=http://httpbin.org');
      assert.equal(res.status, 201, res.text);
      const service = res.json as Row;
      assert.equal(service.name, 'example_service');
      assert.equal(service.host, 'httpbin.org');
      assert.equal(service.port, 80);
      assert.equal(service.protocol, 'http');
      // The older guide's trailing-slash form: curl -i -X POST --url http://localhost:8001/services/ ...
      const older = await t.http.curl('POST', '/services/', 'name=example-service', 'url=http://mockbin.org');
      assert.equal(older.status, 201, older.text);
    });

    it('adds routes under the service with paths[] and hosts[]', async () => {
      // curl -i -X POST http://localhost:8001/services/example_service/routes --data 'paths[]=/mock' --data name=example_route
      const res = await t.http.curl(
        'POST',
        '/services/example_service/routes',
        'paths[]=/mock',
        'name=example_route',
      );
      assert.equal(res.status, 201, res.text);
      const route = res.json as Row;
      assert.deepEqual(route.paths, ['/mock']);
      const service = (await t.http.get('/services/example_service')).json as Row;
      assert.deepEqual(route.service, { id: service.id });
      // curl -i -X POST --url http://localhost:8001/services/example-service/routes --data 'hosts[]=example.com'
      const byHost = await t.http.curl('POST', '/services/example-service/routes', 'hosts[]=example.com');
      assert.equal(byHost.status, 201, byHost.text);
      assert.deepEqual((byHost.json as Row).hosts, ['example.com']);
    });

    it('types form values by schema: numbers, booleans, single values for lists', async () => {
      // curl -X PATCH http://localhost:8001/services/example_service --data retries=6
      const patched = await t.http.curl('PATCH', '/services/example_service', 'retries=6');
      assert.equal(patched.status, 200, patched.text);
      assert.equal((patched.json as Row).retries, 6);
      const route = await t.http.curl(
        'POST',
        '/services/example_service/routes',
        'name=typed',
        'paths=/typed',
        'strip_path=false',
        'methods[]=GET',
        'methods[]=POST',
        'regex_priority=7',
      );
      assert.equal(route.status, 201, route.text);
      const r = route.json as Row;
      assert.deepEqual(r.paths, ['/typed']);
      assert.equal(r.strip_path, false);
      assert.deepEqual(r.methods, ['GET', 'POST']);
      assert.equal(r.regex_priority, 7);
    });

    it('enables rate-limiting on the service with config.minute=5', async () => {
      // curl -X POST http://localhost:8001/services/example_service/plugins --data "name=rate-limiting" --data config.minute=5 --data config.policy=local
      const res = await t.http.curl(
        'POST',
        '/services/example_service/plugins',
        'name=rate-limiting',
        'config.minute=5',
        'config.policy=local',
      );
      assert.equal(res.status, 201, res.text);
      const plugin = res.json as Row & { config: Record<string, unknown> };
      assert.equal(plugin.config.minute, 5);
      assert.equal(plugin.config.policy, 'local');
      const service = (await t.http.get('/services/example_service')).json as Row;
      assert.deepEqual(plugin.service, { id: service.id });
    });

    it('enables proxy-cache globally with list and number config values', async () => {
      // curl -i -X POST http://localhost:8001/plugins --data "name=proxy-cache" --data "config.request_method=GET"
      //   --data "config.response_code=200" --data "config.content_type=application/json; charset=utf-8"
      //   --data "config.cache_ttl=30" --data "config.strategy=memory"
      const res = await t.http.curl(
        'POST',
        '/plugins',
        'name=proxy-cache',
        'config.request_method=GET',
        'config.response_code=200',
        'config.content_type=application/json; charset=utf-8',
        'config.cache_ttl=30',
        'config.strategy=memory',
      );
      assert.equal(res.status, 201, res.text);
      const config = (res.json as { config: Record<string, unknown> }).config;
      assert.deepEqual(config.request_method, ['GET']);
      assert.deepEqual(config.response_code, [200]);
      assert.deepEqual(config.content_type, ['application/json; charset=utf-8']);
      assert.equal(config.cache_ttl, 30);
    });

    it('load-balances: an upstream, a target, and the service pointed at it', async () => {
      // curl -X POST http://localhost:8001/upstreams --data name=example_upstream
      assert.equal((await t.http.curl('POST', '/upstreams', 'name=example_upstream')).status, 201);
      // curl -X POST http://localhost:8001/upstreams/example_upstream/targets --data target='httpbin.org:80'
      const target = await t.http.curl(
        'POST',
        '/upstreams/example_upstream/targets',
        'target=httpbin.org:80',
      );
      assert.equal(target.status, 201, target.text);
      assert.equal((target.json as Row).target, 'httpbin.org:80');
      // curl -X PATCH http://localhost:8001/services/example_service --data host='example_upstream'
      const patched = await t.http.curl('PATCH', '/services/example_service', 'host=example_upstream');
      assert.equal(patched.status, 200, patched.text);
      assert.equal((patched.json as Row).host, 'example_upstream');
      const targets = await t.http.get('/upstreams/example_upstream/targets');
      assert.equal((targets.json as { data: Row[] }).data.length, 1);
      const byName = await t.http.get('/upstreams/example_upstream/targets/httpbin.org:80');
      assert.equal(byName.status, 200, byName.text);
    });

    it('adds key authentication: plugin on the route, a consumer, its keys', async () => {
      // curl -X POST http://localhost:8001/routes/example_route/plugins --data name=key-auth
      const plugin = await t.http.curl('POST', '/routes/example_route/plugins', 'name=key-auth');
      assert.equal(plugin.status, 201, plugin.text);
      // curl -i -X POST http://localhost:8001/consumers/ --data username=luka
      const consumer = await t.http.curl('POST', '/consumers/', 'username=luka');
      assert.equal(consumer.status, 201, consumer.text);
      // curl -i -X POST http://localhost:8001/consumers/luka/key-auth --data key=top-secret-key
      const key = await t.http.curl('POST', '/consumers/luka/key-auth', 'key=top-secret-key');
      assert.equal(key.status, 201, key.text);
      assert.equal((key.json as Row).key, 'top-secret-key');
      assert.deepEqual((key.json as Row).consumer, { id: (consumer.json as Row).id });
      // curl -X POST http://localhost:8001/consumers/luka/key-auth   (no body: a key is generated)
      const generated = await t.http.curl('POST', '/consumers/luka/key-auth');
      assert.equal(generated.status, 201, generated.text);
      assert.equal(typeof (generated.json as Row).key, 'string');
      const keys = await t.http.get('/consumers/luka/key-auth');
      assert.equal((keys.json as { data: Row[] }).data.length, 2);
    });

    it('tags entities with tags[]= and filters by them', async () => {
      const res = await t.http.curl('POST', '/consumers', 'username=tagged', 'tags[]=team-a', 'tags[]=prod');
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(((res.json as Row).tags as string[]).sort(), ['prod', 'team-a']);
      const found = await t.http.get('/consumers?tags=team-a,prod');
      assert.deepEqual(
        (found.json as { data: Row[] }).data.map((c) => c.username),
        ['tagged'],
      );
    });

    it('reports the configured plugins at / and /plugins/enabled', async () => {
      const root = (await t.http.get('/')).json as {
        plugins: { available_on_server: Record<string, unknown>; enabled_in_cluster: string[] };
      };
      assert.ok('key-auth' in root.plugins.available_on_server);
      assert.deepEqual(root.plugins.enabled_in_cluster, ['key-auth', 'proxy-cache', 'rate-limiting']);
      const enabled = (await t.http.get('/plugins/enabled')).json as { enabled_plugins: string[] };
      assert.ok(enabled.enabled_plugins.includes('rate-limiting'));
    });
  });
}
