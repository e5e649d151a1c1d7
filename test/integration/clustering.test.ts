// Control plane and data planes through the CLI over real mutual TLS: connect, sync, survive, refuse.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { OpensslPki } from '../helpers/openssl-pki.js';
import { freePort, makeTempDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

/** Fast pings and reconnects, so the tests wait on events, not on Kong's 30 s intervals. */
const FAST = {
  HYBRID_CLUSTER_PING_INTERVAL_MS: '300',
  HYBRID_CLUSTER_PING_TIMEOUT_MS: '3000',
  HYBRID_CLUSTER_RECONNECT_MIN_MS: '100',
};

interface Node {
  prefix: string;
  conf: string;
  status?: number;
  admin?: number;
}

async function status(node: Node): Promise<{ ready: boolean; hash: string }> {
  const ready = await fetch(`http://127.0.0.1:${node.status}/status/ready`);
  const body = (await (await fetch(`http://127.0.0.1:${node.status}/status`)).json()) as {
    configuration_hash: string;
  };
  return { ready: ready.status === 200, hash: body.configuration_hash };
}

const log = (node: Node): string => readFileSync(join(node.prefix, 'logs', 'error.log'), 'utf8');

describe('clustering (CP ↔ DP over mutual TLS)', function () {
  this.timeout(90_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  const nodes: Node[] = [];

  before(async () => ({ dir, cleanup } = await makeTempDir()));
  afterEach(async () => {
    for (const node of nodes.splice(0)) {
      if (existsSync(join(node.prefix, 'pids', 'hybrid.pid'))) await runCli(['stop', '-p', node.prefix]);
    }
  });
  after(async () => cleanup());

  async function start(node: Node): Promise<void> {
    nodes.push(node);
    const result = await runCli(['start', '-c', node.conf, '-p', node.prefix], { cwd: dir, env: FAST });
    assert.equal(result.exitCode, 0, result.stderr);
  }

  async function controlPlane(
    name: string,
    certLines: string[],
    clusterPort?: number,
  ): Promise<Node & { cluster: number }> {
    const node = { prefix: join(dir, name), conf: join(dir, `${name}.conf`), admin: await freePort() };
    const cluster = clusterPort ?? (await freePort());
    writeFileSync(
      node.conf,
      [
        'role = control_plane',
        'log_level = info',
        ...certLines,
        `admin_listen = 127.0.0.1:${node.admin}`,
        `cluster_listen = 127.0.0.1:${cluster}`,
        `cluster_telemetry_listen = 127.0.0.1:${await freePort()}`,
        '',
      ].join('\n'),
    );
    return { ...node, cluster };
  }

  async function dataPlane(name: string, cluster: number, certLines: string[]): Promise<Node> {
    const node = { prefix: join(dir, name), conf: join(dir, `${name}.conf`), status: await freePort() };
    writeFileSync(
      node.conf,
      [
        'role = data_plane',
        'database = off',
        ...certLines,
        `cluster_control_plane = 127.0.0.1:${cluster}`,
        `proxy_listen = 127.0.0.1:${await freePort()}`,
        `status_listen = 127.0.0.1:${node.status}`,
        '',
      ].join('\n'),
    );
    return node;
  }

  async function addService(cp: Node, name: string): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${cp.admin}/services`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, url: 'http://127.0.0.1:9/' }),
    });
    assert.equal(res.status, 201);
  }

  /** The hash the control plane announced for its latest configuration. */
  const cpHash = (cp: Node): string =>
    [...log(cp).matchAll(/config version \d+ \(hash ([0-9a-f]{32})/g)].at(-1)![1]!;

  describe('shared mode', () => {
    let shared: string[];
    before(async () => {
      assert.equal((await runCli(['gen_cert', 'shared.crt', 'shared.key'], { cwd: dir })).exitCode, 0);
      shared = ['cluster_cert = shared.crt', 'cluster_cert_key = shared.key'];
    });

    it('syncs two data planes, pushes each change to both, and they keep serving while the CP is down', async () => {
      const cp = await controlPlane('cp-shared', shared);
      await start(cp);
      const dps = [await dataPlane('dp-a', cp.cluster, shared), await dataPlane('dp-b', cp.cluster, shared)];
      for (const dp of dps) await start(dp);
      for (const dp of dps) {
        await waitUntil(async () => (await status(dp)).ready, {
          timeoutMs: 20_000,
          message: `${dp.prefix} ready`,
        });
      }

      const before = cpHash(cp);
      await addService(cp, 'first');
      // The control plane logs the new version just after the write returns: wait for it, not the old one.
      await waitUntil(
        async () =>
          cpHash(cp) !== before &&
          (await status(dps[0]!)).hash === cpHash(cp) &&
          (await status(dps[1]!)).hash === cpHash(cp),
        {
          timeoutMs: 10_000,
          message: 'both data planes on the control plane hash',
        },
      );
      const synced = cpHash(cp);
      assert.match(log(cp), /\[clustering\] data plane [0-9a-f-]{36} \(.+, 127\.0\.0\.1\) connected/);

      assert.equal((await runCli(['stop', '-p', cp.prefix])).exitCode, 0);
      for (const dp of dps) {
        await waitUntil(() => /disconnected from control plane/.test(log(dp)), {
          message: 'disconnect noticed',
        });
        assert.deepEqual(await status(dp), { ready: true, hash: synced }, 'keeps its configuration');
      }

      await start(cp);
      await addService(cp, 'second');
      for (const dp of dps) {
        await waitUntil(async () => (await status(dp)).hash === cpHash(cp) && cpHash(cp) !== synced, {
          timeoutMs: 20_000,
          message: 'reconnected and synced after the CP returned',
        });
      }
    });

    it('refuses a data plane whose certificate is not the shared one, saying why on both sides', async () => {
      const cp = await controlPlane('cp-refuse', shared);
      await start(cp);
      assert.equal((await runCli(['gen_cert', 'other.crt', 'other.key'], { cwd: dir })).exitCode, 0);
      const dp = await dataPlane('dp-other', cp.cluster, [
        'cluster_cert = other.crt',
        'cluster_cert_key = other.key',
      ]);
      await start(dp);
      await waitUntil(() => /refused data plane connection from 127\.0\.0\.1:\d+: .+/.test(log(cp)), {
        message: 'the CP logs the refusal',
      });
      await waitUntil(() => /rejected by control plane|control plane certificate refused/.test(log(dp)), {
        message: 'the DP says it was rejected',
      });
      assert.equal((await status(dp)).ready, false);
    });
  });

  describe('pki mode', () => {
    let pki: OpensslPki;
    let ca: string;
    const serverName = 'cp.hybrid.test';

    before(async () => {
      pki = await OpensslPki.create(join(dir, 'pki'));
      const root = await pki.root({ name: 'root' });
      const inter = await pki.intermediate(root, { name: 'inter' });
      ca = root.certPath;
      const chained = (name: string, leafPem: string) => {
        const path = join(dir, `${name}-chain.pem`);
        writeFileSync(path, leafPem + inter.certPem);
        return path;
      };
      const cp = await pki.leaf(inter, 'cp', { name: 'cp-leaf', san: [serverName] });
      const dp = await pki.leaf(inter, 'dp', { name: 'dp-leaf' });
      const noEku = await pki.leaf(inter, 'dp', { name: 'dp-no-eku', eku: 'absent' });
      Object.assign(certs, {
        cp: [`cluster_cert = ${chained('cp', cp.certPem)}`, `cluster_cert_key = ${cp.keyPath}`],
        dp: [`cluster_cert = ${chained('dp', dp.certPem)}`, `cluster_cert_key = ${dp.keyPath}`],
        noEku: [`cluster_cert = ${chained('no-eku', noEku.certPem)}`, `cluster_cert_key = ${noEku.keyPath}`],
      });
    });
    const certs: Record<'cp' | 'dp' | 'noEku', string[]> = { cp: [], dp: [], noEku: [] };
    const pkiLines = () => [
      'cluster_mtls = pki',
      `cluster_ca_cert = ${ca}`,
      `cluster_server_name = ${serverName}`,
    ];

    it('connects a data plane whose chain (one intermediate) leads to the root, and syncs it', async () => {
      const cp = await controlPlane('cp-pki', [...pkiLines(), ...certs.cp]);
      await start(cp);
      const dp = await dataPlane('dp-pki', cp.cluster, [...pkiLines(), ...certs.dp]);
      await start(dp);
      await addService(cp, 'pki-service');
      await waitUntil(async () => (await status(dp)).hash === cpHash(cp), {
        timeoutMs: 20_000,
        message: 'pki sync',
      });
    });

    it('refuses a data plane certificate without EKU, with the reason in the CP log', async () => {
      const cp = await controlPlane('cp-pki-2', [...pkiLines(), ...certs.cp]);
      await start(cp);
      const dp = await dataPlane('dp-no-eku', cp.cluster, [...pkiLines(), ...certs.noEku]);
      await start(dp);
      await waitUntil(() => /refused data plane connection from .*(EKU|extended key usage)/i.test(log(cp)), {
        message: 'EKU refusal logged',
      });
      await waitUntil(() => /rejected by control plane/.test(log(dp)), {
        message: 'DP reports the rejection',
      });
    });

    it('a data plane refuses a control plane whose certificate does not match cluster_server_name', async () => {
      const cp = await controlPlane('cp-pki-3', [...pkiLines(), ...certs.cp]);
      await start(cp);
      const wrongName = pkiLines().map((l) =>
        l.startsWith('cluster_server_name') ? 'cluster_server_name = other.test' : l,
      );
      const dp = await dataPlane('dp-wrong-name', cp.cluster, [...wrongName, ...certs.dp]);
      await start(dp);
      await waitUntil(() => /control plane certificate refused: .+/.test(log(dp)), {
        message: 'name mismatch logged',
      });
      assert.equal((await status(dp)).ready, false);
    });
  });
});
