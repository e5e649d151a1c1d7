import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { PluginDefinition, PluginInstance } from '../../../src/core/plugins/api.js';
import {
  createRateLimiting,
  type RateLimitingConfig,
} from '../../../src/core/plugins/rate-limiting/handler.js';
import { PeriodWindows, secondsToReset } from '../../../src/core/plugins/rate-limiting/periods.js';
import { schema } from '../../../src/core/plugins/rate-limiting/schema.js';
import rateLimiting from '../../../src/core/plugins/rate-limiting/handler.js';
import { fakeContext, type FakeContextInput } from '../../helpers/plugin-context.js';
import { pluginConfig } from '../../helpers/plugin-config.js';

type Config = RateLimitingConfig;

/** A clock the test moves; starts at 2024-03-10T12:00:00.000Z. */
function testClock(start = Date.UTC(2024, 2, 10, 12, 0, 0)) {
  let now = start;
  return { now: () => now, set: (ms: number) => (now = ms), advance: (ms: number) => (now += ms) };
}

const silentLog = { debug() {}, info() {}, warn() {}, error() {} };

async function instance(plugin: PluginDefinition<Config>, config: Config, pluginId = randomUUID()) {
  return (await plugin.init!({
    config,
    pluginId,
    log: silentLog,
    node: { id: 'n1', version: '0' },
  })) as Required<Pick<PluginInstance<Config>, 'access' | 'header_filter' | 'close'>>;
}

/** One request through access and header_filter; answers what the client would see. */
async function request(
  rl: Awaited<ReturnType<typeof instance>>,
  config: Config,
  input: Partial<FakeContextInput<Config>> = {},
) {
  const ctx = fakeContext<Config>({ config, ...input });
  await rl.access(ctx);
  if (ctx.exited)
    return { status: ctx.exited.status, body: ctx.exited.body, headers: lower(ctx.exited.headers) };
  await rl.header_filter(ctx);
  return { status: 200, body: undefined, headers: lower(ctx.response.headers as Record<string, string>) };
}

const lower = (headers: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])) as Record<string, string>;

