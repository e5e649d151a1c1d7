// proxy-cache, request-transformer and response-transformer through a real proxy (the data plane's router and
// balancers) against a real upstream that counts its hits: what the upstream sees, what the client gets, how
// each plugin is scoped, the three together in Kong's priority order, and the control plane refusing bad configs.
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { BUNDLED_HANDLERS, type AnyPluginDefinition } from '../../../src/core/plugins/handlers.js';
import type { PluginInstanceOptions } from '../../../src/core/plugins/api.js';
import { createProxyCache, type ProxyCacheConfig } from '../../../src/core/plugins/proxy-cache/handler.js';
import { schema as proxyCacheSchema } from '../../../src/core/plugins/proxy-cache/schema.js';
import { schema as requestTransformerSchema } from '../../../src/core/plugins/request-transformer/schema.js';
import { schema as responseTransformerSchema } from '../../../src/core/plugins/response-transformer/schema.js';
import { DATA_PLANE_COMPONENTS } from '../../../src/core/proxy/components.js';
import type { DeclarativeConfig, RouteEntity } from '../../../src/core/proxy/types.js';
import { runCli } from '../../helpers/cli.js';
import { ClusterNodes } from '../../helpers/cluster-nodes.js';
import { pluginConfig } from '../../helpers/plugin-config.js';
import {
  send,
  serviceConfig,
  proxySuite,
  startUpstream,
  type RawReply as Reply,
  type TestProxy,
  type Upstream,
} from '../../helpers/proxy.js';
import { encodeForm, sha256, startFormUpstream, type FormEcho } from '../../helpers/multipart.js';
import { makeTempDir } from '../../helpers/tmp.js';

/** What the upstream received; its default answer is this as JSON. */
interface Seen {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Bytes 0..250 repeated: a body whose corruption or truncation anywhere shows. */
const patterned = (size: number): Buffer => {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 1) out[i] = i % 251;
  return out;
};

// proxy-cache with its clock injected (the handler exposes it), so TTLs pass without waiting.
const clock = { ms: 1_700_000_000_000 };
const proxyCache = BUNDLED_HANDLERS.get('proxy-cache')!;
const PLUGINS = new Map<string, AnyPluginDefinition>(BUNDLED_HANDLERS).set('proxy-cache', {
  ...proxyCache,
  init: (options) =>
    createProxyCache(options as unknown as PluginInstanceOptions<ProxyCacheConfig>, () => clock.ms) as never,
});

let nextId = 0;
const pluginRow = (
  name: string,
  config: Record<string, unknown>,
  schema: Parameters<typeof pluginConfig>[0],
  scope: Record<string, unknown> = {},
) => ({
  id: `00000000-0000-4000-8000-${String(++nextId).padStart(12, '0')}`,
  name,
  enabled: true,
  protocols: ['http', 'https'],
  config: pluginConfig<Record<string, unknown>>(schema, config),
  ...scope,
});
const cacheRow = (config: Record<string, unknown>, scope?: Record<string, unknown>) =>
  pluginRow('proxy-cache', { strategy: 'memory', ...config }, proxyCacheSchema, scope);
const requestRow = (config: Record<string, unknown>, scope?: Record<string, unknown>) =>
  pluginRow('request-transformer', config, requestTransformerSchema, scope);
const responseRow = (config: Record<string, unknown>, scope?: Record<string, unknown>) =>
  pluginRow('response-transformer', config, responseTransformerSchema, scope);
const onRoute = (id: string) => ({ route: { id } });

