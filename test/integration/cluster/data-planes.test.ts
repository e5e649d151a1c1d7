// The registry end to end through the CLI: a CP and two DPs over shared-mode mTLS, /clustering/* and `hybrid cluster status`.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { DataPlaneItem } from '../../../src/core/admin/clustering.js';
import { PACKAGE_VERSION } from '../../../src/core/version.js';
import { execa } from 'execa';
import { BIN, runCli } from '../../helpers/cli.js';
import {
  adminCreate,
  ClusterNodes,
  FAST_CLUSTER_ENV,
  nodeId,
  type ControlPlane,
  type DataPlane,
} from '../../helpers/cluster-nodes.js';
import { pgConfLines, tempSchema } from '../../helpers/postgres.js';
import { freePort, makeTempDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';

const PURGE_DELAY = 3600;

interface ListPage {
  data: DataPlaneItem[];
  next: string | null;
  offset?: string;
}

describe('data plane registry through the CLI (CP + 2 DPs, shared mode)', function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let nodes: ClusterNodes;
  let cp: ControlPlane;
  let dps: DataPlane[];

  const run = (args: string[]) => runCli(args, { cwd: dir, env: FAST_CLUSTER_ENV });
  const admin = (path: string) => `http://127.0.0.1:${cp.admin}${path}`;
  const getJson = async <T>(url: string): Promise<{ status: number; body: T }> => {
    const res = await fetch(url);
    return { status: res.status, body: (await res.json()) as T };
  };
  const list = async () => (await getJson<ListPage>(admin('/clustering/data-planes'))).body.data;
  const cpHash = async () =>
    (await getJson<{ configuration_hash: string }>(admin('/status'))).body.configuration_hash;
  const dpHash = async (dp: DataPlane) =>
    (await getJson<{ configuration_hash: string }>(`http://127.0.0.1:${dp.status}/status`)).body
      .configuration_hash;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    nodes = new ClusterNodes(dir);
    assert.equal((await run(['gen_cert', 'shared.crt', 'shared.key'])).exitCode, 0);
    const shared = ['cluster_cert = shared.crt', 'cluster_cert_key = shared.key'];
    cp = await nodes.controlPlane('cp', [...shared, `cluster_data_plane_purge_delay = ${PURGE_DELAY}`]);
    dps = [];
    for (const [name, labels] of [
      ['dp-a', 'region:eu,tier:gold'],
      ['dp-b', 'region:us'],
    ] as const) {
      dps.push(await nodes.dataPlane(name, cp.cluster, [...shared, `cluster_dp_labels = ${labels}`]));
    }
    await nodes.start(cp);
    await adminCreate(cp, '/services', { name: 'billing', url: 'http://127.0.0.1:9/' });
    for (const dp of dps) await nodes.start(dp);
  });

  after(async () => {
    await nodes.stopAll();
    await cleanup();
  });

  it('lists both data planes with every field, in sync with the control plane', async () => {
    const hash = await cpHash();
    assert.match(hash, /^[0-9a-f]{32}$/);
    const items = await waitUntil(
      async () => {
        const data = await list();
        return data.length === 2 && data.every((d) => d.status === 'connected' && d.config_hash === hash)
          ? data
          : null;
      },
      { timeoutMs: 20_000, message: 'both data planes registered and in sync' },
    );
    for (const dp of dps) assert.equal(await dpHash(dp), hash);
    const expiry = Math.floor(
      Date.parse(new X509Certificate(readFileSync(join(dir, 'shared.crt'))).validTo) / 1000,
    );
    const now = Date.now() / 1000;
    for (const [i, dp] of dps.entries()) {
      const item = items.find((d) => d.id === nodeId(dp));
      assert.ok(item, `row of ${dp.prefix}`);
      assert.ok(Math.abs(now - item.last_seen) <= 5, `last_seen ${item.last_seen} is recent`);
      assert.ok(Math.abs(item.ttl - (item.last_seen + PURGE_DELAY - now)) <= 2, `ttl ${item.ttl}`);
      assert.ok(item.created_at <= item.updated_at);
      const { last_seen: _seen, ttl: _ttl, created_at: _c, updated_at: _u, ...rest } = item;
      assert.deepEqual(rest, {
        id: nodeId(dp),
        hostname: hostname(),
        ip: '127.0.0.1',
        version: PACKAGE_VERSION,
        sync_status: 'normal',
        config_hash: hash,
        labels: i === 0 ? { region: 'eu', tier: 'gold' } : { region: 'us' },
        cert_details: { expiry_timestamp: expiry },
        status: 'connected',
      });
    }

    const status = await getJson<Record<string, unknown>>(admin('/clustering/status'));
    assert.equal(status.status, 200);
    assert.deepEqual(Object.keys(status.body).sort(), dps.map(nodeId).sort());
    const one = status.body[nodeId(dps[0]!)] as Record<string, unknown>;
    assert.deepEqual(Object.keys(one).sort(), ['config_hash', 'hostname', 'ip', 'last_seen']);
    assert.equal(one.config_hash, hash);
  });

  it('pages like every other list', async () => {
    const first = await getJson<ListPage>(admin('/clustering/data-planes?size=1'));
    assert.equal(first.body.data.length, 1);
    assert.ok(first.body.offset);
    assert.equal(
      first.body.next,
      `/clustering/data-planes?offset=${encodeURIComponent(first.body.offset!)}&size=1`,
    );
    const second = await getJson<ListPage>(admin(first.body.next!));
    assert.equal(second.body.data.length, 1);
    assert.notEqual(second.body.data[0]!.id, first.body.data[0]!.id);
    assert.equal(second.body.next, null);
    assert.equal((await getJson(admin('/clustering/data-planes?size=1001'))).status, 400);
    assert.equal((await getJson(admin('/clustering/data-planes?offset=nope'))).status, 400);
  });

  it('hybrid cluster status: exit 0 in sync, 1 below --min-dps, --json shape, exit 3 unreachable', async () => {
    const url = admin('');
    let r = await run(['cluster', 'status', '--admin-url', url]);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /HOSTNAME\s+IP\s+VERSION\s+STATUS\s+SYNC\s+CONFIG HASH\s+LAST SEEN\s+CERT EXPIRY/);
    assert.equal(r.stdout.match(/127\.0\.0\.1\s+\S+\s+connected\s+in sync/g)?.length, 2, r.stdout);
    assert.match(r.stdout, /healthy: 2 of 2 data plane\(s\) connected/);

    r = await runCli(['cluster', 'status', '--min-dps', '3'], {
      env: { ...FAST_CLUSTER_ENV, HYBRID_ADMIN_URL: url },
    });
    assert.equal(r.exitCode, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /✗ 2 data plane\(s\) connected, at least 3 required \[too_few_data_planes\]/);

    r = await run(['cluster', 'status', '--admin-url', url, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Record<string, unknown> & {
      data_planes: Record<string, unknown>[];
    };
    assert.deepEqual(Object.keys(report).sort(), [
      'control_plane_hash',
      'data_planes',
      'healthy',
      'problems',
    ]);
    assert.equal(report.control_plane_hash, await cpHash());
    assert.equal(report.healthy, true);
    assert.deepEqual(report.problems, []);
    assert.equal(report.data_planes.length, 2);
    assert.equal(report.data_planes[0]!.in_sync, true);

    const closed = await freePort();
    r = await run(['cluster', 'status', '--admin-url', `http://127.0.0.1:${closed}`]);
    assert.equal(r.exitCode, 3);
    assert.match(
      r.stderr,
      new RegExp(`Error: cannot reach the Admin API at http://127\\.0\\.0\\.1:${closed} \\(ECONNREFUSED\\)`),
    );
    assert.equal(r.stdout, '');
  });

  it('hybrid cluster status --watch redraws each interval until Ctrl-C, exiting with the last round’s code', async () => {
    const watch = execa(
      'node',
      [BIN, 'cluster', 'status', '--watch', '--interval', '1', '--admin-url', admin('')],
      {
        reject: false,
        timeout: 60_000,
        env: { ...FAST_CLUSTER_ENV, FORCE_COLOR: '0' },
      },
    );
    let out = '';
    watch.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitUntil(() => (out.match(/healthy: 2 of 2 data plane\(s\) connected/g) ?? []).length >= 2, {
      timeoutMs: 20_000,
      message: 'two rounds drawn',
    });
    watch.kill('SIGINT');
    const result = await watch;
    assert.equal(result.exitCode, 0, String(result.stderr));
    const usage = await run(['cluster', 'status', '--watch', '--json', '--admin-url', admin('')]);
    assert.equal(usage.exitCode, 2);
  });

  it('a stopped data plane turns disconnected; restarted, it keeps its id and its one row', async () => {
    const dp = dps[1]!;
    const id = nodeId(dp);
    await nodes.stop(dp);
    const t0 = Date.now();
    await waitUntil(async () => (await list()).find((d) => d.id === id)?.status === 'disconnected', {
      message: 'status disconnected',
    });
    const visibleAfter = Date.now() - t0;
    assert.ok(visibleAfter < 3000, `disconnect visible after ${visibleAfter} ms`);
    const r = await run(['cluster', 'status', '--admin-url', admin('')]);
    assert.equal(r.exitCode, 0, 'a data plane seen within the ping timeout is not a problem yet');
    assert.match(r.stdout, /disconnected/);

    await nodes.start(dp);
    await waitUntil(async () => (await list()).find((d) => d.id === id)?.status === 'connected', {
      timeoutMs: 20_000,
      message: 'reconnected',
    });
    assert.equal(nodeId(dp), id);
    assert.deepEqual((await list()).map((d) => d.id).sort(), dps.map(nodeId).sort());
  });

  it('rows survive a control plane restart, and data planes come back connected', async () => {
    const ids = dps.map(nodeId).sort();
    await nodes.stop(cp);
    await nodes.start(cp);
    assert.deepEqual((await list()).map((d) => d.id).sort(), ids);
    const hash = await cpHash();
    await waitUntil(
      async () => (await list()).every((d) => d.status === 'connected' && d.config_hash === hash),
      { timeoutMs: 20_000, message: 'both reconnected to the restarted control plane' },
    );
    const r = await run(['cluster', 'status', '--admin-url', admin(''), '--min-dps', '2']);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  });

  it('a traditional node answers 400 on /clustering/*, and cluster status says why (exit 3)', async () => {
    const node = { prefix: join(dir, 'trad'), conf: join(dir, 'trad.conf'), port: await freePort() };
    writeFileSync(
      node.conf,
      [`admin_listen = 127.0.0.1:${node.port}`, `proxy_listen = 127.0.0.1:${await freePort()}`, ''].join(
        '\n',
      ),
    );
    await nodes.start(node);
    for (const path of ['/clustering/data-planes', '/clustering/status']) {
      const res = await getJson<{ message: string }>(`http://127.0.0.1:${node.port}${path}`);
      assert.equal(res.status, 400);
      assert.match(res.body.message, /only available on a control plane/);
    }
    const r = await run(['cluster', 'status', '--admin-url', `http://127.0.0.1:${node.port}`]);
    assert.equal(r.exitCode, 3);
    assert.match(r.stderr, /answered 400: this endpoint is only available on a control plane/);
    await nodes.stop(node);
  });
});