describe('rate-limiting plugin (local policy)', () => {
  it('declares Kong priority 910 and its schema', () => {
    assert.equal(rateLimiting.name, 'rate-limiting');
    assert.equal(rateLimiting.priority, 910);
    assert.equal(rateLimiting.schema, schema);
  });

  it('lets `minute` requests through with Kong headers, then answers 429 with Retry-After', async () => {
    const clock = testClock(Date.UTC(2024, 2, 10, 12, 0, 15, 700));
    const config = pluginConfig<Config>(schema, { minute: 3 });
    const rl = await instance(createRateLimiting({ now: clock.now }), config);
    for (const remaining of [2, 1, 0]) {
      const res = await request(rl, config);
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-ratelimit-limit-minute'], '3');
      assert.equal(res.headers['x-ratelimit-remaining-minute'], String(remaining));
      assert.equal(res.headers['ratelimit-limit'], '3');
      assert.equal(res.headers['ratelimit-remaining'], String(remaining));
      // 15 whole seconds into the minute (Kong counts in whole seconds): 45 left.
      assert.equal(res.headers['ratelimit-reset'], '45');
    }
    const refused = await request(rl, config);
    assert.equal(refused.status, 429);
    assert.deepEqual(refused.body, { message: 'API rate limit exceeded' });
    assert.equal(refused.headers['retry-after'], '45');
    assert.equal(refused.headers['x-ratelimit-remaining-minute'], '0');
    assert.equal(refused.headers['ratelimit-remaining'], '0');
    await rl.close();
  });

  it('starts a new window at the next minute boundary (fixed windows aligned on the clock)', async () => {
    const clock = testClock(Date.UTC(2024, 2, 10, 12, 0, 59, 999));
    const config = pluginConfig<Config>(schema, { minute: 1 });
    const rl = await instance(createRateLimiting({ now: clock.now }), config);
    assert.equal((await request(rl, config)).headers['ratelimit-reset'], '1');
    assert.equal((await request(rl, config)).status, 429);
    clock.advance(1);
    const next = await request(rl, config);
    assert.equal(next.status, 200);
    assert.equal(next.headers['ratelimit-reset'], '60');
  });

  it('describes the most constrained window in RateLimit-*; a refused request is not counted', async () => {
    const clock = testClock();
    const config = pluginConfig<Config>(schema, { second: 1, minute: 3 });
    const rl = await instance(createRateLimiting({ now: clock.now }), config);
    let res = await request(rl, config);
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-ratelimit-remaining-second'], '0');
    assert.equal(res.headers['x-ratelimit-remaining-minute'], '2');
    assert.equal(res.headers['ratelimit-limit'], '1');
    assert.equal(res.headers['ratelimit-reset'], '1');

    res = await request(rl, config);
    assert.equal(res.status, 429);
    assert.equal(res.headers['retry-after'], '1');
    // Only the window that stopped the request loses one more (Kong).
    assert.equal(res.headers['x-ratelimit-remaining-minute'], '2');

    clock.advance(1000);
    assert.equal((await request(rl, config)).status, 200);
    clock.advance(1000);
    res = await request(rl, config);
    assert.equal(res.status, 200, 'the refused request did not use the minute budget');
    assert.equal(res.headers['x-ratelimit-remaining-minute'], '0');
    // Both windows at 0 remaining: the longer one is described.
    assert.equal(res.headers['ratelimit-limit'], '3');
    assert.equal(res.headers['ratelimit-reset'], '58');

    clock.advance(1000);
    res = await request(rl, config);
    assert.equal(res.status, 429);
    assert.equal(res.headers['retry-after'], '57');
  });

  it('hide_client_headers: no rate-limit headers, and no Retry-After on 429', async () => {
    const config = pluginConfig<Config>(schema, { second: 1, hide_client_headers: true });
    const rl = await instance(createRateLimiting({ now: testClock().now }), config);
    const ok = await request(rl, config);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.headers, {});
    const refused = await request(rl, config);
    assert.equal(refused.status, 429);
    assert.deepEqual(refused.headers, {});
  });

  it('answers with error_code and error_message', async () => {
    const config = pluginConfig<Config>(schema, { hour: 1, error_code: 503, error_message: 'slow down' });
    const rl = await instance(createRateLimiting({ now: testClock().now }), config);
    await request(rl, config);
    const refused = await request(rl, config);
    assert.equal(refused.status, 503);
    assert.deepEqual(refused.body, { message: 'slow down' });
  });

  describe('limit_by', () => {
    const consumerA = { id: 'c-a', username: 'a' };
    const consumerB = { id: 'c-b', username: 'b' };

    async function budgets(settings: Record<string, unknown>, inputs: Partial<FakeContextInput<Config>>[]) {
      const config = pluginConfig<Config>(schema, { minute: 1, ...settings });
      const rl = await instance(createRateLimiting({ now: testClock().now }), config);
      const statuses: number[] = [];
      for (const input of inputs) statuses.push((await request(rl, config, input)).status);
      return statuses;
    }

    it('consumer: per consumer, falling back to the client IP without one', async () => {
      assert.deepEqual(
        await budgets({}, [
          { consumer: consumerA },
          { consumer: consumerB },
          { consumer: consumerA },
          { clientIp: '10.0.0.1' },
          { clientIp: '10.0.0.2' },
          { clientIp: '10.0.0.1' },
        ]),
        [200, 200, 429, 200, 200, 429],
      );
    });

    it('consumer: the credential when no consumer is set', async () => {
      const config = pluginConfig<Config>(schema, { minute: 1 });
      const rl = await instance(createRateLimiting({ now: testClock().now }), config);
      const withCredential = async (id: string) => {
        const ctx = fakeContext<Config>({ config });
        ctx.authenticate(null, { id });
        await rl.access(ctx);
        return ctx.exited?.status ?? 200;
      };
      assert.deepEqual(
        [await withCredential('k1'), await withCredential('k2'), await withCredential('k1')],
        [200, 200, 429],
      );
    });

    it('ip: consumers behind one address share its budget', async () => {
      assert.deepEqual(
        await budgets({ limit_by: 'ip' }, [
          { consumer: consumerA, clientIp: '10.0.0.1' },
          { consumer: consumerB, clientIp: '10.0.0.1' },
          { consumer: consumerB, clientIp: '10.0.0.2' },
        ]),
        [200, 429, 200],
      );
    });

    it('service: per service id, the IP without a service', async () => {
      const service = (id: string) => ({ id, name: id, host: 'h', port: 80, protocol: 'http' }) as never;
      assert.deepEqual(
        await budgets({ limit_by: 'service' }, [
          { service: service('s1'), clientIp: '10.0.0.1' },
          { service: service('s1'), clientIp: '10.0.0.2' },
          { service: service('s2'), clientIp: '10.0.0.1' },
          { clientIp: '10.0.0.1' },
          { clientIp: '10.0.0.1' },
        ]),
        [200, 429, 200, 200, 429],
      );
    });

    it('header: per value of header_name, the IP without it', async () => {
      assert.deepEqual(
        await budgets({ limit_by: 'header', header_name: 'X-Tenant' }, [
          { headers: { 'x-tenant': 't1' }, clientIp: '10.0.0.1' },
          { headers: { 'x-tenant': 't1' }, clientIp: '10.0.0.2' },
          { headers: { 'x-tenant': 't2' }, clientIp: '10.0.0.1' },
          { clientIp: '10.0.0.1' },
          { clientIp: '10.0.0.1' },
        ]),
        [200, 429, 200, 200, 429],
      );
    });

    it('path: one budget for the configured path, other paths by IP', async () => {
      assert.deepEqual(
        await budgets({ limit_by: 'path', path: '/orders' }, [
          { path: '/orders', clientIp: '10.0.0.1' },
          { path: '/orders', clientIp: '10.0.0.2' },
          { path: '/orders/1', clientIp: '10.0.0.3' },
          { path: '/other', clientIp: '10.0.0.3' },
        ]),
        [200, 429, 200, 429],
      );
    });
  });

  it('counts survive a new configuration version of the same plugin and are dropped with its last instance', async () => {
    const plugin = createRateLimiting({ now: testClock().now });
    const config = pluginConfig<Config>(schema, { minute: 2 });
    const pluginId = randomUUID();
    const v1 = await instance(plugin, config, pluginId);
    assert.equal((await request(v1, config)).status, 200);
    // The next configuration version: a new instance first, then the old one closed (the runner's order).
    const v2 = await instance(plugin, config, pluginId);
    await v1.close();
    assert.equal((await request(v2, config)).status, 200);
    assert.equal((await request(v2, config)).status, 429);
    // Another plugin entity has its own counters.
    const other = await instance(plugin, config);
    assert.equal((await request(other, config)).status, 200);
    await v2.close();
    const recreated = await instance(plugin, config, pluginId);
    assert.equal((await request(recreated, config)).status, 200, 'deleted plugin counters are gone');
  });
});