describe('plugins: proxy-cache, request-transformer, response-transformer (real proxy path)', function () {
  this.timeout(20_000);
  let proxy: TestProxy | undefined;
  const seen: Seen[] = [];

  const { upstream, startProxy } = proxySuite(() =>
    // Query options shape the answer: status, type, body (literal), size (a patterned body), gzip.
    startUpstream((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const received: Seen = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        seen.push(received);
        const q = new URL(req.url ?? '/', 'http://upstream').searchParams;
        let body: Buffer;
        if (q.has('size')) body = patterned(Number(q.get('size')));
        else if (q.has('body')) body = Buffer.from(q.get('body')!);
        else body = Buffer.from(JSON.stringify({ ...received, hit: seen.length }));
        const headers: Record<string, string | number> = {
          'content-type': q.get('type') ?? (q.has('size') ? 'text/plain' : 'application/json'),
          'x-remove-me': 'gone',
          'x-replace-me': 'old',
          'x-append-me': 'a',
        };
        if (q.has('gzip')) {
          body = gzipSync(body);
          headers['content-encoding'] = 'gzip';
        }
        headers['content-length'] = body.length;
        res.writeHead(Number(q.get('status') ?? 200), headers);
        res.end(body);
      });
    }),
  );
  beforeEach(() => {
    seen.length = 0;
  });
  afterEach(() => {
    proxy = undefined;
  });

  const configWith = (
    routes: Partial<RouteEntity>[],
    plugins: Record<string, unknown>[],
  ): DeclarativeConfig =>
    serviceConfig({ host: '127.0.0.1', port: upstream.port }, routes, {
      plugins: plugins as DeclarativeConfig['plugins'],
    });
  const start = async (routes: Partial<RouteEntity>[], plugins: Record<string, unknown>[]) => {
    proxy = await startProxy({
      components: DATA_PLANE_COMPONENTS,
      plugins: PLUGINS,
      config: configWith(routes, plugins),
    });
    return proxy;
  };
  const get = (path: string, headers?: Record<string, string>): Promise<Reply> =>
    send(proxy!.port, { path, headers });
  const seenBy = (reply: Reply): Seen => JSON.parse(reply.text) as Seen;

  describe('proxy-cache', () => {
    beforeEach(() => {
      clock.ms = 1_700_000_000_000;
    });

    it('Miss then Hit: the hit is not sent upstream and replays the same body, length and an Age', async () => {
      await start([{ id: 'route-1', paths: ['/cached'] }], [cacheRow({}, onRoute('route-1'))]);
      const miss = await get('/cached/item');
      assert.equal(miss.status, 200);
      assert.equal(miss.headers['x-cache-status'], 'Miss');
      assert.match(String(miss.headers['x-cache-key']), /^[0-9a-f]{64}$/);
      assert.equal(seen.length, 1);

      clock.ms += 7_000;
      const hit = await get('/cached/item');
      assert.equal(hit.status, 200);
      assert.equal(hit.headers['x-cache-status'], 'Hit');
      assert.equal(hit.headers['x-cache-key'], miss.headers['x-cache-key']);
      assert.equal(hit.headers.age, '7');
      assert.equal(seen.length, 1, 'the hit did not reach the upstream');
      assert.deepEqual(hit.bytes, miss.bytes);
      assert.equal(hit.headers['content-length'], String(miss.bytes.length));
      assert.equal(hit.headers['content-length'], miss.headers['content-length']);
      assert.equal(hit.headers['content-type'], 'application/json');
      assert.equal(hit.headers['transfer-encoding'], undefined);
    });

    it('bypasses POST, and responses whose status or content type is not cacheable', async () => {
      await start([{ id: 'route-1', paths: ['/cached'] }], [cacheRow({})]);
      for (let i = 0; i < 2; i += 1) {
        const post = await send(proxy!.port, { method: 'POST', path: '/cached/p', body: 'x' });
        assert.equal(post.headers['x-cache-status'], 'Bypass');
        // A request-side bypass computes no key.
        assert.equal(post.headers['x-cache-key'], undefined);
        const failed = await get('/cached/s?status=500');
        assert.equal(failed.status, 500);
        assert.equal(failed.headers['x-cache-status'], 'Bypass');
        const html = await get('/cached/h?type=text/html');
        assert.equal(html.headers['x-cache-status'], 'Bypass');
        // A parameter the configured type lacks does not match (Kong compares parameters too).
        const charset = await get('/cached/c?type=application/json;%20charset=utf-8');
        assert.equal(charset.headers['x-cache-status'], 'Bypass');
      }
      assert.equal(seen.length, 8, 'every bypassed request went upstream, both times');
    });

    it('cache_ttl: an entry older than cache_ttl is fetched again (Miss; Refresh while storage_ttl keeps it)', async () => {
      await start(
        [
          { id: 'route-1', paths: ['/short'] },
          { id: 'route-2', paths: ['/stored'] },
        ],
        [
          cacheRow({ cache_ttl: 10 }, onRoute('route-1')),
          cacheRow({ cache_ttl: 10, storage_ttl: 100 }, onRoute('route-2')),
        ],
      );
      const paths = ['/short', '/stored'];
      for (const path of paths) assert.equal((await get(path)).headers['x-cache-status'], 'Miss');
      clock.ms += 9_000;
      for (const path of paths)
        assert.equal((await get(path)).headers['x-cache-status'], 'Hit', `${path} within cache_ttl`);
      assert.equal(seen.length, 2);
      clock.ms += 2_000;
      const expired = await get('/short');
      assert.equal(expired.headers['x-cache-status'], 'Miss');
      assert.equal(seenBy(expired).url, '/short');
      assert.equal((await get('/stored')).headers['x-cache-status'], 'Refresh');
      assert.equal(seen.length, 4);
      // Both were stored again: hits from here.
      assert.equal((await get('/short')).headers['x-cache-status'], 'Hit');
      assert.equal((await get('/stored')).headers['x-cache-status'], 'Hit');
      assert.equal(seen.length, 4);
    });

    it('vary_headers: the listed header is part of the key, others are not; query order does not matter', async () => {
      await start([{ id: 'route-1', paths: ['/vary'] }], [cacheRow({ vary_headers: ['X-Lang'] })]);
      const status = async (headers: Record<string, string>, path = '/vary?a=1&b=2') =>
        (await get(path, headers)).headers['x-cache-status'];
      assert.equal(await status({ 'x-lang': 'en' }), 'Miss');
      assert.equal(await status({ 'x-lang': 'fr' }), 'Miss');
      assert.equal(await status({ 'x-lang': 'en', 'x-other': '1' }), 'Hit');
      assert.equal(await status({ 'x-lang': 'fr' }, '/vary?b=2&a=1'), 'Hit');
      assert.equal(await status({}), 'Miss');
      assert.equal(await status({ 'x-lang': 'en' }, '/vary?a=1&b=3'), 'Miss');
      assert.equal(seen.length, 4);
      const en = await get('/vary?a=1&b=2', { 'x-lang': 'en' });
      assert.equal(seenBy(en).headers['x-lang'], 'en');
    });

    it('caches a 1 MB body and serves it intact with its exact Content-Length', async () => {
      await start([{ id: 'route-1', paths: ['/big'] }], [cacheRow({})]);
      const size = 1024 * 1024;
      const expected = patterned(size);
      const miss = await get(`/big?size=${size}`);
      assert.equal(miss.headers['x-cache-status'], 'Miss');
      assert.ok(miss.bytes.equals(expected));
      const hit = await get(`/big?size=${size}`);
      assert.equal(hit.headers['x-cache-status'], 'Hit');
      assert.equal(hit.headers['content-length'], String(size));
      assert.ok(hit.bytes.equals(expected), 'the cached body is byte for byte the upstream one');
      assert.equal(seen.length, 1);
    });

    it('scoped to a route: another route without the plugin always goes upstream and gets no cache headers', async () => {
      await start(
        [
          { id: 'route-1', paths: ['/cached'] },
          { id: 'route-2', paths: ['/plain'] },
        ],
        [cacheRow({}, onRoute('route-1'))],
      );
      await get('/cached');
      assert.equal((await get('/cached')).headers['x-cache-status'], 'Hit');
      const plain = [await get('/plain'), await get('/plain')];
      for (const reply of plain) {
        assert.equal(reply.headers['x-cache-status'], undefined);
        assert.equal(reply.headers['x-cache-key'], undefined);
        assert.equal(reply.headers.age, undefined);
      }
      assert.equal(seenBy(plain[1]!).url, '/plain');
      assert.equal(seen.length, 3);
    });

    it('keeps its entries across a configuration update (a new configuration version)', async () => {
      const cache = cacheRow({}, onRoute('route-1'));
      await start([{ id: 'route-1', paths: ['/cached'] }], [cache]);
      const miss = await get('/cached/kept');
      assert.equal(miss.headers['x-cache-status'], 'Miss');
      await proxy!.proxy.apply(
        configWith(
          [
            { id: 'route-1', paths: ['/cached'] },
            { id: 'route-2', paths: ['/added'] },
          ],
          [cache],
        ),
      );
      assert.equal((await get('/added')).status, 200, 'the new configuration is served');
      const hit = await get('/cached/kept');
      assert.equal(hit.headers['x-cache-status'], 'Hit');
      assert.deepEqual(hit.bytes, miss.bytes);
      assert.equal(seen.length, 2);
    });
  });

  describe('request-transformer', () => {
    const ALL = {
      remove: { headers: ['x-drop'], querystring: ['drop'], body: ['drop'] },
      rename: { headers: ['x-old:x-new'], querystring: ['old:new'], body: ['old:new'] },
      replace: { headers: ['x-swap:swapped'], querystring: ['swap:swapped'], body: ['swap:swapped'] },
      add: {
        headers: ['x-added:$(query_params.keep)', 'x-keep:not-used'],
        querystring: ['added:yes'],
        body: ['added:yes'],
      },
      append: { headers: ['x-multi:two'], querystring: ['multi:two'], body: ['multi:two'] },
    };
    const QUERY = '?drop=1&old=o&swap=s&multi=one&keep=k';
    const HEADERS = { 'x-drop': '1', 'x-old': 'o', 'x-swap': 's', 'x-keep': 'mine', 'x-multi': 'one' };

    it('headers and query string: remove, rename, replace, add, append as the upstream sees them', async () => {
      await start([{ id: 'route-1', paths: ['/rt'] }], [requestRow(ALL)]);
      const echo = seenBy(await get(`/rt${QUERY}`, HEADERS));
      assert.equal(echo.headers['x-drop'], undefined);
      assert.equal(echo.headers['x-old'], undefined);
      assert.equal(echo.headers['x-new'], 'o');
      assert.equal(echo.headers['x-swap'], 'swapped');
      assert.equal(echo.headers['x-added'], 'k', 'templates read the request');
      assert.equal(echo.headers['x-keep'], 'mine', 'add does not overwrite');
      assert.equal(echo.headers['x-multi'], 'one, two');
      // Kong's set_query order: by name.
      assert.equal(echo.url, '/rt?added=yes&keep=k&multi=one&multi=two&new=o&swap=swapped');
    });

    it('form and JSON bodies: the same operations, sent with the new Content-Length', async () => {
      await start([{ id: 'route-1', paths: ['/rt'] }], [requestRow(ALL)]);
      const form = seenBy(
        await send(proxy!.port, {
          method: 'POST',
          path: '/rt',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'drop=1&old=o&swap=s&multi=one',
        }),
      );
      assert.equal(form.body, 'swap=swapped&multi=one&multi=two&new=o&added=yes');
      assert.equal(form.headers['content-length'], String(form.body.length));
      const json = seenBy(
        await send(proxy!.port, {
          method: 'POST',
          path: '/rt',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ drop: 1, old: 'ö', swap: 's', multi: 'one' }),
        }),
      );
      assert.deepEqual(JSON.parse(json.body), {
        swap: 'swapped',
        multi: ['one', 'two'],
        new: 'ö',
        added: 'yes',
      });
      assert.equal(json.headers['content-length'], String(Buffer.byteLength(json.body)));
    });

    it('replace.headers host: sets the Host sent upstream', async () => {
      await start(
        [
          { id: 'route-1', paths: ['/host'] },
          { id: 'route-2', paths: ['/other'] },
        ],
        [requestRow({ replace: { headers: ['host:api.example.test'] } }, onRoute('route-1'))],
      );
      assert.equal(seenBy(await get('/host')).headers.host, 'api.example.test');
      // Scoped to route-1: the other route keeps the target's Host.
      assert.equal(seenBy(await get('/other')).headers.host, `127.0.0.1:${upstream.port}`);
    });

    it('replace.uri with $(uri_captures…) of a regex route', async () => {
      await start(
        [{ id: 'route-1', paths: ['~/users/(?<id>\\d+)/posts/(\\d+)$'] }],
        [requestRow({ replace: { uri: '/v2/u/$(uri_captures.id)/p/$(uri_captures[2])' } })],
      );
      assert.equal(seenBy(await get('/users/42/posts/7?x=1')).url, '/v2/u/42/p/7?x=1');
    });

    it('http_method: a form POST sent as GET carries its fields in the query too', async () => {
      await start([{ id: 'route-1', paths: ['/m'] }], [requestRow({ http_method: 'GET' })]);
      const echo = seenBy(
        await send(proxy!.port, {
          method: 'POST',
          path: '/m?z=0',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'a=1&b=2',
        }),
      );
      assert.equal(echo.method, 'GET');
      assert.equal(echo.url, '/m?a=1&b=2&z=0');
    });
  });

  describe('request-transformer on multipart/form-data bodies', () => {
    let forms: Upstream;
    let hits = 0;
    before(async () => {
      forms = await startFormUpstream();
      forms.server.on('request', () => (hits += 1));
    });
    after(async () => forms.close());
    const startForms = async (config: Record<string, unknown>) => {
      proxy = await startProxy({
        components: DATA_PLANE_COMPONENTS,
        plugins: PLUGINS,
        config: serviceConfig({ host: '127.0.0.1', port: forms.port }, [{ id: 'route-1', paths: ['/mp'] }], {
          plugins: [requestRow(config)] as DeclarativeConfig['plugins'],
        }),
      });
    };
    const post = (body: Buffer | string, contentType: string) =>
      send(proxy!.port, { method: 'POST', path: '/mp', headers: { 'content-type': contentType }, body });
    const FILE = patterned(1024 * 1024);

    it('renames, removes, replaces, adds and appends fields; a 1 MB file part arrives byte for byte', async () => {
      await startForms({
        remove: { body: ['drop'] },
        rename: { body: ['old:new', 'upload:document'] },
        replace: { body: ['swap:swapped'] },
        add: { body: ['added:$(headers.x_tag)'] },
        append: { body: ['multi:two'] },
      });
      const form = new FormData();
      form.append('drop', '1');
      form.append('old', 'ö');
      form.append('swap', 's');
      form.append('multi', 'one');
      form.append('upload', new Blob([FILE], { type: 'application/octet-stream' }), 'data.bin');
      const { body, contentType } = await encodeForm(form);
      const reply = await send(proxy!.port, {
        method: 'POST',
        path: '/mp',
        headers: { 'content-type': contentType, 'x-tag': 'tagged' },
        body,
      });
      assert.equal(reply.status, 200, reply.text);
      const echo = JSON.parse(reply.text) as FormEcho;
      assert.equal(echo.error, undefined);
      assert.equal(echo.contentType, contentType, 'the boundary is kept');
      assert.equal(echo.contentLength, String(echo.bytes));
      assert.deepEqual(echo.fields, [
        ['new', 'ö'],
        ['swap', 'swapped'],
        ['multi', 'one'],
        ['document', { filename: 'data.bin', type: 'application/octet-stream', hex: FILE.toString('hex') }],
        ['added', 'tagged'],
        ['multi', 'two'],
      ]);
    });

    it('sends a body it has nothing to change byte for byte', async () => {
      await startForms({ remove: { body: ['absent'] }, rename: { body: ['absent:other'] } });
      const form = new FormData();
      form.append('keep', 'k');
      form.append('f', new Blob([FILE.subarray(0, 4096)]), 'f.bin');
      const encoded = await encodeForm(form);
      // A preamble and an epilogue, which a rewritten body would not have.
      const body = Buffer.concat([Buffer.from('preamble\r\n'), encoded.body, Buffer.from('epilogue')]);
      const echo = JSON.parse((await post(body, encoded.contentType)).text) as FormEcho;
      assert.equal(echo.sha256, sha256(body));
    });

    it('answers 400 for a malformed multipart body, without calling the upstream', async () => {
      await startForms({ remove: { body: ['secret'] } });
      const before = hits;
      const cases: [string, string, RegExp][] = [
        [
          '--b\r\nContent-Disposition: form-data; name="secret"\r\n\r\ncut sho',
          'multipart/form-data; boundary=b',
          /no closing '--b' delimiter/,
        ],
        ['secret=1', 'multipart/form-data', /no boundary in the Content-Type/],
        [
          '--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--\r\n',
          'multipart/form-data; boundary=b',
          /no Content-Disposition/,
        ],
      ];
      for (const [body, contentType, message] of cases) {
        const reply = await post(body, contentType);
        assert.equal(reply.status, 400);
        const { message: text } = JSON.parse(reply.text) as { message: string };
        assert.match(text, /^Invalid multipart\/form-data body: /);
        assert.match(text, message);
      }
      assert.equal(hits, before);
    });
  });

  describe('response-transformer', () => {
    const CONFIG = {
      remove: { headers: ['x-remove-me'], json: ['drop'] },
      replace: { headers: ['x-replace-me:new'], json: ['swap:swapped'] },
      add: { headers: ['x-added:yes'], json: ['added:1'], json_types: ['number'] },
      append: { headers: ['x-append-me:b'] },
    };
    const BODY = encodeURIComponent(JSON.stringify({ drop: true, swap: 'old', keep: 'é' }));
    const checkHeaders = (reply: Reply) => {
      assert.equal(reply.headers['x-remove-me'], undefined);
      assert.equal(reply.headers['x-replace-me'], 'new');
      assert.equal(reply.headers['x-added'], 'yes');
      assert.equal(reply.headers['x-append-me'], 'a, b');
    };

    it('headers and a JSON body: remove, replace, add, append, with the new body’s Content-Length', async () => {
      await start([{ id: 'route-1', paths: ['/res'] }], [responseRow(CONFIG)]);
      const reply = await get(`/res?body=${BODY}`);
      checkHeaders(reply);
      assert.deepEqual(JSON.parse(reply.text), { swap: 'swapped', keep: 'é', added: 1 });
      assert.equal(reply.headers['content-length'], String(reply.bytes.length));
      assert.equal(reply.headers['transfer-encoding'], undefined);
    });

    it('leaves non-JSON and gzip-encoded bodies untouched (headers are still transformed)', async () => {
      await start([{ id: 'route-1', paths: ['/res'] }], [responseRow(CONFIG)]);
      const text = await get(`/res?type=text/plain&body=${BODY}`);
      checkHeaders(text);
      assert.equal(text.text, decodeURIComponent(BODY));
      assert.equal(text.headers['content-length'], String(text.bytes.length));
      const gzipped = await get(`/res?gzip=1&body=${BODY}`);
      checkHeaders(gzipped);
      assert.equal(gzipped.headers['content-encoding'], 'gzip');
      assert.ok(gzipped.bytes.equals(gzipSync(Buffer.from(decodeURIComponent(BODY)))));
      assert.equal(gzipped.headers['content-length'], String(gzipped.bytes.length));
    });
  });

  describe('request-transformer + response-transformer + proxy-cache on one route', () => {
    beforeEach(() => {
      clock.ms = 1_700_000_000_000;
    });

    // Kong's order by priority: request-transformer (801) changes the request in access before proxy-cache
    // (100) looks it up; in header_filter/body_filter response-transformer (800) runs before proxy-cache, so
    // what is stored is the transformed response, and on a hit response-transformer runs again on it.
    it('stores the transformed response; a hit is answered without the upstream and transformed again', async () => {
      const route = onRoute('route-1');
      await start(
        [{ id: 'route-1', paths: ['/combo'] }],
        [
          cacheRow({}, route),
          requestRow({ add: { headers: ['x-from-request-transformer:yes'] } }, route),
          responseRow(
            {
              remove: { json: ['rawHeaders'] },
              add: { json: ['transformed:yes'] },
              append: { headers: ['x-passes:1'] },
            },
            route,
          ),
        ],
      );
      const miss = await get('/combo/x');
      assert.equal(miss.headers['x-cache-status'], 'Miss');
      const body = JSON.parse(miss.text) as Seen & { transformed: string };
      assert.equal(body.headers['x-from-request-transformer'], 'yes');
      assert.equal(body.transformed, 'yes');
      assert.equal(miss.headers['x-passes'], '1');
      assert.equal(miss.headers['content-length'], String(miss.bytes.length));

      const hit = await get('/combo/x');
      assert.equal(hit.headers['x-cache-status'], 'Hit');
      assert.equal(seen.length, 1);
      // The stored body was already transformed; `add` only adds what is absent, so it stays the same.
      assert.deepEqual(hit.bytes, miss.bytes);
      assert.equal(hit.headers['content-length'], String(hit.bytes.length));
      // header_filter ran for the cached answer too: the stored `x-passes` got one more value.
      assert.equal(hit.headers['x-passes'], '1, 1');
    });

    it('keys the cache on the request as request-transformer left it (method, query, headers), as Kong', async () => {
      await start(
        [{ id: 'route-1', paths: ['/combo'] }],
        [
          cacheRow({ vary_headers: ['x-tenant'] }),
          requestRow({
            remove: { querystring: ['cachebuster', 'tenant'] },
            add: { headers: ['x-tenant:$(query_params.tenant or "none")'] },
          }),
        ],
      );
      const status = async (path: string) => (await get(path)).headers['x-cache-status'];
      assert.equal(await status('/combo/y?cachebuster=1'), 'Miss');
      // The argument request-transformer removed is not part of the key.
      assert.equal(await status('/combo/y?cachebuster=2'), 'Hit');
      // A header it added is, through vary_headers (`tenant` itself is removed from the query).
      assert.equal(await status('/combo/y?tenant=a'), 'Miss');
      assert.equal(await status('/combo/y?tenant=a&cachebuster=3'), 'Hit');
      assert.equal(seen.length, 2);
    });
  });
});