describe('data plane registry with two control planes on one PostgreSQL database', function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let db: { schema: string; drop: () => Promise<void> };
  let nodes: ClusterNodes;

  const run = (args: string[]) => runCli(args, { cwd: dir, env: FAST_CLUSTER_ENV });
  const list = async (port: number) =>
    ((await (await fetch(`http://127.0.0.1:${port}/clustering/data-planes`)).json()) as ListPage).data;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    nodes = new ClusterNodes(dir);
    db = tempSchema();
  });
  after(async () => {
    await nodes.stopAll();
    await db.drop();
    await cleanup();
  });

  it('both control planes list every data plane and push each other’s writes; one restarting leaves the other one’s data plane connected', async () => {
    assert.equal((await run(['gen_cert', 'shared.crt', 'shared.key'])).exitCode, 0);
    const shared = ['cluster_cert = shared.crt', 'cluster_cert_key = shared.key'];
    const cps: ControlPlane[] = [];
    for (const name of ['cp-1', 'cp-2'])
      cps.push(await nodes.controlPlane(name, [...shared, ...pgConfLines(db.schema)]));
    await nodes.start(cps[0]!, {}, ['--run-migrations']);
    await nodes.start(cps[1]!);
    const status = await run(['migrations', 'status', '-c', cps[0]!.conf, '--json']);
    assert.ok(
      (JSON.parse(status.stdout) as { executed: string[] }).executed.includes('001_clustering_data_planes'),
    );

    const dpIds: string[] = [];
    for (const [i, cp] of cps.entries()) {
      const dp = await nodes.dataPlane(`dp-${i}`, cp.cluster, shared);
      await nodes.start(dp);
      dpIds.push(nodeId(dp));
    }
    for (const cp of cps) {
      await waitUntil(
        async () => {
          const data = await list(cp.admin);
          return data.length === 2 && data.every((d) => d.status === 'connected');
        },
        { timeoutMs: 20_000, message: `both data planes listed by ${cp.prefix}` },
      );
      assert.deepEqual((await list(cp.admin)).map((d) => d.id).sort(), [...dpIds].sort());
    }

    // A write on cp-1 reaches cp-2 through the database's change feed, and cp-2 pushes it to its data plane.
    const cpHash = async (port: number) =>
      ((await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as { configuration_hash: string })
        .configuration_hash;
    const before = await cpHash(cps[0]!.admin);
    const created = await fetch(`http://127.0.0.1:${cps[0]!.admin}/services`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'written-on-cp-1', url: 'http://127.0.0.1:9/' }),
    });
    assert.equal(created.status, 201);
    // cp-1 exports the new version just after the write returns.
    const hashOne = await waitUntil(async () => {
      const hash = await cpHash(cps[0]!.admin);
      return hash !== before && hash;
    });
    await waitUntil(async () => (await cpHash(cps[1]!.admin)) === hashOne, {
      timeoutMs: 10_000,
      message: 'cp-2 sends the configuration written on cp-1',
    });
    await waitUntil(
      async () => (await list(cps[1]!.admin)).find((d) => d.id === dpIds[1])?.config_hash === hashOne,
      { timeoutMs: 10_000, message: "cp-2's data plane reports cp-1's configuration hash" },
    );

    await nodes.stop(cps[0]!);
    await nodes.start(cps[0]!);
    const second = (await list(cps[0]!.admin)).find((d) => d.id === dpIds[1]);
    assert.equal(second?.status, 'connected', 'cp-2 still holds dp-1');
    await waitUntil(async () => (await list(cps[0]!.admin)).every((d) => d.status === 'connected'), {
      timeoutMs: 20_000,
      message: 'dp-0 back on the restarted cp-1',
    });
  });
});
