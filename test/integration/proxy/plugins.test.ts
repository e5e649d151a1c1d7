// The plugin runner on a real proxy path: phase order, request and response changes, exits with header_filter
// and log still running, a throwing plugin failing one request only, consumer-scoped plugins after
// authentication, and a zero-plugin configuration keeping the plain path.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { definePlugin, type PluginDefinition, type PluginLogRecord } from '../../../src/core/plugins/api.js';
import { BUNDLED_HANDLERS } from '../../../src/core/plugins/handlers.js';
import type { ProxyLog } from '../../../src/core/proxy/runtime.js';
import type { DeclarativeConfig } from '../../../src/core/proxy/types.js';
import { send, serviceConfig, proxySuite, type Echo, type TestProxy } from '../../helpers/proxy.js';
import { pluginRow } from '../../helpers/plugin-config.js';
import { waitUntil } from '../../helpers/wait.js';

type AnyDefinition = PluginDefinition<Record<string, unknown>>;

const schemaOf = (name: string) => ({ name, config: { tag: { type: 'string' as const, default: name } } });

/** Records every phase it runs in, in order, into a list the test reads. */
function tracer(name: string, priority: number, calls: string[]): AnyDefinition {
  const record = (phase: string) => (ctx: { config: Record<string, unknown> }) => {
    calls.push(`${String(ctx.config.tag)}:${phase}`);
  };
  return definePlugin<Record<string, unknown>>({
    name,
    version: '1.0.0',
    priority,
    schema: schemaOf(name),
    rewrite: record('rewrite'),
    access: record('access'),
    header_filter: record('header_filter'),
    log: record('log'),
  });
}