describe('plugins: proxy-cache, request-transformer, response-transformer config validation (real CP)', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let nodes: ClusterNodes;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir('hybrid-transform-plugins-'));
    nodes = new ClusterNodes(dir);
    assert.equal((await runCli(['gen_cert', 'shared.crt', 'shared.key'], { cwd: dir })).exitCode, 0);
  });
  after(async () => {
    await nodes.stopAll();
    await cleanup();
  });

  it("answers 400 with the field's error for each plugin's invalid config", async () => {
    const cp = await nodes.controlPlane('cp', ['cluster_cert = shared.crt', 'cluster_cert_key = shared.key']);
    await nodes.start(cp);
    const post = async (body: Record<string, unknown>) => {
      const res = await fetch(`http://127.0.0.1:${cp.admin}/plugins`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { fields?: unknown } };
    };
    const cache = await post({ name: 'proxy-cache', config: { strategy: 'redis' } });
    assert.equal(cache.status, 400);
    assert.deepEqual(cache.body.fields, { config: { strategy: 'expected one of: memory' } });
    const request = await post({ name: 'request-transformer', config: { add: { headers: ['no-colon'] } } });
    assert.equal(request.status, 400);
    assert.deepEqual(request.body.fields, {
      config: { add: { headers: ["invalid value: expected 'name:value'"] } },
    });
    const response = await post({
      name: 'response-transformer',
      config: { add: { json: ['n:1'], json_types: ['integer'] } },
    });
    assert.equal(response.status, 400);
    assert.deepEqual(response.body.fields, {
      config: { add: { json_types: ['expected one of: boolean, number, string'] } },
    });
    // The valid forms of the same configs are accepted.
    assert.equal((await post({ name: 'proxy-cache', config: { strategy: 'memory' } })).status, 201);
  });
});
