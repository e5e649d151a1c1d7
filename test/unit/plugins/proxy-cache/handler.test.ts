// proxy-cache through its handlers: miss → hit → expiry on an injected clock, bypass rules, Cache-Control,
// the cache key's parts, the replayed headers, and the store shared across configuration changes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { ConsumerEntity, PluginInstance } from '../../../../src/core/plugins/api.js';
import plugin, {
  createProxyCache,
  type ProxyCacheConfig,
} from '../../../../src/core/plugins/proxy-cache/handler.js';
import { validate } from '../../../../src/core/schema/schema.js';
import type { RouteEntity } from '../../../../src/core/proxy/types.js';
import { fakeContext } from '../../../helpers/plugin-context.js';

let dictionaryCount = 0;
let now = 1_700_000_000_000;
const open: PluginInstance<ProxyCacheConfig>[] = [];
const log = { debug() {}, info() {}, warn() {}, error() {} };

/** A config as the Admin API would store it: validated against the schema, defaults filled. */
function configOf(input: Record<string, unknown>): ProxyCacheConfig {
  const result = validate(
    { name: 'proxy-cache', fields: plugin.schema.config },
    { strategy: 'memory', memory: { dictionary_name: `test-${(dictionaryCount += 1)}` }, ...input },
  );
  assert.ok(result.ok, JSON.stringify(!result.ok && result.errors));
  return result.value as unknown as ProxyCacheConfig;
}

function instanceOf(config: ProxyCacheConfig): PluginInstance<ProxyCacheConfig> {
  const instance = createProxyCache(
    { config, pluginId: 'p1', log, node: { id: 'n', version: '0' } },
    () => now,
  );
  open.push(instance);
  return instance;
}

function cacheOf(input: Record<string, unknown> = {}) {
  const config = configOf(input);
  return { config, instance: instanceOf(config) };
}

interface Req {
  method?: string;
  path?: string;
  query?: string;
  headers?: IncomingHttpHeaders;
  consumer?: ConsumerEntity | null;
  route?: RouteEntity | null;
}
interface Upstream {
  status?: number;
  headers?: OutgoingHttpHeaders;
  body?: string;
}

/** One request: access, then (unless answered from the cache) the upstream's response through the filters. */
async function send(
  cache: { config: ProxyCacheConfig; instance: PluginInstance<ProxyCacheConfig> },
  req: Req = {},
  upstream: Upstream = {},
) {
  const ctx = fakeContext({
    config: cache.config,
    ...req,
    status: upstream.status ?? 200,
    responseHeaders: { 'content-type': 'application/json', ...upstream.headers },
  });
  await cache.instance.access!(ctx);
  if (ctx.exited) {
    await cache.instance.header_filter!(ctx);
    const headers = ctx.exited.headers;
    return {
      upstreamCalled: false,
      status: ctx.exited.status,
      headers,
      body: ctx.exited.body,
      xcs: headers['x-cache-status'],
    };
  }
  await cache.instance.header_filter!(ctx);
  const kept = await cache.instance.body_filter!(ctx, Buffer.from(upstream.body ?? '{"n":1}'));
  assert.equal(kept, undefined, 'proxy-cache never changes the body');
  const headers = ctx.response.headers;
  return {
    upstreamCalled: true,
    status: ctx.response.status,
    headers,
    body: undefined,
    xcs: headers['x-cache-status'],
  };
}