function recordingLog(): ProxyLog & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: string) => lines.push(`${level} ${message}`);
  return { lines, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

describe('proxy: plugins', () => {
  const { upstream, startProxy } = proxySuite();
  let proxy: TestProxy;

  const config = (plugins: Record<string, unknown>[], extra: Partial<DeclarativeConfig> = {}) =>
    serviceConfig({ host: '127.0.0.1', port: upstream.port }, [{ paths: ['/'] }], { plugins, ...extra });

  it('runs rewrite, access, header_filter and log in priority order for global plugins', async () => {
    const calls: string[] = [];
    proxy = await startProxy({
      plugins: new Map([
        ['low', tracer('low', 10, calls)],
        ['high', tracer('high', 1000, calls)],
      ]),
      config: config([pluginRow('low'), pluginRow('high')]),
    });
    const reply = await send(proxy.port, { path: '/x' });
    assert.equal(reply.status, 200);
    await waitUntil(() => calls.length === 8, { timeoutMs: 5000 });
    assert.deepEqual(calls, [
      'high:rewrite',
      'low:rewrite',
      'high:access',
      'low:access',
      'high:header_filter',
      'low:header_filter',
      'high:log',
      'low:log',
    ]);
  });

  it('changes the upstream request (headers, path, query, method, body) and the response head and body', async () => {
    const mutate = definePlugin<Record<string, unknown>>({
      name: 'mutate',
      version: '1.0.0',
      priority: 100,
      schema: schemaOf('mutate'),
      async access(ctx) {
        const body = await ctx.request.getBody();
        ctx.request.setHeader('X-Added', 'yes');
        ctx.request.removeHeader('x-drop-me');
        ctx.request.setPath('/rewritten');
        const query = new URLSearchParams(ctx.request.upstream.query);
        query.set('added', '1');
        ctx.request.setQuery(query);
        ctx.request.setMethod('PUT');
        ctx.request.setBody(`${body.toString()} and more`);
        ctx.response.setHeader('X-From-Access', 'set early');
      },
      header_filter(ctx) {
        ctx.response.setHeader('X-Filtered', String(ctx.response.status));
        ctx.response.removeHeader('x-upstream-port');
      },
      body_filter(_ctx, body) {
        const echo = JSON.parse(body.toString()) as Echo;
        return Buffer.from(JSON.stringify({ seen: echo }));
      },
    });
    proxy = await startProxy({
      plugins: new Map([['mutate', mutate as AnyDefinition]]),
      config: config([pluginRow('mutate')]),
    });
    const reply = await send(proxy.port, {
      method: 'POST',
      path: '/orig?a=1',
      headers: { 'x-drop-me': 'x', 'content-type': 'text/plain' },
      body: 'hello',
    });
    assert.equal(reply.status, 200);
    const { seen } = JSON.parse(reply.text) as { seen: Echo };
    assert.equal(seen.method, 'PUT');
    assert.equal(seen.url, '/rewritten?a=1&added=1');
    assert.equal(seen.body, 'hello and more');
    assert.equal(seen.headers['content-length'], String('hello and more'.length));
    assert.equal(seen.headers['x-added'], 'yes');
    assert.equal(seen.headers['x-drop-me'], undefined);
    assert.equal(reply.headers['x-filtered'], '200');
    assert.equal(reply.headers['x-from-access'], 'set early');
    assert.equal(reply.headers['x-upstream-port'], undefined);
    assert.equal(reply.headers['content-length'], String(Buffer.byteLength(reply.text)));
  });

  it("an exit answers without the upstream; later access handlers don't run; header_filter and log do", async () => {
    const calls: string[] = [];
    const records: PluginLogRecord[] = [];
    const gate = definePlugin<Record<string, unknown>>({
      name: 'gate',
      version: '1.0.0',
      priority: 500,
      schema: schemaOf('gate'),
      access(ctx) {
        calls.push('gate:access');
        ctx.exit(403, { message: 'go away' }, { 'X-Gate': 'closed' });
      },
      header_filter(ctx) {
        calls.push(`gate:header_filter:${ctx.response.status}:${String(ctx.response.fromPlugin)}`);
      },
      log(ctx) {
        records.push(ctx.logRecord!);
      },
    });
    let upstreamHits = 0;
    const count = () => upstreamHits++;
    upstream.server.on('request', count);
    proxy = await startProxy({
      plugins: new Map([
        ['gate', gate as AnyDefinition],
        ['after', tracer('after', 10, calls)],
      ]),
      config: config([pluginRow('gate'), pluginRow('after')]),
    });
    const reply = await send(proxy.port, { path: '/closed' });
    assert.equal(reply.status, 403);
    assert.deepEqual(JSON.parse(reply.text), { message: 'go away' });
    assert.equal(reply.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(reply.headers['x-gate'], 'closed');
    assert.equal(reply.headers.server, 'hybrid/0.1.0');
    await waitUntil(() => records.length === 1 && calls.includes('after:log'), { timeoutMs: 5000 });
    assert.deepEqual(calls, [
      'after:rewrite',
      'gate:access',
      'gate:header_filter:403:true',
      'after:header_filter',
      'after:log',
    ]);
    assert.equal(upstreamHits, 0);
    assert.equal(records[0]!.status, 403);
    assert.equal(records[0]!.upstreamAddress, null);
    assert.equal(records[0]!.upstreamLatencyMs, null);
    upstream.server.off('request', count);
  });

  it('a throwing plugin fails its request with 500, is logged by name, and the next request is served', async () => {
    const log = recordingLog();
    let calls = 0;
    const flaky = definePlugin<Record<string, unknown>>({
      name: 'flaky',
      version: '1.0.0',
      priority: 100,
      schema: schemaOf('flaky'),
      access() {
        if (++calls === 1) throw new Error('boom on the first request');
      },
    });
    proxy = await startProxy({
      plugins: new Map([['flaky', flaky as AnyDefinition]]),
      config: config([pluginRow('flaky')]),
      log,
    });
    const failed = await send(proxy.port, { path: '/a' });
    assert.equal(failed.status, 500);
    assert.deepEqual(JSON.parse(failed.text), { message: 'An unexpected error occurred' });
    assert.ok(
      log.lines.includes('error plugin flaky (access) failed: boom on the first request'),
      log.lines.join('\n'),
    );
    const next = await send(proxy.port, { path: '/b' });
    assert.equal(next.status, 200);
    assert.equal((JSON.parse(next.text) as Echo).url, '/b');
  });

  it('a rejecting header_filter turns the upstream response into a 500; a throwing log is only logged', async () => {
    const log = recordingLog();
    const broken = definePlugin<Record<string, unknown>>({
      name: 'broken',
      version: '1.0.0',
      priority: 100,
      schema: schemaOf('broken'),
      async header_filter() {
        await Promise.resolve();
        throw new Error('no headers today');
      },
      log() {
        throw new Error('no logs either');
      },
    });
    proxy = await startProxy({
      plugins: new Map([['broken', broken as AnyDefinition]]),
      config: config([pluginRow('broken')]),
      log,
    });
    const reply = await send(proxy.port, { path: '/a' });
    assert.equal(reply.status, 500);
    assert.deepEqual(JSON.parse(reply.text), { message: 'An unexpected error occurred' });
    await waitUntil(() => log.lines.some((l) => l.includes('plugin broken (log) failed: no logs either')), {
      timeoutMs: 5000,
    });
    assert.ok(log.lines.includes('error plugin broken (header_filter) failed: no headers today'));
  });

  it('picks the most specific scope per plugin name; consumer-scoped configs apply after authentication', async () => {
    const calls: string[] = [];
    const consumerId = '00000000-0000-4000-8000-0000000000c1';
    const route1 = 'route-1';
    const route2 = 'route-2';
    proxy = await startProxy({
      plugins: new Map([
        ['key-auth', BUNDLED_HANDLERS.get('key-auth')!],
        ['mark', tracer('mark', 10, calls)],
      ]),
      config: serviceConfig(
        { host: '127.0.0.1', port: upstream.port },
        [
          { id: route1, paths: ['/one'] },
          { id: route2, paths: ['/two'] },
        ],
        {
          consumers: [{ id: consumerId, username: 'alice' }],
          keyauth_credentials: [{ id: 'cred-1', key: 'alice-key', consumer: { id: consumerId } }],
          plugins: [
            pluginRow('key-auth', { route: { id: route1 }, config: { key_names: ['apikey'] } }),
            pluginRow('mark', { config: { tag: 'global' } }),
            pluginRow('mark', { route: { id: route2 }, config: { tag: 'route2' } }),
            pluginRow('mark', { consumer: { id: consumerId }, config: { tag: 'alice' } }),
            pluginRow('mark', { service: { id: 'svc-1' }, enabled: false, config: { tag: 'disabled' } }),
          ],
        },
      ),
    });
    const tags = async (path: string, headers: Record<string, string> = {}) => {
      calls.length = 0;
      const reply = await send(proxy.port, { path, headers });
      await waitUntil(() => calls.some((c) => c.endsWith(':log')), { timeoutMs: 5000 });
      return { status: reply.status, calls: [...calls] };
    };
    // Route 1 with alice's key: the consumer-scoped config wins over the global one from access on.
    const alice = await tags('/one', { apikey: 'alice-key' });
    assert.equal(alice.status, 200);
    assert.deepEqual(alice.calls, ['global:rewrite', 'alice:access', 'alice:header_filter', 'alice:log']);
    // Route 2 (no authentication): the route's config wins over the global one.
    assert.deepEqual((await tags('/two')).calls, [
      'global:rewrite',
      'route2:access',
      'route2:header_filter',
      'route2:log',
    ]);
    // Route 1 without a key: key-auth's 401, and the global config (no consumer) for header_filter and log.
    const anonymous = await tags('/one');
    assert.equal(anonymous.status, 401);
    assert.deepEqual(anonymous.calls, ['global:rewrite', 'global:header_filter', 'global:log']);
  });

  it('plugins limited to https do not run on http requests', async () => {
    const calls: string[] = [];
    proxy = await startProxy({
      plugins: new Map([['mark', tracer('mark', 10, calls)]]),
      config: config([pluginRow('mark', { protocols: ['https'] })]),
    });
    assert.equal((await send(proxy.port, { path: '/' })).status, 200);
    assert.deepEqual(calls, []);
  });

  it("runs global plugins' header_filter and log on Kong's own 404", async () => {
    const calls: string[] = [];
    proxy = await startProxy({
      plugins: new Map([['mark', tracer('mark', 10, calls)]]),
      config: serviceConfig({ host: '127.0.0.1', port: upstream.port }, [{ paths: ['/only'] }], {
        plugins: [pluginRow('mark')],
      }),
    });
    const reply = await send(proxy.port, { path: '/nothing' });
    assert.equal(reply.status, 404);
    assert.deepEqual(JSON.parse(reply.text), { message: 'no Route matched with those values' });
    await waitUntil(() => calls.includes('mark:log'), { timeoutMs: 5000 });
    assert.deepEqual(calls, ['mark:rewrite', 'mark:header_filter', 'mark:log']);
  });

  it('init runs once per configuration version; the previous instances are closed after a swap', async () => {
    const events: string[] = [];
    const counted = definePlugin<Record<string, unknown>>({
      name: 'counted',
      version: '1.0.0',
      priority: 10,
      schema: schemaOf('counted'),
      init({ config }) {
        events.push(`init:${String(config.tag)}`);
        let served = 0;
        return {
          header_filter(ctx) {
            ctx.response.setHeader('X-Served', String(++served));
          },
          close() {
            events.push(`close:${String(config.tag)}`);
          },
        };
      },
    });
    proxy = await startProxy({
      plugins: new Map([['counted', counted as AnyDefinition]]),
      config: config([pluginRow('counted', { config: { tag: 'v1' } })]),
    });
    assert.equal((await send(proxy.port)).headers['x-served'], '1');
    assert.equal((await send(proxy.port)).headers['x-served'], '2');
    await proxy.proxy.apply(config([pluginRow('counted', { config: { tag: 'v2' } })]));
    assert.equal((await send(proxy.port)).headers['x-served'], '1');
    await waitUntil(() => events.includes('close:v1'), { timeoutMs: 5000 });
    assert.deepEqual(events, ['init:v1', 'init:v2', 'close:v1']);
  });

  it('runs access on WebSocket upgrades: an exit answers on the socket', async () => {
    proxy = await startProxy({
      plugins: new Map([['key-auth', BUNDLED_HANDLERS.get('key-auth')!]]),
      config: config([pluginRow('key-auth', { config: { key_names: ['apikey'] } })]),
    });
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: proxy.port,
        path: '/ws',
        headers: { connection: 'upgrade', upgrade: 'websocket' },
        agent: false,
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('upgrade', () => reject(new Error('upgraded without a key')));
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 401);
  });

  it('one keep-alive connection: plugin-free requests, then a route with a plugin, then both again', async () => {
    // The plain listener serves plugin-free requests itself and hands the connection to Node's server at the
    // first request plugins apply to; every request after it is still routed and the plugin still runs.
    const calls: string[] = [];
    proxy = await startProxy({
      plugins: new Map([['mark', tracer('mark', 10, calls)]]),
      config: serviceConfig(
        { host: '127.0.0.1', port: upstream.port },
        [{ paths: ['/open'] }, { paths: ['/guarded'] }],
        { plugins: [pluginRow('mark', { route: { id: 'route-2' } })] },
      ),
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const replies = [];
      for (const path of ['/open/1', '/open/2', '/guarded/3', '/open/4', '/guarded/5'])
        replies.push(await send(proxy.port, { path, agent }));
      assert.deepEqual(
        replies.map((r) => [r.status, (JSON.parse(r.text) as Echo).url, r.reused]),
        [
          [200, '/open/1', false],
          [200, '/open/2', true],
          [200, '/guarded/3', true],
          [200, '/open/4', true],
          [200, '/guarded/5', true],
        ],
      );
      // Route-scoped, so no rewrite (as Kong): access, header_filter and log for each guarded request only.
      await waitUntil(() => calls.length === 6, { timeoutMs: 5000 });
      assert.deepEqual(calls, [
        'mark:access',
        'mark:header_filter',
        'mark:log',
        'mark:access',
        'mark:header_filter',
        'mark:log',
      ]);
    } finally {
      agent.destroy();
    }
  });

  it('a configuration without plugins serves as before', async () => {
    proxy = await startProxy({
      plugins: BUNDLED_HANDLERS,
      config: config([]),
    });
    assert.equal(proxy.proxy.runtime.plugins.empty, true);
    assert.equal((await send(proxy.port, { path: '/plain' })).status, 200);
  });
});
