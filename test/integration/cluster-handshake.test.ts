// The cluster handshake through real CP/DP processes: chain depth, refusals, OCSP, version and plugin rules,
// certificate rotation by reload, and data planes reaching their control plane through a CONNECT proxy.
import assert from 'node:assert/strict';
import { createServer as createNetServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { randomUUID, X509Certificate } from 'node:crypto';
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
  type DataPlane,
} from '../helpers/cluster-nodes.js';
import { startConnectProxy } from '../helpers/connect-proxy.js';
import { daysFromNow, OpensslPki, startOcspResponder, type Issued } from '../helpers/openssl-pki.js';
import { freePort, makeTempDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

const EMPTY_HASH = '0'.repeat(32);
const SERVER_NAME = 'cp.hybrid.test';

describe('cluster handshake (real CP/DP processes)', function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let nodes: ClusterNodes;
  let pki: OpensslPki;
  let root: Issued;
  let cpLeaf: Issued;
  let shared: string[];

  before(async () => {
    ({ dir, cleanup } = await makeTempDir('hybrid-handshake-'));
    nodes = new ClusterNodes(dir);
    pki = await OpensslPki.create(join(dir, 'pki'));
    root = await pki.root({ name: 'root' });
    cpLeaf = await pki.leaf(root, 'cp', { name: 'cp', san: [SERVER_NAME] });
    assert.equal((await runCli(['gen_cert', 'shared.crt', 'shared.key'], { cwd: dir })).exitCode, 0);
    shared = ['cluster_cert = shared.crt', 'cluster_cert_key = shared.key'];
  });
  afterEach(async () => nodes.stopAll());
  after(async () => cleanup());

  /** kong.conf lines for a pki-mode node presenting `chain` (leaf first) with `key`. */
  const pkiLines = (chainPath: string, keyPath: string, ca = root.certPath): string[] => [
    'cluster_mtls = pki',
    `cluster_ca_cert = ${ca}`,
    `cluster_server_name = ${SERVER_NAME}`,
    `cluster_cert = ${chainPath}`,
    `cluster_cert_key = ${keyPath}`,
  ];
  const leafLines = async (leaf: Issued, ...intermediates: Issued[]): Promise<string[]> =>
    pkiLines(await pki.file(`${leaf.name}-chain.pem`, pki.chainPem(leaf, ...intermediates)), leaf.keyPath);

  const synced = (cp: ControlPlane, dp: DataPlane, message: string) =>
    waitUntil(async () => cpHash(cp) !== undefined && (await dpStatus(dp)).hash === cpHash(cp), {
      timeoutMs: 30_000,
      message,
    });
  /** Waits until the CP announced a configuration other than `before`, and `dp` serves it. */
  const syncedAfter = async (
    cp: ControlPlane,
    dp: DataPlane,
    before: string | undefined,
    message: string,
  ) => {
    await waitUntil(() => cpHash(cp) !== before, { timeoutMs: 30_000, message: `${message}: new CP hash` });
    await synced(cp, dp, message);
  };
  const logged = (node: { prefix: string }, pattern: RegExp, message: string) =>
    waitUntil(() => pattern.test(nodeLog(node)), { timeoutMs: 30_000, message });
  const count = (node: { prefix: string }, pattern: RegExp): number =>
    nodeLog(node).match(new RegExp(pattern.source, 'g'))?.length ?? 0;

  describe('pki chains and certificate refusals', () => {
    it('accepts 0 to 3 intermediates; refuses 4, an expired, a non-clientAuth and a foreign certificate', async () => {
      const ints: Issued[] = [];
      let issuer = root;
      for (let depth = 1; depth <= 4; depth += 1)
        ints.push((issuer = await pki.intermediate(issuer, { name: `i${depth}` })));
      /** A DP leaf `depth` intermediates below the root, presented with its intermediates (nearest first). */
      const atDepth = async (depth: number): Promise<string[]> => {
        const leaf = await pki.leaf(depth === 0 ? root : ints[depth - 1]!, 'dp', {
          name: `dp-depth-${depth}`,
        });
        return leafLines(leaf, ...ints.slice(0, depth).reverse());
      };
      const otherRoot = await pki.root({ name: 'other-root' });
      const refusals: [string, string[], RegExp][] = [
        ['dp-depth-4', await atDepth(4), /the chain has 4 intermediates; at most 3 are allowed/],
        [
          'dp-expired',
          await leafLines(
            await pki.leaf(root, 'dp', {
              name: 'dp-expired',
              notBefore: daysFromNow(-30),
              notAfter: daysFromNow(-1),
            }),
          ),
          /certificate CN=dp-expired expired at/,
        ],
        [
          'dp-server-eku',
          await leafLines(await pki.leaf(root, 'dp', { name: 'dp-server-eku', eku: ['serverAuth'] })),
          /CN=dp-server-eku has extendedKeyUsage serverAuth; it needs clientAuth/,
        ],
        [
          'dp-foreign',
          await leafLines(await pki.leaf(otherRoot, 'dp', { name: 'dp-foreign' })),
          /cannot find the issuer CN=other-root of CN=dp-foreign/,
        ],
      ];

      const cp = await nodes.controlPlane('cp-chains', pkiLines(cpLeaf.certPath, cpLeaf.keyPath));
      await nodes.start(cp);
      const accepted = await Promise.all(
        [0, 1, 2, 3].map(async (depth) =>
          nodes.dataPlane(`dp-ok-${depth}`, cp.cluster, await atDepth(depth)),
        ),
      );
      const refused = await Promise.all(
        refusals.map(async ([name, lines]) => nodes.dataPlane(name, cp.cluster, lines)),
      );
      await Promise.all([...accepted, ...refused].map((dp) => nodes.start(dp)));

      for (const [depth, dp] of accepted.entries())
        await synced(cp, dp, `the data plane ${depth} intermediates deep syncs`);
      for (const [index, [name, , reason]] of refusals.entries()) {
        await logged(
          cp,
          new RegExp(`refused data plane connection from 127\\.0\\.0\\.1:\\d+: .*${reason.source}`),
          `${name} refused`,
        );
        await logged(
          refused[index]!,
          /cannot connect to control plane .*: rejected by control plane/,
          `${name} told`,
        );
        assert.equal((await dpStatus(refused[index]!)).hash, EMPTY_HASH, `${name} has no configuration`);
      }
    });
  });

  describe('OCSP (cluster_ocsp) with a real openssl ocsp responder', () => {
    let responder: Awaited<ReturnType<typeof startOcspResponder>>;
    let responderStopped = false;
    const leaves: Record<'good' | 'revoked' | 'down', string[]> = { good: [], revoked: [], down: [] };

    before(async () => {
      const port = await freePort();
      const downUrl = `http://127.0.0.1:${await freePort()}`;
      const url = `http://127.0.0.1:${port}`;
      const good = await pki.leaf(root, 'dp', { name: 'dp-ocsp-good', ocspUrl: url });
      const revoked = await pki.leaf(root, 'dp', { name: 'dp-ocsp-revoked', ocspUrl: url });
      const down = await pki.leaf(root, 'dp', { name: 'dp-ocsp-down', ocspUrl: downUrl });
      await pki.revoke(revoked);
      leaves.good = await leafLines(good);
      leaves.revoked = await leafLines(revoked);
      leaves.down = await leafLines(down);
      responder = await startOcspResponder(root, port);
    });
    after(async () => {
      if (!responderStopped) await responder.stop();
    });

    type Outcome = 'accepted' | 'warned' | RegExp;
    const table: Record<'on' | 'optional' | 'off', Record<'good' | 'revoked' | 'down', Outcome>> = {
      on: {
        good: 'accepted',
        revoked: /OCSP http:\S+: revoked/,
        down: /OCSP http:\S+: no answer \(ECONNREFUSED\)/,
      },
      optional: { good: 'accepted', revoked: /OCSP http:\S+: revoked/, down: 'warned' },
      off: { good: 'accepted', revoked: 'accepted', down: 'accepted' },
    };

    for (const [policy, cases] of Object.entries(table)) {
      const said = (o: Outcome) => (o instanceof RegExp ? 'refused' : o);
      it(`cluster_ocsp = ${policy}: good ${said(cases.good)}, revoked ${said(cases.revoked)}, responder down ${said(cases.down)}`, async () => {
        const cp = await nodes.controlPlane(`cp-ocsp-${policy}`, [
          ...pkiLines(cpLeaf.certPath, cpLeaf.keyPath),
          `cluster_ocsp = ${policy}`,
        ]);
        await nodes.start(cp);
        const dps = await Promise.all(
          Object.keys(cases).map((status) =>
            nodes.dataPlane(`dp-ocsp-${policy}-${status}`, cp.cluster, leaves[status as keyof typeof leaves]),
          ),
        );
        await Promise.all(dps.map((dp) => nodes.start(dp)));
        for (const [index, [status, outcome]] of Object.entries(cases).entries()) {
          const dp = dps[index]!;
          if (outcome instanceof RegExp) {
            await logged(
              cp,
              new RegExp(`refused data plane connection from [\\d.:]+: ${outcome.source}`),
              `${status} refused`,
            );
            await logged(
              dp,
              new RegExp(`rejected by control plane: ${outcome.source}`),
              `${status}: the DP says why`,
            );
            assert.equal((await dpStatus(dp)).hash, EMPTY_HASH);
          } else {
            await synced(cp, dp, `${status} accepted`);
            if (outcome === 'warned')
              assert.match(
                nodeLog(cp),
                /allowed \(cluster_ocsp = optional\): OCSP http:\S+: no answer \(ECONNREFUSED\)/,
              );
          }
        }
        if (policy === 'off') assert.doesNotMatch(nodeLog(cp), /OCSP/);
      });
    }

    it('drops a data plane that leaves while its OCSP answer is pending, without upgrading it', async () => {
      // A responder that accepts and never answers keeps the check pending until its 5 s timeout.
      const held = new Set<Socket>();
      const silent = createNetServer((socket) => held.add(socket));
      const port = await freePort();
      await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
      try {
        const leaf = await pki.leaf(root, 'dp', {
          name: 'dp-ocsp-leaves',
          ocspUrl: `http://127.0.0.1:${port}`,
        });
        const cp = await nodes.controlPlane('cp-ocsp-leave', [
          ...pkiLines(cpLeaf.certPath, cpLeaf.keyPath),
          'cluster_ocsp = on',
        ]);
        await nodes.start(cp);
        const client = tlsConnect({
          host: '127.0.0.1',
          port: cp.cluster,
          servername: SERVER_NAME,
          cert: leaf.certPem,
          key: leaf.keyPem,
          rejectUnauthorized: false,
        });
        client.on('error', () => undefined);
        await new Promise((resolve) => client.once('secureConnect', resolve));
        client.write(
          `GET /v1/outlet?node_id=${randomUUID()}&node_hostname=gone&node_version=0.1.0 HTTP/1.1\r\n` +
            `host: 127.0.0.1\r\nconnection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\n` +
            `sec-websocket-key: ${Buffer.alloc(16).toString('base64')}\r\n\r\n`,
        );
        await waitUntil(() => held.size > 0, { message: 'the control plane asks the responder' });
        client.destroy();
        await logged(cp, /data plane 127\.0\.0\.1:\d+ went away during its OCSP check/, 'the CP drops it');
        assert.doesNotMatch(nodeLog(cp), /connected \(version/);
      } finally {
        for (const socket of held) socket.destroy();
        silent.close();
      }
    });

    it('caches good and revoked answers: with the responder gone, reconnecting data planes get the same verdict', async () => {
      const cp = await nodes.controlPlane('cp-ocsp-cache', [
        ...pkiLines(cpLeaf.certPath, cpLeaf.keyPath),
        'cluster_ocsp = on',
      ]);
      await nodes.start(cp);
      const good = await nodes.dataPlane('dp-cache-good', cp.cluster, leaves.good);
      const revoked = await nodes.dataPlane('dp-cache-revoked', cp.cluster, leaves.revoked);
      await Promise.all([nodes.start(good), nodes.start(revoked)]);
      await synced(cp, good, 'good DP synced');
      await logged(
        cp,
        /refused data plane connection from [\d.:]+: OCSP http:\S+: revoked/,
        'revoked DP refused',
      );

      await responder.stop();
      responderStopped = true;
      const refusalsBefore = count(cp, /: revoked/);
      await nodes.stop(good);
      await nodes.stop(revoked);
      await Promise.all([nodes.start(good), nodes.start(revoked)]);
      await waitUntil(() => count(good, /connected to control plane/) === 2, {
        timeoutMs: 30_000,
        message: 'good DP reconnected',
      });
      await waitUntil(() => count(cp, /: revoked/) > refusalsBefore, {
        timeoutMs: 30_000,
        message: 'revoked DP refused again',
      });
      assert.doesNotMatch(nodeLog(cp), /no answer/, 'the responder was not asked again');
    });
  });

  describe('version and plugin rules', () => {
    it('closes data planes of an incompatible version with kong_version_incompatible', async () => {
      const cp = await nodes.controlPlane('cp-version', shared);
      await nodes.start(cp);
      // HYBRID_NODE_VERSION_OVERRIDE (a test aid) makes a DP report another node_version; this package is 0.x.
      const versions = ['1.0.0', '0.99.0'];
      const dps = await Promise.all(
        versions.map((v) => nodes.dataPlane(`dp-version-${v}`, cp.cluster, shared)),
      );
      await Promise.all(dps.map((dp, i) => nodes.start(dp, { HYBRID_NODE_VERSION_OVERRIDE: versions[i]! })));
      await logged(
        cp,
        /refused: kong_version_incompatible: data plane major version 1 differs/,
        'major refused',
      );
      await logged(
        cp,
        /refused: kong_version_incompatible: data plane minor version 99 is newer/,
        'minor refused',
      );
      for (const dp of dps) {
        await logged(dp, /disconnected from control plane: kong_version_incompatible/, 'DP told');
        assert.equal((await dpStatus(dp)).hash, EMPTY_HASH);
      }
    });

    it('gives no configuration to a data plane missing a configured plugin (plugin_set_incompatible), while another gets it', async () => {
      const cp = await nodes.controlPlane('cp-plugins', shared);
      await nodes.start(cp);
      const empty = await waitUntil(() => cpHash(cp), { message: 'first config version' });
      await adminCreate(cp, '/plugins', { name: 'correlation-id' });
      await waitUntil(() => cpHash(cp) !== empty, { message: 'the plugin is in the configuration' });
      const without = await nodes.dataPlane('dp-no-plugins', cp.cluster, [...shared, 'plugins = off']);
      const full = await nodes.dataPlane('dp-bundled', cp.cluster, shared);
      await Promise.all([nodes.start(without), nodes.start(full)]);
      await synced(cp, full, 'the DP with the plugin syncs');
      await logged(
        cp,
        /plugin_set_incompatible: plugin correlation-id configured on the control plane but missing on the data plane/,
        'the CP logs the incompatibility',
      );
      await logged(without, /connected to control plane/, 'the DP without it is connected');
      assert.equal((await dpStatus(without)).hash, EMPTY_HASH, 'and has no configuration');
      assert.doesNotMatch(nodeLog(without), /disconnected/, 'the connection stays');
    });
  });

  describe('certificate rotation by reload', () => {
    /** The certificate a TLS client sees on the cluster port. */
    const presented = (port: number): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = tlsConnect(
          { host: '127.0.0.1', port, servername: SERVER_NAME, rejectUnauthorized: false },
          () => {
            resolve(socket.getPeerX509Certificate()!.fingerprint256);
            socket.destroy();
          },
        );
        socket.on('error', reject);
      });
    const fingerprint = (leaf: Issued) => new X509Certificate(leaf.certPem).fingerprint256;

    it('control plane: new handshakes get the new certificate, the connected data plane stays, a broken file is refused', async () => {
      // The CP's files are rewritten in place, as a certificate manager would.
      const certPath = join(dir, 'cp-rotating.crt');
      const keyPath = join(dir, 'cp-rotating.key');
      writeFileSync(certPath, cpLeaf.certPem);
      writeFileSync(keyPath, cpLeaf.keyPem);
      const cp = await nodes.controlPlane('cp-rotate', pkiLines(certPath, keyPath));
      await nodes.start(cp);
      const first = await nodes.dataPlane(
        'dp-before-rotation',
        cp.cluster,
        await leafLines(await pki.leaf(root, 'dp', { name: 'dp-rot-1' })),
      );
      await nodes.start(first);
      await synced(cp, first, 'first DP synced');
      assert.equal(await presented(cp.cluster), fingerprint(cpLeaf));

      const next = await pki.leaf(root, 'cp', { name: 'cp-next', san: [SERVER_NAME], keySlot: 'cp-next' });
      writeFileSync(certPath, next.certPem);
      writeFileSync(keyPath, next.keyPem);
      const reload = await runCli(['reload', '-c', cp.conf, '-p', cp.prefix], { cwd: dir });
      assert.equal(reload.exitCode, 0, reload.stderr);
      assert.match(reload.stdout, /applied cluster_cert, cluster_cert_key/);
      assert.equal(await presented(cp.cluster), fingerprint(next), 'new handshakes get the new certificate');

      let before = cpHash(cp);
      await adminCreate(cp, '/services', { name: 'after-rotation', url: 'http://127.0.0.1:9/' });
      await syncedAfter(cp, first, before, 'the connected DP gets changes over its connection');
      assert.equal(count(first, /connected to control plane/), 1, 'the DP never reconnected');
      assert.doesNotMatch(nodeLog(cp), /disconnected/);

      const second = await nodes.dataPlane(
        'dp-after-rotation',
        cp.cluster,
        await leafLines(await pki.leaf(root, 'dp', { name: 'dp-rot-2' })),
      );
      await nodes.start(second);
      await synced(cp, second, 'a new DP connects to the new certificate');

      // Framing intact, contents not a certificate: the node refuses and keeps what it runs with.
      writeFileSync(
        certPath,
        next.certPem.replace(/(-----BEGIN CERTIFICATE-----\n).{40}/, '$1' + 'A'.repeat(40)),
      );
      const broken = await runCli(['reload', '-c', cp.conf, '-p', cp.prefix], { cwd: dir });
      assert.equal(broken.exitCode, 1);
      assert.match(broken.stderr, /the cluster certificates cannot be used:\n\s+- .*cp-rotating\.crt/);
      assert.equal(await presented(cp.cluster), fingerprint(next), 'still the previous certificate');
      before = cpHash(cp);
      await adminCreate(cp, '/services', { name: 'after-refused-reload', url: 'http://127.0.0.1:9/' });
      await syncedAfter(cp, first, before, 'the DP is still connected and synced');
      assert.equal(count(first, /connected to control plane/), 1);
    });

    it('data plane: a reload with a fixed certificate is used on the next connection attempt', async () => {
      const cp = await nodes.controlPlane('cp-dp-rotate', pkiLines(cpLeaf.certPath, cpLeaf.keyPath));
      await nodes.start(cp);
      const certPath = join(dir, 'dp-rotating.crt');
      const keyPath = join(dir, 'dp-rotating.key');
      const bad = await pki.leaf(root, 'dp', { name: 'dp-rot-no-eku', eku: 'absent', keySlot: 'dp-rot' });
      writeFileSync(certPath, bad.certPem);
      writeFileSync(keyPath, bad.keyPem);
      const dp = await nodes.dataPlane('dp-rotate', cp.cluster, pkiLines(certPath, keyPath));
      await nodes.start(dp);
      await logged(dp, /rejected by control plane/, 'refused with the certificate lacking EKU');

      const fixed = await pki.leaf(root, 'dp', { name: 'dp-rot-fixed', keySlot: 'dp-rot' });
      writeFileSync(certPath, fixed.certPem);
      const reload = await runCli(['reload', '-c', dp.conf, '-p', dp.prefix], { cwd: dir });
      assert.equal(reload.exitCode, 0, reload.stderr);
      assert.match(reload.stdout, /applied cluster_cert\b/);
      await synced(cp, dp, 'the DP connects with its new certificate');
    });
  });

  describe('cluster_use_proxy through an HTTP CONNECT proxy', () => {
    it('connects through the proxy with credentials, TLS end to end, and syncs; says why when the proxy refuses or is down', async () => {
      const proxy = await startConnectProxy({ credentials: 'hybrid:s3cret' });
      try {
        const cp = await nodes.controlPlane('cp-proxied', shared);
        await nodes.start(cp);
        const viaProxy = (url: string) => [...shared, 'cluster_use_proxy = on', `proxy_server = ${url}`];
        const through = await nodes.dataPlane(
          'dp-proxied',
          cp.cluster,
          viaProxy(`http://hybrid:s3cret@127.0.0.1:${proxy.port}`),
        );
        const wrongPassword = await nodes.dataPlane(
          'dp-proxy-407',
          cp.cluster,
          viaProxy(`http://hybrid:wrong@127.0.0.1:${proxy.port}`),
        );
        const downPort = await freePort();
        const down = await nodes.dataPlane(
          'dp-proxy-down',
          cp.cluster,
          viaProxy(`http://127.0.0.1:${downPort}`),
        );
        await Promise.all([through, wrongPassword, down].map((dp) => nodes.start(dp)));

        await synced(cp, through, 'the proxied DP syncs');
        assert.match(
          nodeLog(through),
          new RegExp(
            `connected to control plane 127\\.0\\.0\\.1:${cp.cluster} through proxy_server http://127\\.0\\.0\\.1:${proxy.port}\\b`,
          ),
        );
        assert.doesNotMatch(nodeLog(through), /s3cret/, 'credentials stay out of the log');
        assert.ok(proxy.tunnels.length >= 1);
        assert.equal(proxy.tunnels[0]!.target, `127.0.0.1:${cp.cluster}`);
        assert.equal(proxy.tunnels[0]!.firstByte, 0x16, 'the proxy only sees a TLS handshake record');

        await logged(
          wrongPassword,
          new RegExp(
            `proxy_server http://127\\.0\\.0\\.1:${proxy.port} refused the tunnel to 127\\.0\\.0\\.1:${cp.cluster}: HTTP 407`,
          ),
          'the DP says the proxy refused',
        );
        await logged(
          down,
          new RegExp(`proxy_server http://127\\.0\\.0\\.1:${downPort} unreachable: ECONNREFUSED`),
          'the DP says the proxy is down',
        );
        for (const dp of [wrongPassword, down]) assert.equal((await dpStatus(dp)).hash, EMPTY_HASH);
        assert.equal(
          proxy.tunnels.length,
          count(through, /connected to control plane/),
          'one tunnel per connection',
        );
      } finally {
        await nodes.stopAll();
        await proxy.close();
      }
    });

    it('https:// proxy: trusted through the cluster CA (as Kong), NODE_EXTRA_CA_CERTS or proxy_server_ssl_verify = off; a certificate not trusted or for another name stops the DP, saying so, before any CONNECT', async () => {
      const proxyRoot = await pki.root({ name: 'proxy-root' });
      const httpsProxy = async (issuer: Issued, name: string, san: string[]) => {
        const cert = await pki.leaf(issuer, 'cp', { name, san });
        return startConnectProxy({
          credentials: 'hybrid:s3cret',
          tls: { cert: cert.certPem, key: cert.keyPem },
        });
      };
      const proxies = {
        clusterCa: await httpsProxy(root, 'proxy-cluster-ca', ['IP:127.0.0.1']),
        foreign: await httpsProxy(proxyRoot, 'proxy-foreign', ['IP:127.0.0.1']),
        foreignToo: await httpsProxy(proxyRoot, 'proxy-foreign-too', ['IP:127.0.0.1']),
        otherName: await httpsProxy(root, 'proxy-other-name', ['proxy.example']),
      };
      try {
        const cp = await nodes.controlPlane('cp-https-proxy', pkiLines(cpLeaf.certPath, cpLeaf.keyPath));
        await nodes.start(cp);
        await adminCreate(cp, '/services', { name: 'over-https-proxy', url: 'http://127.0.0.1:9/' });
        const dpLines = await leafLines(await pki.leaf(root, 'dp', { name: 'dp-https-proxy' }));
        const via = (proxy: { port: number }, ...extra: string[]) => [
          ...dpLines,
          'cluster_use_proxy = on',
          `proxy_server = https://hybrid:s3cret@127.0.0.1:${proxy.port}`,
          ...extra,
        ];
        const trusted = await nodes.dataPlane('dp-https-cluster-ca', cp.cluster, via(proxies.clusterCa));
        const untrusted = await nodes.dataPlane('dp-https-foreign', cp.cluster, via(proxies.foreign));
        const extraCa = await nodes.dataPlane('dp-https-extra-ca', cp.cluster, via(proxies.foreignToo));
        const unverified = await nodes.dataPlane(
          'dp-https-unverified',
          cp.cluster,
          via(proxies.foreignToo, 'proxy_server_ssl_verify = off'),
        );
        const misnamed = await nodes.dataPlane('dp-https-other-name', cp.cluster, via(proxies.otherName));
        await Promise.all([
          ...[trusted, untrusted, unverified, misnamed].map((dp) => nodes.start(dp)),
          nodes.start(extraCa, { NODE_EXTRA_CA_CERTS: proxyRoot.certPath }),
        ]);

        await synced(cp, trusted, 'the DP behind a proxy certified by the cluster CA syncs');
        assert.match(
          nodeLog(trusted),
          new RegExp(
            `connected to control plane 127\\.0\\.0\\.1:${cp.cluster} through proxy_server https://127\\.0\\.0\\.1:${proxies.clusterCa.port}\\b`,
          ),
        );
        assert.doesNotMatch(nodeLog(trusted), /s3cret/, 'credentials stay out of the log');
        assert.equal(
          proxies.clusterCa.tunnels[0]?.target,
          `127.0.0.1:${cp.cluster}`,
          'the proxy saw the CONNECT',
        );
        assert.equal(proxies.clusterCa.tunnels[0]!.firstByte, 0x16, 'and only TLS inside the tunnel');
        await synced(cp, extraCa, 'the DP trusting the proxy CA through NODE_EXTRA_CA_CERTS syncs');
        await synced(cp, unverified, 'the DP with proxy_server_ssl_verify = off syncs');
        assert.ok(proxies.foreignToo.tunnels.length >= 2);

        await logged(
          untrusted,
          new RegExp(
            `cannot connect to control plane 127\\.0\\.0\\.1:${cp.cluster}: proxy_server https://127\\.0\\.0\\.1:${proxies.foreign.port} certificate not trusted: unable to verify the first certificate \\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\\)`,
          ),
          'the DP says the proxy certificate is not trusted',
        );
        await logged(
          misnamed,
          new RegExp(
            `proxy_server https://127\\.0\\.0\\.1:${proxies.otherName.port} certificate not trusted: Hostname/IP does not match certificate's altnames: .*\\(ERR_TLS_CERT_ALTNAME_INVALID\\)`,
          ),
          'the DP says the proxy certificate is for another name',
        );
        for (const [dp, proxy] of [
          [untrusted, proxies.foreign],
          [misnamed, proxies.otherName],
        ] as const) {
          assert.equal((await dpStatus(dp)).hash, EMPTY_HASH, 'no configuration');
          assert.doesNotMatch(nodeLog(dp), /connected to control plane/);
          assert.ok(
            proxy.tlsClientErrors.length >= 1,
            'the DP reached the proxy and broke off its handshake',
          );
          assert.deepEqual(proxy.tunnels, [], 'no CONNECT (nor credentials) sent to a proxy not trusted');
        }
      } finally {
        await nodes.stopAll();
        await Promise.all(Object.values(proxies).map((proxy) => proxy.close()));
      }
    });
  });
});
