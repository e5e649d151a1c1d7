import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import type { PluginDefinition, PluginInstance } from '../../../src/core/plugins/api.js';
import {
  createRateLimiting,
  type RateLimitingConfig,
} from '../../../src/core/plugins/rate-limiting/handler.js';
import { REDIS_CONNECTION_NAME } from '../../../src/core/plugins/rate-limiting/redis-policy.js';
import { schema } from '../../../src/core/plugins/rate-limiting/schema.js';
import { fakeContext } from '../../helpers/plugin-context.js';
import { pluginConfig } from '../../helpers/plugin-config.js';
import { freePort, makeTempDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';

type Config = RateLimitingConfig;
type Instance = Required<Pick<PluginInstance<Config>, 'access' | 'header_filter' | 'close'>>;

// Mid-minute, so no test run crosses a window boundary.
const NOW = Date.UTC(2024, 2, 10, 12, 0, 30);

describe('rate-limiting plugin: redis policy against a real Redis', function () {
  this.timeout(20_000);
  const admin = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
  const opened: Instance[] = [];
  const usedPluginIds: string[] = [];
  const logs: { level: string; message: string }[] = [];
  const log = {
    debug: (message: string) => logs.push({ level: 'debug', message }),
    info: (message: string) => logs.push({ level: 'info', message }),
    warn: (message: string) => logs.push({ level: 'warn', message }),
    error: (message: string) => logs.push({ level: 'error', message }),
  };

  /** A plugin instance on a "node" (each createRateLimiting() is one node's plugin state). */
  async function start(node: PluginDefinition<Config>, config: Config, pluginId: string): Promise<Instance> {
    const rl = (await node.init!({
      config,
      pluginId,
      log,
      node: { id: randomUUID(), version: '0' },
    })) as Instance;
    opened.push(rl);
    usedPluginIds.push(pluginId);
    return rl;
  }

  async function send(rl: Instance, config: Config, clientIp = '10.1.1.1') {
    const ctx = fakeContext<Config>({ config, clientIp });
    await rl.access(ctx);
    if (ctx.exited) return { status: ctx.exited.status, body: ctx.exited.body, headers: ctx.exited.headers };
    await rl.header_filter(ctx);
    return { status: 200, body: undefined, headers: ctx.response.headers as Record<string, string> };
  }

  const ourConnections = async () =>
    String(await admin.client('LIST'))
      .split('\n')
      .filter((line) => line.includes(` name=${REDIS_CONNECTION_NAME} `)).length;

  before(() => admin.connect());
  beforeEach(() => {
    logs.length = 0;
  });
  afterEach(async () => {
    for (const rl of opened.splice(0)) await rl.close();
    for (const db of [0, 3]) {
      await admin.select(db);
      for (const id of usedPluginIds) {
        const keys = await admin.keys(`ratelimit:${id}:*`);
        if (keys.length > 0) await admin.del(...keys);
      }
    }
    await admin.select(0);
    usedPluginIds.length = 0;
  });
  after(() => admin.quit());

  it('two nodes share one budget: the sum of their requests is enforced, even when racing', async () => {
    const config = pluginConfig<Config>(schema, {
      minute: 10,
      policy: 'redis',
      redis: { host: '127.0.0.1' },
    });
    const pluginId = randomUUID();
    const nodeA = await start(createRateLimiting({ now: () => NOW }), config, pluginId);
    const nodeB = await start(createRateLimiting({ now: () => NOW }), config, pluginId);

    const sequential: number[] = [];
    for (let i = 0; i < 6; i++) sequential.push((await send(i % 2 === 0 ? nodeA : nodeB, config)).status);
    assert.deepEqual(sequential, [200, 200, 200, 200, 200, 200]);
    const sixth = await send(nodeB, config);
    assert.equal(sixth.headers['x-ratelimit-remaining-minute'], '3', 'node B sees node A’s requests');

    const racing = await Promise.all(
      Array.from({ length: 20 }, (_, i) => send(i % 2 === 0 ? nodeA : nodeB, config).then((r) => r.status)),
    );
    assert.equal(racing.filter((s) => s === 200).length, 3);
    assert.equal(racing.filter((s) => s === 429).length, 17);

    const keys = await admin.keys(`ratelimit:${pluginId}:*`);
    assert.deepEqual(keys, [`ratelimit:${pluginId}:10.1.1.1:${Date.UTC(2024, 2, 10, 12, 0)}:minute`]);
    const ttl = await admin.ttl(keys[0]!);
    assert.ok(ttl > 0 && ttl <= 60, `the key expires with its window (ttl ${ttl})`);
  });

  it('counts the requests of one event-loop turn with one script call, each as if it had counted alone', async () => {
    const config = pluginConfig<Config>(schema, {
      minute: 10,
      policy: 'redis',
      redis: { host: '127.0.0.1' },
    });
    const pluginId = randomUUID();
    const rl = await start(createRateLimiting({ now: () => NOW }), config, pluginId);
    await send(rl, config, '10.9.9.9'); // connected, and the script loaded

    // Every script call Redis runs on this plugin's keys (other clients of this Redis are left out, and so
    // are the commands the script runs, which MONITOR shows too).
    const monitor = await admin.duplicate().monitor();
    const calls: string[][] = [];
    let sentinelSeen = false;
    monitor.on('monitor', (_time: string, args: string[]) => {
      const ours = args.some((arg) => arg.startsWith(`ratelimit:${pluginId}:`));
      if (ours && /^eval(sha)?$/i.test(args[0] ?? '')) calls.push(args);
      if (ours && /^get$/i.test(args[0] ?? '')) sentinelSeen = true;
    });
    try {
      const replies = await Promise.all(Array.from({ length: 20 }, () => send(rl, config)));
      const key = `ratelimit:${pluginId}:10.1.1.1:${Date.UTC(2024, 2, 10, 12, 0)}:minute`;
      // Redis runs commands in order: once MONITOR shows this GET, it has shown every script call before it.
      assert.equal(await admin.get(key), '20');
      await waitUntil(() => sentinelSeen, { message: 'MONITOR shows the GET after the requests' });
      assert.equal(calls.length, 1, JSON.stringify(calls));
      // EVALSHA sha 1 <key> <increment> <ttl>
      assert.deepEqual(calls[0]!.slice(2), ['1', key, '20', '60']);
      assert.deepEqual(
        replies.map((r) => r.status),
        [...Array<number>(10).fill(200), ...Array<number>(10).fill(429)],
      );
      assert.deepEqual(
        replies.slice(0, 10).map((r) => r.headers['x-ratelimit-remaining-minute']),
        ['9', '8', '7', '6', '5', '4', '3', '2', '1', '0'],
      );
    } finally {
      monitor.disconnect();
    }
  });

  it('counts per identifier and per period in the configured database', async () => {
    const config = pluginConfig<Config>(schema, {
      second: 2,
      hour: 3,
      policy: 'redis',
      redis: { host: '127.0.0.1', port: 6379, database: 3 },
    });
    const pluginId = randomUUID();
    const rl = await start(createRateLimiting({ now: () => NOW }), config, pluginId);
    assert.equal((await send(rl, config, '10.0.0.1')).status, 200);
    assert.equal((await send(rl, config, '10.0.0.1')).status, 200);
    const refused = await send(rl, config, '10.0.0.1');
    assert.equal(refused.status, 429);
    assert.deepEqual(refused.body, { message: 'API rate limit exceeded' });
    assert.equal(refused.headers['Retry-After'], '1');
    assert.equal((await send(rl, config, '10.0.0.2')).status, 200);

    await admin.select(3);
    const keys = (await admin.keys(`ratelimit:${pluginId}:*`)).sort();
    assert.equal(keys.length, 4, keys.join(' '));
    assert.equal(await admin.get(`ratelimit:${pluginId}:10.0.0.1:${NOW}:second`), '3');
    await admin.select(0);
    assert.deepEqual(await admin.keys(`ratelimit:${pluginId}:*`), [], 'nothing in database 0');
  });

  it('opens one connection per distinct Redis configuration per node, closed with the last instance', async () => {
    const before = await ourConnections();
    const node = createRateLimiting({ now: () => NOW });
    const db0 = pluginConfig<Config>(schema, { minute: 5, policy: 'redis', redis: { host: '127.0.0.1' } });
    const db3 = pluginConfig<Config>(schema, {
      minute: 5,
      policy: 'redis',
      redis: { host: '127.0.0.1', database: 3 },
    });
    const a = await start(node, db0, randomUUID());
    const b = await start(node, db0, randomUUID());
    const c = await start(node, db3, randomUUID());
    for (const rl of [a, b]) assert.equal((await send(rl, db0)).status, 200);
    assert.equal((await send(c, db3)).status, 200);
    await waitUntil(async () => (await ourConnections()) === before + 2, { message: 'two connections' });
    for (const rl of opened.splice(0)) await rl.close();
    await waitUntil(async () => (await ourConnections()) === before, { message: 'connections closed' });
  });

  it('authenticates with redis.username and redis.password (a wrong password is refused)', async () => {
    const username = `rl-test-${randomUUID()}`;
    await admin.acl('SETUSER', username, 'on', '>right-secret', '~ratelimit:*', '+@all');
    try {
      const settings = { host: '127.0.0.1', username, timeout: 1000 };
      const good = pluginConfig<Config>(schema, {
        minute: 1,
        policy: 'redis',
        fault_tolerant: false,
        redis: { ...settings, password: 'right-secret' },
      });
      const bad = pluginConfig<Config>(schema, {
        minute: 1,
        policy: 'redis',
        fault_tolerant: false,
        redis: { ...settings, password: 'wrong-secret' },
      });
      const pluginId = randomUUID();
      const node = createRateLimiting({ now: () => NOW });
      const authenticated = await start(node, good, pluginId);
      assert.equal((await send(authenticated, good)).status, 200);
      assert.equal((await send(authenticated, good)).status, 429);
      const refused = await start(node, bad, pluginId);
      assert.equal((await send(refused, bad)).status, 500);
    } finally {
      for (const rl of opened.splice(0)) await rl.close();
      await admin.acl('DELUSER', username);
    }
  });

  describe('Redis unreachable', () => {
    it('fault_tolerant: requests are proxied without headers and the error is logged once, not per request', async () => {
      const port = await freePort();
      const config = pluginConfig<Config>(schema, {
        minute: 1,
        policy: 'redis',
        redis: { host: '127.0.0.1', port, timeout: 500 },
      });
      const rl = await start(createRateLimiting({ now: () => NOW }), config, randomUUID());
      for (let i = 0; i < 20; i++) {
        const res = await send(rl, config);
        assert.equal(res.status, 200, 'proxied although over the limit: Redis cannot say');
        assert.deepEqual(res.headers, {});
      }
      const usageErrors = logs.filter(
        (l) => l.level === 'error' && l.message.includes('failed to get usage'),
      );
      assert.equal(usageErrors.length, 1, JSON.stringify(logs));
      assert.ok(logs.filter((l) => l.level === 'error').length <= 2, JSON.stringify(logs));
    });

    it('fault_tolerant false: 500 An unexpected error occurred', async () => {
      const port = await freePort();
      const config = pluginConfig<Config>(schema, {
        minute: 100,
        policy: 'redis',
        fault_tolerant: false,
        redis: { host: '127.0.0.1', port, timeout: 500 },
      });
      const rl = await start(createRateLimiting({ now: () => NOW }), config, randomUUID());
      for (let i = 0; i < 3; i++) {
        const res = await send(rl, config);
        assert.equal(res.status, 500);
        assert.deepEqual(res.body, { message: 'An unexpected error occurred' });
      }
      assert.ok(logs.some((l) => l.level === 'error'));
    });

    it('a Redis that goes away and comes back: proxied meanwhile, limits enforced again once it is back', async () => {
      const { dir, cleanup } = await makeTempDir('hybrid-redis-');
      const port = await freePort();
      const startRedis = async () => {
        const child = spawn(
          'redis-server',
          ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir],
          {
            stdio: 'ignore',
          },
        );
        const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
        probe.on('error', () => {});
        await waitUntil(
          () =>
            probe.connect().then(
              () => true,
              () => false,
            ),
          { message: 'redis-server up' },
        );
        probe.disconnect();
        return child;
      };
      const stopRedis = async (child: ChildProcess) => {
        child.kill('SIGTERM');
        await once(child, 'exit');
      };
      let redis = await startRedis();
      try {
        const config = pluginConfig<Config>(schema, {
          minute: 2,
          policy: 'redis',
          redis: { host: '127.0.0.1', port, timeout: 500 },
        });
        const rl = await start(createRateLimiting({ now: () => NOW }), config, randomUUID());
        const first = await send(rl, config);
        assert.equal(first.headers['x-ratelimit-remaining-minute'], '1');

        await stopRedis(redis);
        for (let i = 0; i < 5; i++) {
          const res = await send(rl, config);
          assert.equal(res.status, 200);
          assert.equal(res.headers['x-ratelimit-remaining-minute'], undefined);
        }

        redis = await startRedis();
        // The client reconnects on its own (backing off up to 2 s); the new server starts with empty counters.
        const counted = await waitUntil(
          async () => {
            const res = await send(rl, config);
            return res.headers['x-ratelimit-remaining-minute'] === undefined ? null : res;
          },
          { timeoutMs: 10_000, message: 'requests counted again' },
        );
        assert.equal(counted.headers['x-ratelimit-remaining-minute'], '1');
        assert.equal((await send(rl, config)).status, 200);
        assert.equal((await send(rl, config)).status, 429);
      } finally {
        for (const rl of opened.splice(0)) await rl.close();
        if (redis.exitCode === null) await stopRedis(redis);
        await cleanup();
      }
    });

    it('a Redis that accepts but never answers fails the request within redis.timeout', async () => {
      const sockets: Socket[] = [];
      const silent: Server = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as { port: number }).port;
      try {
        const config = pluginConfig<Config>(schema, {
          minute: 100,
          policy: 'redis',
          fault_tolerant: false,
          redis: { host: '127.0.0.1', port, timeout: 300 },
        });
        const rl = await start(createRateLimiting({ now: () => NOW }), config, randomUUID());
        const started = Date.now();
        const res = await send(rl, config);
        const took = Date.now() - started;
        assert.equal(res.status, 500);
        assert.ok(took >= 250 && took < 3_000, `failed after ${took} ms`);
      } finally {
        for (const rl of opened.splice(0)) await rl.close();
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    });
  });
});