describe("rate-limiting policy 'cluster'", () => {
  it('is offered by a node with a database only (Kong: not on control planes or DB-less nodes)', () => {
    const validate = (dbless: boolean, policy: string) => {
      const nodeSchema = schema.forNode!({ dbless });
      return () => pluginConfig<Config>(nodeSchema, { minute: 5, policy });
    };
    assert.equal(validate(false, 'cluster')().policy, 'cluster');
    assert.throws(validate(true, 'cluster'), /"policy":"expected one of: local, redis"/);
    assert.equal(validate(true, 'local')().policy, 'local');
    assert.equal(schema.forNode!({ dbless: false }), schema);
    assert.deepEqual(schema.forNode!({ dbless: true }).config.policy, {
      type: 'string',
      default: 'local',
      one_of: ['local', 'redis'],
    });
  });

  it('counts locally on a data plane that gets it anyway, and says so once per plugin entity', async () => {
    const warnings: string[] = [];
    const config = pluginConfig<Config>(schema, { minute: 1, policy: 'cluster' });
    const clock = testClock();
    const rl = (await createRateLimiting({ now: clock.now }).init!({
      config,
      pluginId: 'p-1',
      log: { ...silentLog, warn: (m) => warnings.push(m) },
      node: { id: 'n1', version: '0' },
    })) as Awaited<ReturnType<typeof instance>>;
    assert.deepEqual(warnings, [
      "[rate-limiting] plugin p-1: policy 'cluster' needs the node's database, which a data plane does not have; counting with 'local' (per data plane). Set policy to local or redis on the control plane.",
    ]);
    assert.equal((await request(rl, config)).status, 200);
    assert.equal((await request(rl, config)).status, 429);
    await rl.close();
  });
});

describe('rate-limiting windows', () => {
  it('month and year windows start on UTC calendar boundaries (leap years included)', () => {
    const windows = new PeriodWindows();
    const t = Date.UTC(2024, 1, 29, 23, 59, 59);
    assert.equal(windows.start('month', t), Date.UTC(2024, 1, 1));
    assert.equal(windows.start('year', t), Date.UTC(2024, 0, 1));
    assert.equal(windows.start('day', t), Date.UTC(2024, 1, 29));
    assert.equal(windows.start('hour', t), Date.UTC(2024, 1, 29, 23));
    assert.equal(windows.start('month', t + 1000), Date.UTC(2024, 2, 1));
    assert.equal(windows.start('year', Date.UTC(2025, 0, 1)), Date.UTC(2025, 0, 1));
    // Going back in time (a test clock) recomputes too.
    assert.equal(windows.start('month', Date.UTC(2023, 11, 31)), Date.UTC(2023, 11, 1));
  });

  it('RateLimit-Reset counts a month as 30 days and a year as 365, like Kong', () => {
    const start = Date.UTC(2024, 2, 1);
    assert.equal(secondsToReset('month', start, start), 2_592_000);
    assert.equal(secondsToReset('year', start, start + 10_000), 31_535_990);
    assert.equal(secondsToReset('second', start, start + 999), 1);
  });
});
