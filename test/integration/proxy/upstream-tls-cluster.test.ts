// Upstream TLS end to end in hybrid mode: CA certificates, certificates and services made on the control plane's
// Admin API, a data plane started with lua_ssl_trusted_certificate, an https upstream that requires a client
// certificate.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { runCli } from '../../helpers/cli.js';
import {
  adminCreate,
  ClusterNodes,
  type ControlPlane,
  type DataPlane,
  cpHash,
  dpStatus,
  nodeLog,
  proxyPort,
} from '../../helpers/cluster-nodes.js';
import { OpensslPki, type Issued } from '../../helpers/openssl-pki.js';
import { send } from '../../helpers/proxy.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';

const CA_ROOT = '00000000-0000-4000-8000-0000000000a1';
const CA_OTHER = '00000000-0000-4000-8000-0000000000a2';
const CLIENT_CERT = '00000000-0000-4000-8000-0000000000c1';

describe('hybrid mode: TLS toward upstreams', function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let nodes: ClusterNodes;
  let root: Issued;
  let otherRoot: Issued;
  let client: Issued;
  let server: Server;
  let port: number;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir('hybrid-upstream-tls-cluster-'));
    nodes = new ClusterNodes(dir);
    assert.equal((await runCli(['gen_cert', 'cluster.crt', 'cluster.key'], { cwd: dir })).exitCode, 0);
    const pki = await OpensslPki.create(join(dir, 'pki'));
    root = await pki.root({ name: 'root' });
    otherRoot = await pki.root({ name: 'other-root' });
    const clientRoot = await pki.root({ name: 'client-root' });
    const leaf = await pki.leaf(root, 'cp', { name: 'upstream', san: ['IP:127.0.0.1'] });
    client = await pki.leaf(clientRoot, 'dp', { name: 'gateway-client', keySlot: 'client' });
    writeFileSync(join(dir, 'upstream-ca.crt'), root.certPem);
    writeFileSync(join(dir, 'other-ca.crt'), otherRoot.certPem);
    server = createHttpsServer(
      {
        cert: leaf.certPem,
        key: leaf.keyPem,
        requestCert: true,
        rejectUnauthorized: true,
        ca: clientRoot.certPem,
      },
      (req, res) => {
        const cn = (req.socket as TLSSocket).getPeerCertificate().subject?.CN;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ clientCn: cn }));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => nodes.stopAll());
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await cleanup();
  });

  const certLines = ['cluster_cert = cluster.crt', 'cluster_cert_key = cluster.key'];

  /** A service toward the https upstream that verifies it and presents CLIENT_CERT, and its route `/<name>`. */
  async function verifyingService(
    cp: ControlPlane,
    id: string,
    name: string,
    fields: Record<string, unknown>,
  ) {
    await adminCreate(cp, '/services', {
      id,
      name,
      url: `https://127.0.0.1:${port}`,
      tls_verify: true,
      client_certificate: { id: CLIENT_CERT },
      ...fields,
    });
    await adminCreate(cp, '/routes', { name, paths: [`/${name}`], service: { id } });
  }

  /** A data plane of `cp` with `trusted` as lua_ssl_trusted_certificate, started and in sync. */
  async function dataPlaneInSync(cp: ControlPlane, name: string, trusted: string): Promise<DataPlane> {
    const dp = await nodes.dataPlane(name, cp.cluster, [
      ...certLines,
      `lua_ssl_trusted_certificate = ${trusted}`,
    ]);
    await nodes.start(dp);
    await waitUntil(async () => (await dpStatus(dp)).hash === cpHash(cp), {
      message: 'the data plane in sync',
    });
    return dp;
  }

  it('verifies with ca_certificates or lua_ssl_trusted_certificate and presents the client certificate', async () => {
    const cp = await nodes.controlPlane('cp', certLines);
    await nodes.start(cp);
    await adminCreate(cp, '/ca_certificates', { id: CA_ROOT, cert: root.certPem });
    await adminCreate(cp, '/ca_certificates', { id: CA_OTHER, cert: otherRoot.certPem });
    await adminCreate(cp, '/certificates', { id: CLIENT_CERT, cert: client.certPem, key: client.keyPem });
    const services: [string, Record<string, unknown>][] = [
      ['pinned', { ca_certificates: [CA_ROOT] }],
      ['node-trust', {}],
      ['wrong-ca', { ca_certificates: [CA_OTHER], retries: 0 }],
    ];
    for (const [i, [name, fields]] of services.entries()) {
      await verifyingService(cp, `00000000-0000-4000-8000-00000000005${i}`, name, fields);
    }
    await waitUntil(() => cpHash(cp), { message: 'the control plane exported its configuration' });

    // The private root, and not Node's CA list: only that root is trusted without ca_certificates.
    const dp = await dataPlaneInSync(cp, 'dp', 'upstream-ca.crt');
    const proxy = proxyPort(dp);

    for (const name of ['pinned', 'node-trust']) {
      const reply = await send(proxy, { path: `/${name}` });
      assert.equal(reply.status, 200, `${name}: ${reply.text}`);
      assert.deepEqual(JSON.parse(reply.text), { clientCn: 'gateway-client' });
    }
    assert.equal((await send(proxy, { path: '/wrong-ca' })).status, 502);
    await waitUntil(
      () =>
        nodeLog(dp).includes(
          'upstream SSL certificate verify error: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)' +
            ` while SSL handshaking to upstream 127.0.0.1:${port}, service wrong-ca`,
        ),
      { message: 'the refusal in the data plane log' },
    );
  });

  it('hybrid reload applies a new lua_ssl_trusted_certificate to upstreams without a restart', async () => {
    const cp = await nodes.controlPlane('cp-reload', certLines);
    await nodes.start(cp);
    await adminCreate(cp, '/certificates', { id: CLIENT_CERT, cert: client.certPem, key: client.keyPem });
    await verifyingService(cp, '00000000-0000-4000-8000-000000000060', 'node-trust', { retries: 0 });
    await waitUntil(() => cpHash(cp), { message: 'the control plane exported its configuration' });

    // Started trusting another root: the upstream's certificate is refused.
    const dp = await dataPlaneInSync(cp, 'dp-reload', 'other-ca.crt');
    const proxy = proxyPort(dp);
    assert.equal((await send(proxy, { path: '/node-trust' })).status, 502);
    const pid = readFileSync(join(dp.prefix, 'pids', 'hybrid.pid'), 'utf8');

    writeFileSync(dp.conf, readFileSync(dp.conf, 'utf8').replace('other-ca.crt', 'upstream-ca.crt'));
    const reload = await runCli(['reload', '-c', dp.conf, '-p', dp.prefix], { cwd: dir });
    assert.equal(reload.exitCode, 0, reload.stderr);
    assert.match(reload.stdout, /lua_ssl_trusted_certificate/);
    const reply = await send(proxy, { path: '/node-trust' });
    assert.equal(reply.status, 200, reply.text);
    assert.deepEqual(JSON.parse(reply.text), { clientCn: 'gateway-client' });
    assert.equal(readFileSync(join(dp.prefix, 'pids', 'hybrid.pid'), 'utf8'), pid, 'the same process');
    assert.equal((await dpStatus(dp)).hash, cpHash(cp), 'the same configuration');
  });
});
