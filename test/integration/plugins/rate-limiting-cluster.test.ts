// rate-limiting with the redis policy on real processes (one control plane, two data planes, started by the CLI):
// the limit holds for the sum of both data planes' requests; with Redis unreachable fault_tolerant decides. Also the
// control plane's Admin API refusing invalid configs of the traffic plugins.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { runCli } from '../../helpers/cli.js';
import {
  adminCreate,
  ClusterNodes,
  dpStatus,
  nodeLog,
  proxyPort,
  type ControlPlane,
  type DataPlane,
} from '../../helpers/cluster-nodes.js';
import { writeClusterPolicyFile } from '../../helpers/plugin-config.js';
import { send, startEchoUpstream, type Reply, type Upstream } from '../../helpers/proxy.js';
import { freePort, makeTempDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';

const LIMIT = 5;

describe('rate-limiting, redis policy, shared by two data planes (real processes)', function () {
  this.timeout(90_000);
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
  let dir: string;
  let cleanup: () => Promise<void>;
  let nodes: ClusterNodes;
  let upstream: Upstream;
  let cp: ControlPlane;
  let dps: DataPlane[];
  let pluginId: string | undefined;

  const admin = (path: string, method = 'GET', body?: unknown) =>
    fetch(`http://127.0.0.1:${cp.admin}${path}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const cpConfigHash = async () =>
    ((await (await admin('/status')).json()) as { configuration_hash?: string }).configuration_hash;

  /**
   * Makes one change (one write) on the CP and waits until both DPs serve the configuration it produced. One write
   * each: the CP pushes the first change at once and coalesces later ones, so after several writes the first new
   * hash could be an intermediate one.
   */
  async function changeAndSync(change: () => Promise<void>): Promise<void> {
    const before = await cpConfigHash();
    await change();
    const hash = await waitUntil(
      async () => {
        const now = await cpConfigHash();
        return now && now !== before ? now : null;
      },
      { message: 'a new configuration hash on the control plane' },
    );
    await waitUntil(async () => (await Promise.all(dps.map(dpStatus))).every((s) => s.hash === hash), {
      timeoutMs: 20_000,
      message: `both data planes serving ${hash}`,
    });
  }

  const keys = async () => (pluginId ? await redis.keys(`ratelimit:${pluginId}:*`) : []);

  before(async () => {
    ({ dir, cleanup } = await makeTempDir('hybrid-rl-cluster-'));
    nodes = new ClusterNodes(dir);
    await redis.connect();
    upstream = await startEchoUpstream();
    assert.equal((await runCli(['gen_cert', 'shared.crt', 'shared.key'], { cwd: dir })).exitCode, 0);
    const shared = ['cluster_cert = shared.crt', 'cluster_cert_key = shared.key'];
    cp = await nodes.controlPlane('cp', shared);
    await nodes.start(cp);
    dps = [
      await nodes.dataPlane('dp1', cp.cluster, shared),
      await nodes.dataPlane('dp2', cp.cluster, shared),
    ];
    await Promise.all(dps.map((dp) => nodes.start(dp)));
    await changeAndSync(() =>
      adminCreate(cp, '/services', { name: 'echo', url: `http://127.0.0.1:${upstream.port}` }),
    );
    await changeAndSync(() =>
      adminCreate(cp, '/services/echo/routes', { name: 'limited', paths: ['/limited'] }),
    );
  });
  after(async () => {
    await nodes?.stopAll();
    const left = await keys();
    if (left.length > 0) await redis.del(...left);
    await redis.quit();
    await upstream?.close();
    await cleanup?.();
  });

  it('the Admin API refuses invalid configs of rate-limiting, ip-restriction, cors and prometheus with 400', async () => {
    const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ['rate-limiting', { minute: 5, policy: 'redis' }, { redis: { host: 'required field missing' } }],
      // Kong: a control plane's data planes have no database to count in.
      ['rate-limiting', { minute: 5, policy: 'cluster' }, { policy: 'expected one of: local, redis' }],
      [
        'rate-limiting',
        { minute: 10, hour: 5 },
        { hour: 'The limit for hour(5) cannot be lower than the limit for minute(10)' },
      ],
      ['ip-restriction', { allow: ['10.0.0.300/8'] }, {}],
      ['ip-restriction', {}, {}],
      ['cors', { origins: ['(unclosed'] }, { origins: ["'(unclosed' is not a valid regex"] }],
      ['prometheus', { latency_metrics: 'yes' }, { latency_metrics: 'expected a boolean' }],
    ];
    const count = async () => ((await (await admin('/plugins')).json()) as { data: unknown[] }).data.length;
    const before = await count();
    for (const [name, config, fields] of cases) {
      const res = await admin('/routes/limited/plugins', 'POST', { name, config });
      const body = (await res.json()) as { name: string; fields: { config?: Record<string, unknown> } };
      const what = `${name} ${JSON.stringify(config)}: ${JSON.stringify(body)}`;
      assert.equal(res.status, 400, what);
      assert.equal(body.name, 'schema violation', what);
      assert.ok(body.fields.config, what);
      for (const [field, message] of Object.entries(fields))
        assert.deepEqual(body.fields.config[field], message, what);
    }
    assert.equal(await count(), before, 'nothing was created');
  });

  it("policy cluster: not in a control plane's schema, refused in a data plane's declarative_config, offered by a node with a database", async () => {
    const schemaPolicy = async (url: string) => {
      const body = (await (await fetch(`${url}/schemas/plugins/rate-limiting`)).json()) as {
        fields: Record<string, { fields?: Record<string, { one_of?: string[] }>[] }>[];
      };
      const config = body.fields.find((f) => 'config' in f)!.config!.fields!;
      return config.find((f) => 'policy' in f)!.policy!.one_of;
    };
    assert.deepEqual(await schemaPolicy(`http://127.0.0.1:${cp.admin}`), ['local', 'redis']);

    // A DB-less data plane validates its declarative_config with the same schema: it does not start.
    const file = writeClusterPolicyFile(dir);
    const dp = await nodes.dataPlane('dp-declarative', cp.cluster, [
      'cluster_cert = shared.crt',
      'cluster_cert_key = shared.key',
      `declarative_config = ${file}`,
    ]);
    const refused = await nodes.tryStart(dp);
    assert.notEqual(refused.exitCode, 0);
    assert.match(refused.stderr + refused.stdout, /policy: expected one of: local, redis/);

    // A traditional node has a database: there `cluster` is offered and accepted, as in Kong.
    const traditional = { prefix: `${dir}/traditional`, conf: `${dir}/traditional.conf` };
    const adminPort = await freePort();
    writeFileSync(
      traditional.conf,
      ['role = traditional', `admin_listen = 127.0.0.1:${adminPort}`, ''].join('\n'),
    );
    await nodes.start(traditional);
    const url = `http://127.0.0.1:${adminPort}`;
    assert.deepEqual(await schemaPolicy(url), ['local', 'cluster', 'redis']);
    const created = await fetch(`${url}/plugins`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'rate-limiting', config: { minute: 5, policy: 'cluster' } }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    await nodes.stop(traditional);
  });

  it('enforces the sum across both data planes, then 429 on both; fault_tolerant decides when Redis is unreachable', async () => {
    const redisConfig = { host: '127.0.0.1', port: 6379, timeout: 1000 };
    await changeAndSync(async () => {
      const res = await admin('/routes/limited/plugins', 'POST', {
        name: 'rate-limiting',
        config: { minute: LIMIT, policy: 'redis', redis: redisConfig },
      });
      assert.equal(res.status, 201, await res.clone().text());
      pluginId = ((await res.json()) as { id: string }).id;
    });
    // Counts are per minute window: start far enough from its end that all requests fall into one.
    await waitUntil(() => new Date().getUTCSeconds() < 50, {
      timeoutMs: 15_000,
      intervalMs: 200,
      message: 'a minute window with at least 10 s left',
    });
    const ports = dps.map(proxyPort);
    const replies: Reply[] = [];
    for (let i = 0; i < 2 * LIMIT + 2; i++) replies.push(await send(ports[i % 2]!, { path: '/limited' }));

    assert.deepEqual(
      replies.map((r) => r.status),
      [...Array<number>(LIMIT).fill(200), ...Array<number>(LIMIT + 2).fill(429)],
    );
    // Each data plane sees the other's requests: remaining counts down across both.
    assert.deepEqual(
      replies.slice(0, LIMIT).map((r) => r.headers['x-ratelimit-remaining-minute']),
      ['4', '3', '2', '1', '0'],
    );
    for (const refused of replies.slice(LIMIT)) {
      assert.deepEqual(JSON.parse(refused.text), { message: 'API rate limit exceeded' });
      assert.equal(refused.headers['x-ratelimit-limit-minute'], String(LIMIT));
      assert.ok(Number(refused.headers['retry-after']) > 0);
    }
    // One key (one client, one window), counting every request (Kong's redis policy counts refused ones too).
    const counted = await keys();
    assert.equal(counted.length, 1, counted.join(' '));
    assert.match(counted[0]!, new RegExp(`^ratelimit:${pluginId}:127\\.0\\.0\\.1:\\d+:minute$`));
    assert.equal(await redis.get(counted[0]!), String(2 * LIMIT + 2));

    // The same plugin pointed at a port nobody listens on.
    const closed = { ...redisConfig, port: await freePort() };
    await changeAndSync(async () => {
      const res = await admin(`/plugins/${pluginId}`, 'PATCH', {
        config: { minute: LIMIT, policy: 'redis', redis: closed, fault_tolerant: true },
      });
      assert.equal(res.status, 200, await res.clone().text());
    });
    for (let i = 0; i < 4; i++) {
      const reply = await send(ports[i % 2]!, { path: '/limited' });
      assert.equal(reply.status, 200, 'proxied: Redis cannot say the limit is reached');
      assert.equal(reply.headers['x-ratelimit-limit-minute'], undefined);
    }
    for (const dp of dps)
      await waitUntil(() => nodeLog(dp).includes('[rate-limiting] failed to get usage'), {
        message: 'the usage failure in the data plane’s log',
      });

    await changeAndSync(async () => {
      const res = await admin(`/plugins/${pluginId}`, 'PATCH', {
        config: { minute: LIMIT, policy: 'redis', redis: closed, fault_tolerant: false },
      });
      assert.equal(res.status, 200, await res.clone().text());
    });
    for (let i = 0; i < 4; i++) {
      const reply = await send(ports[i % 2]!, { path: '/limited' });
      assert.equal(reply.status, 500);
      assert.deepEqual(JSON.parse(reply.text), { message: 'An unexpected error occurred' });
    }
  });
});
