// Control plane and data planes through the CLI over real mutual TLS: connect, sync, survive, refuse.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import {
  adminCreate,
  ClusterNodes,
  cpHash,
  dpStatus,
  nodeLog,
  type ControlPlane,
} from '../helpers/cluster-nodes.js';
import { OpensslPki } from '../helpers/openssl-pki.js';
import { makeTempDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

describe('clustering (CP ↔ DP over mutual TLS)', function () {
  this.timeout(90_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let nodes: ClusterNodes;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    nodes = new ClusterNodes(dir);
  });
  afterEach(async () => nodes.stopAll());
  after(async () => cleanup());

  const addService = (cp: ControlPlane, name: string) =>
    adminCreate(cp, '/services', { name, url: 'http://127.0.0.1:9/' });

  describe('shared mode', () => {
    let shared: string[];
    before(async () => {
      assert.equal((await runCli(['gen_cert', 'shared.crt', 'shared.key'], { cwd: dir })).exitCode, 0);
      shared = ['cluster_cert = shared.crt', 'cluster_cert_key = shared.key'];
    });

    it('syncs two data planes, pushes each change to both, and they keep serving while the CP is down', async () => {
      const cp = await nodes.controlPlane('cp-shared', shared);
      await nodes.start(cp);
      const dps = [
        await nodes.dataPlane('dp-a', cp.cluster, shared),
        await nodes.dataPlane('dp-b', cp.cluster, shared),
      ];
      for (const dp of dps) await nodes.start(dp);
      for (const dp of dps) {
        await waitUntil(async () => (await dpStatus(dp)).ready, {
          timeoutMs: 20_000,
          message: `${dp.prefix} ready`,
        });
      }

      const before = cpHash(cp);
      assert.ok(before, 'the control plane announced its first configuration');
      await addService(cp, 'first');
      // The control plane logs the new version just after the write returns: wait for it, not the old one.
      await waitUntil(
        async () =>
          cpHash(cp) !== before &&
          (await dpStatus(dps[0]!)).hash === cpHash(cp) &&
          (await dpStatus(dps[1]!)).hash === cpHash(cp),
        {
          timeoutMs: 10_000,
          message: 'both data planes on the control plane hash',
        },
      );
      const synced = cpHash(cp);
      assert.match(nodeLog(cp), /\[clustering\] data plane [0-9a-f-]{36} \(.+, 127\.0\.0\.1\) connected/);

      await nodes.stop(cp);
      for (const dp of dps) {
        await waitUntil(() => /disconnected from control plane/.test(nodeLog(dp)), {
          message: 'disconnect noticed',
        });
        assert.deepEqual(await dpStatus(dp), { ready: true, hash: synced }, 'keeps its configuration');
      }

      await nodes.start(cp);
      await addService(cp, 'second');
      for (const dp of dps) {
        await waitUntil(async () => (await dpStatus(dp)).hash === cpHash(cp) && cpHash(cp) !== synced, {
          timeoutMs: 20_000,
          message: 'reconnected and synced after the CP returned',
        });
      }
    });

    it('refuses a data plane whose certificate is not the shared one, saying why on both sides', async () => {
      const cp = await nodes.controlPlane('cp-refuse', shared);
      await nodes.start(cp);
      assert.equal((await runCli(['gen_cert', 'other.crt', 'other.key'], { cwd: dir })).exitCode, 0);
      const dp = await nodes.dataPlane('dp-other', cp.cluster, [
        'cluster_cert = other.crt',
        'cluster_cert_key = other.key',
      ]);
      await nodes.start(dp);
      await waitUntil(() => /refused data plane connection from 127\.0\.0\.1:\d+: .+/.test(nodeLog(cp)), {
        message: 'the CP logs the refusal',
      });
      await waitUntil(() => /rejected by control plane|control plane certificate refused/.test(nodeLog(dp)), {
        message: 'the DP says it was rejected',
      });
      assert.equal((await dpStatus(dp)).ready, false);
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
      const cp = await nodes.controlPlane('cp-pki', [...pkiLines(), ...certs.cp]);
      await nodes.start(cp);
      const dp = await nodes.dataPlane('dp-pki', cp.cluster, [...pkiLines(), ...certs.dp]);
      await nodes.start(dp);
      await addService(cp, 'pki-service');
      await waitUntil(async () => (await dpStatus(dp)).hash === cpHash(cp), {
        timeoutMs: 20_000,
        message: 'pki sync',
      });
    });

    it('refuses a data plane certificate without EKU, with the reason in the CP log', async () => {
      const cp = await nodes.controlPlane('cp-pki-2', [...pkiLines(), ...certs.cp]);
      await nodes.start(cp);
      const dp = await nodes.dataPlane('dp-no-eku', cp.cluster, [...pkiLines(), ...certs.noEku]);
      await nodes.start(dp);
      await waitUntil(
        () => /refused data plane connection from .*(EKU|extended key usage)/i.test(nodeLog(cp)),
        {
          message: 'EKU refusal logged',
        },
      );
      await waitUntil(() => /rejected by control plane/.test(nodeLog(dp)), {
        message: 'DP reports the rejection',
      });
    });

    it('a data plane refuses a control plane whose certificate does not match cluster_server_name', async () => {
      const cp = await nodes.controlPlane('cp-pki-3', [...pkiLines(), ...certs.cp]);
      await nodes.start(cp);
      const wrongName = pkiLines().map((l) =>
        l.startsWith('cluster_server_name') ? 'cluster_server_name = other.test' : l,
      );
      const dp = await nodes.dataPlane('dp-wrong-name', cp.cluster, [...wrongName, ...certs.dp]);
      await nodes.start(dp);
      await waitUntil(() => /control plane certificate refused: .+/.test(nodeLog(dp)), {
        message: 'name mismatch logged',
      });
      assert.equal((await dpStatus(dp)).ready, false);
    });
  });
});