describe('proxy-cache', () => {
  afterEach(async () => {
    for (const instance of open.splice(0)) await instance.close!();
  });

  it("is Kong's proxy-cache at priority 100 with a per-entity instance", async () => {
    assert.equal(plugin.name, 'proxy-cache');
    assert.equal(plugin.priority, 100);
    const instance = await plugin.init!({
      config: configOf({}),
      pluginId: 'p',
      log,
      node: { id: 'n', version: '0' },
    });
    open.push(instance);
    assert.equal(typeof instance.access, 'function');
  });

  describe('miss, hit, expiry', () => {
    it('stores a miss, answers the same request from memory with Age, and refreshes after cache_ttl', async () => {
      const cache = cacheOf({ cache_ttl: 30, storage_ttl: 600 });
      const miss = await send(cache, { path: '/a' }, { body: '{"v":1}', headers: { 'x-upstream': 'yes' } });
      assert.equal(miss.upstreamCalled, true);
      assert.equal(miss.xcs, 'Miss');
      const key = miss.headers['x-cache-key'];
      assert.match(String(key), /^[0-9a-f]{64}$/);

      now += 10_000;
      const hit = await send(cache, { path: '/a' });
      assert.equal(hit.upstreamCalled, false);
      assert.equal(hit.status, 200);
      assert.ok(Buffer.isBuffer(hit.body), 'the stored bytes are answered as a Buffer');
      assert.equal((hit.body as Buffer).toString(), '{"v":1}');
      assert.equal(hit.headers['x-cache-status'], 'Hit');
      assert.equal(hit.headers['x-cache-key'], key);
      assert.equal(hit.headers.age, '10');
      assert.equal(hit.headers['x-upstream'], 'yes');
      assert.equal(hit.headers['content-type'], 'application/json');

      now += 21_000; // 31 s after storing: older than cache_ttl
      const refresh = await send(cache, { path: '/a' }, { body: '{"v":2}' });
      assert.equal(refresh.upstreamCalled, true);
      assert.equal(refresh.xcs, 'Refresh');
      const again = await send(cache, { path: '/a' });
      assert.equal((again.body as Buffer).toString(), '{"v":2}');
      assert.equal(again.headers.age, '0');
    });

    it('forgets the entry after cache_ttl when no storage_ttl keeps it longer', async () => {
      const cache = cacheOf({ cache_ttl: 30 });
      await send(cache, { path: '/t' });
      now += 29_000;
      assert.equal((await send(cache, { path: '/t' })).xcs, 'Hit');
      now += 2_000;
      assert.equal((await send(cache, { path: '/t' })).xcs, 'Miss');
    });

    it('drops the entry from memory after storage_ttl even when cache_ttl is longer', async () => {
      const cache = cacheOf({ cache_ttl: 300, storage_ttl: 5 });
      await send(cache, { path: '/s' });
      now += 4_000;
      assert.equal((await send(cache, { path: '/s' })).xcs, 'Hit');
      now += 2_000;
      assert.equal((await send(cache, { path: '/s' })).xcs, 'Miss');
    });

    it('keys HEAD apart from GET', async () => {
      const cache = cacheOf({});
      await send(cache, { method: 'GET', path: '/h' });
      assert.equal((await send(cache, { method: 'HEAD', path: '/h' })).xcs, 'Miss');
      assert.equal((await send(cache, { method: 'HEAD', path: '/h' })).xcs, 'Hit');
    });
  });

  describe('bypass', () => {
    it('bypasses methods not in request_method without a key', async () => {
      const cache = cacheOf({});
      const post = await send(cache, { method: 'POST', path: '/p' });
      assert.equal(post.xcs, 'Bypass');
      assert.equal(post.headers['x-cache-key'], undefined);
      assert.equal((await send(cache, { method: 'POST', path: '/p' })).upstreamCalled, true);
    });

    it('bypasses and does not store statuses outside response_code', async () => {
      const cache = cacheOf({});
      assert.equal((await send(cache, { path: '/e' }, { status: 500 })).xcs, 'Bypass');
      assert.equal((await send(cache, { path: '/e' }, { status: 500 })).xcs, 'Bypass');
      assert.equal((await send(cache, { path: '/e' }, { status: 404 })).xcs, 'Miss');
      assert.equal((await send(cache, { path: '/e' })).status, 404, 'a 404 is cacheable by default');
    });

    it('matches content types exactly, with parameters and wildcards', async () => {
      const cache = cacheOf({ content_type: ['application/json; charset=utf-8', 'text/*'] });
      const outcome = async (path: string, type: string | undefined) => {
        await send(cache, { path }, { headers: { 'content-type': type } });
        return (await send(cache, { path })).xcs;
      };
      assert.equal(await outcome('/1', 'application/json; charset=utf-8'), 'Hit');
      assert.equal(await outcome('/2', 'application/json'), 'Bypass', 'parameters must match too');
      assert.equal(await outcome('/3', 'text/html'), 'Hit');
      assert.equal(await outcome('/4', 'image/png'), 'Bypass');
      assert.equal(await outcome('/5', undefined), 'Bypass');
    });
  });

  describe('Cache-Control (cache_control = true)', () => {
    const publicFor = (s: number) => ({ 'cache-control': `public, max-age=${s}` });

    it('bypasses requests with no-cache, no-store or Authorization', async () => {
      const cache = cacheOf({ cache_control: true });
      for (const headers of [
        { 'cache-control': 'no-cache' },
        { 'cache-control': 'no-store' },
        { authorization: 'Basic x' },
      ])
        assert.equal((await send(cache, { path: '/r', headers }, { headers: publicFor(60) })).xcs, 'Bypass');
    });

    it('does not store private, no-store, no-cache or lifetime-less responses', async () => {
      const cache = cacheOf({ cache_control: true });
      const cases: OutgoingHttpHeaders[] = [
        { 'cache-control': 'private, max-age=60' },
        { 'cache-control': 'no-store, max-age=60' },
        { 'cache-control': 'no-cache, max-age=60' },
        { 'cache-control': 'public' },
        { 'cache-control': 'max-age=0' },
        {},
      ];
      for (const [i, headers] of cases.entries()) {
        assert.equal(
          (await send(cache, { path: `/n${i}` }, { headers })).xcs,
          'Bypass',
          JSON.stringify(headers),
        );
        assert.equal((await send(cache, { path: `/n${i}` }, { headers })).upstreamCalled, true);
      }
    });

    it('keeps a response for s-maxage over max-age, then forgets it', async () => {
      const cache = cacheOf({ cache_control: true, cache_ttl: 1 });
      await send(cache, { path: '/s' }, { headers: { 'cache-control': 'max-age=10, s-maxage=100' } });
      now += 50_000;
      assert.equal((await send(cache, { path: '/s' })).xcs, 'Hit', 'cache_ttl does not apply');
      now += 51_000;
      assert.equal((await send(cache, { path: '/s' }, { headers: publicFor(60) })).xcs, 'Miss');
    });

    it('takes the lifetime from Expires when no max-age is given', async () => {
      const cache = cacheOf({ cache_control: true });
      const expires = new Date(now + 20_000).toUTCString();
      assert.equal((await send(cache, { path: '/x' }, { headers: { expires } })).xcs, 'Miss');
      now += 10_000;
      assert.equal((await send(cache, { path: '/x' })).xcs, 'Hit');
      now += 11_000;
      assert.equal((await send(cache, { path: '/x' }, { headers: publicFor(60) })).xcs, 'Miss');
      const past = new Date(now - 1000).toUTCString();
      assert.equal((await send(cache, { path: '/y' }, { headers: { expires: past } })).xcs, 'Bypass');
    });

    it("refreshes when the client's max-age or min-fresh refuses the stored response", async () => {
      const cache = cacheOf({ cache_control: true });
      await send(cache, { path: '/m' }, { headers: publicFor(100) });
      now += 10_000;
      assert.equal(
        (await send(cache, { path: '/m', headers: { 'cache-control': 'max-age=20' } })).xcs,
        'Hit',
      );
      const refused = await send(
        cache,
        { path: '/m', headers: { 'cache-control': 'max-age=5' } },
        { headers: publicFor(100) },
      );
      assert.equal(refused.xcs, 'Refresh');
      assert.equal(refused.upstreamCalled, true);
      now += 10_000; // the refreshed response is 10 s old, 90 s left
      assert.equal(
        (await send(cache, { path: '/m', headers: { 'cache-control': 'min-fresh=50' } })).xcs,
        'Hit',
      );
      const notFresh = { 'cache-control': 'min-fresh=95' };
      assert.equal(
        (await send(cache, { path: '/m', headers: notFresh }, { headers: publicFor(100) })).xcs,
        'Refresh',
      );
    });

    it('serves stale entries kept by storage_ttl only within max-stale', async () => {
      const cache = cacheOf({ cache_control: true, storage_ttl: 1000 });
      await send(cache, { path: '/st' }, { headers: publicFor(10) });
      now += 40_000; // 30 s stale
      assert.equal(
        (await send(cache, { path: '/st', headers: { 'cache-control': 'max-stale=60' } })).xcs,
        'Hit',
      );
      const tooStale = { 'cache-control': 'max-stale=10' };
      assert.equal(
        (await send(cache, { path: '/st', headers: tooStale }, { headers: publicFor(10) })).xcs,
        'Refresh',
      );
    });

    it('answers 504 to only-if-cached when nothing is stored', async () => {
      const cache = cacheOf({ cache_control: true });
      const answer = await send(cache, { path: '/o', headers: { 'cache-control': 'only-if-cached' } });
      assert.equal(answer.upstreamCalled, false);
      assert.equal(answer.status, 504);
    });

    it('ignores Cache-Control when cache_control is off', async () => {
      const cache = cacheOf({});
      await send(
        cache,
        { path: '/i', headers: { 'cache-control': 'no-store' } },
        { headers: { 'cache-control': 'private, no-store' } },
      );
      assert.equal((await send(cache, { path: '/i', headers: { 'cache-control': 'no-cache' } })).xcs, 'Hit');
    });
  });

  describe('cache key', () => {
    it("is Kong's sha256 of prefix|method|request line|query|headers", async () => {
      const cache = cacheOf({ vary_headers: ['Accept-Language'] });
      const route = { id: 'route-1' } as RouteEntity;
      const miss = await send(cache, {
        path: '/k',
        query: 'b=y&a=2&a=1',
        route,
        headers: { 'accept-language': 'fr' },
      });
      const text = 'route-1|GET|GET /k|a=1,2:b=y|Accept-Language=fr';
      assert.equal(miss.headers['x-cache-key'], createHash('sha256').update(text).digest('hex'));
    });

    it('varies by vary_headers only when configured', async () => {
      const plain = cacheOf({});
      await send(plain, { path: '/v', headers: { 'accept-language': 'en' } });
      assert.equal((await send(plain, { path: '/v', headers: { 'accept-language': 'de' } })).xcs, 'Hit');

      const varied = cacheOf({ vary_headers: ['accept-language'] });
      await send(varied, { path: '/v', headers: { 'accept-language': 'en' } });
      assert.equal((await send(varied, { path: '/v', headers: { 'accept-language': 'de' } })).xcs, 'Miss');
      assert.equal((await send(varied, { path: '/v', headers: { 'accept-language': 'en' } })).xcs, 'Hit');
    });

    it('varies by every query argument, in any order, unless vary_query_params narrows it', async () => {
      const all = cacheOf({});
      await send(all, { path: '/q', query: 'a=1&b=2' });
      assert.equal((await send(all, { path: '/q', query: 'b=2&a=1' })).xcs, 'Hit');
      assert.equal((await send(all, { path: '/q', query: 'a=1&b=3' })).xcs, 'Miss');

      const some = cacheOf({ vary_query_params: ['a'] });
      await send(some, { path: '/q', query: 'a=1&b=2' });
      assert.equal((await send(some, { path: '/q', query: 'a=1&b=3' })).xcs, 'Hit');
      assert.equal((await send(some, { path: '/q', query: 'a=2' })).xcs, 'Miss');
    });

    it('keeps consumers on a route apart, and folds case with ignore_uri_case', async () => {
      const cache = cacheOf({});
      const route = { id: 'r' } as RouteEntity;
      await send(cache, { path: '/c', route, consumer: { id: 'alice' } });
      assert.equal((await send(cache, { path: '/c', route, consumer: { id: 'bob' } })).xcs, 'Miss');
      assert.equal((await send(cache, { path: '/c', route, consumer: { id: 'alice' } })).xcs, 'Hit');
      assert.equal((await send(cache, { path: '/C', route, consumer: { id: 'alice' } })).xcs, 'Miss');

      const folded = cacheOf({ ignore_uri_case: true });
      await send(folded, { path: '/Case' });
      assert.equal((await send(folded, { path: '/cASE' })).xcs, 'Hit');
    });
  });

  describe('replayed headers', () => {
    it('drops hop-by-hop, Content-Length and rate-limit counters from a hit', async () => {
      const cache = cacheOf({});
      await send(
        cache,
        { path: '/h' },
        {
          headers: {
            connection: 'keep-alive',
            'transfer-encoding': 'chunked',
            'content-length': 7,
            'x-ratelimit-remaining-minute': 4,
            'ratelimit-remaining': 4,
            'x-ratelimit-limit-minute': 5,
          },
        },
      );
      const hit = await send(cache, { path: '/h' });
      for (const name of [
        'connection',
        'transfer-encoding',
        'content-length',
        'x-ratelimit-remaining-minute',
        'ratelimit-remaining',
      ])
        assert.equal(hit.headers[name], undefined, name);
      assert.equal(hit.headers['x-ratelimit-limit-minute'], '5');
    });

    it('leaves out the diagnostic headers response_headers turns off, unless the client sends Kong-Debug', async () => {
      const cache = cacheOf({
        response_headers: { age: false, 'X-Cache-Status': false, 'X-Cache-Key': false },
      });
      const miss = await send(cache, { path: '/d' });
      assert.equal(miss.headers['x-cache-status'], undefined);
      assert.equal(miss.headers['x-cache-key'], undefined);
      const hit = await send(cache, { path: '/d' });
      assert.equal(hit.upstreamCalled, false);
      assert.deepEqual(Object.keys(hit.headers).sort(), ['content-type']);
      const debug = await send(cache, { path: '/d', headers: { 'kong-debug': '1' } });
      assert.equal(debug.headers['x-cache-status'], 'Hit');
      assert.ok(debug.headers['x-cache-key']);
      assert.equal(debug.headers.age, '0');
    });
  });

  describe('memory', () => {
    it('drops the least recently used responses to stay within dictionary_size_mb', async () => {
      const cache = cacheOf({
        memory: { dictionary_name: `lru-${(dictionaryCount += 1)}`, dictionary_size_mb: 1 },
      });
      const big = 'x'.repeat(400 * 1024);
      await send(cache, { path: '/1' }, { body: big });
      await send(cache, { path: '/2' }, { body: big });
      assert.equal((await send(cache, { path: '/1' })).xcs, 'Hit', '/1 is now the most recently used');
      await send(cache, { path: '/3' }, { body: big });
      assert.equal((await send(cache, { path: '/2' })).xcs, 'Miss', '/2 was evicted');
      assert.equal((await send(cache, { path: '/1' })).xcs, 'Hit');
      const tooBig = await send(cache, { path: '/big' }, { body: 'y'.repeat(1024 * 1024) });
      assert.equal(tooBig.xcs, 'Miss');
      assert.equal(
        (await send(cache, { path: '/big' })).xcs,
        'Miss',
        'larger than the whole cache: never stored',
      );
    });

    it('keeps entries across a configuration change, shared by dictionary name', async () => {
      const name = `shared-${(dictionaryCount += 1)}`;
      const first = cacheOf({ memory: { dictionary_name: name } });
      await send(first, { path: '/keep' });
      const second = cacheOf({ memory: { dictionary_name: name }, cache_ttl: 60 });
      await first.instance.close!();
      assert.equal((await send(second, { path: '/keep' })).xcs, 'Hit');
      const other = cacheOf({});
      assert.equal((await send(other, { path: '/keep' })).xcs, 'Miss', 'another dictionary is another cache');
    });

    it('frees the dictionary when its last instance closes', async () => {
      const name = `freed-${(dictionaryCount += 1)}`;
      const first = cacheOf({ memory: { dictionary_name: name } });
      await send(first, { path: '/f' });
      await first.instance.close!();
      const later = cacheOf({ memory: { dictionary_name: name } });
      assert.equal((await send(later, { path: '/f' })).xcs, 'Miss');
    });
  });
});
