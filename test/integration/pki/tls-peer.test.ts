// The handshake path: a real Node TLS server and client hand what they see of the peer to verifyPeerChain.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type TLSSocket } from 'node:tls';
import {
  firstError,
  peerChainFromTls,
  verifyPeerChain,
  type ChainReport,
} from '../../../src/core/pki/index.js';
import { OpensslPki, type Issued } from '../../helpers/openssl-pki.js';
import { makeTempDir } from '../../helpers/tmp.js';

interface Seen {
  /** What the server's check concluded about the client (DP) chain; absent when the client gave up first. */
  server?: ChainReport;
  /** What the client's checkServerIdentity concluded about the server (CP) chain. */
  client?: ChainReport;
  presented: number;
}

describe('verifyPeerChain on a live TLS handshake (peerChainFromTls)', function () {
  this.timeout(60_000);
  let cleanup: () => Promise<void>;
  let pki: OpensslPki;
  let root: Issued;
  const ints: Issued[] = [];
  let cp: Issued;

  before(async () => {
    const tmp = await makeTempDir('hybrid-tls-peer-');
    cleanup = tmp.cleanup;
    pki = await OpensslPki.create(tmp.dir);
    root = await pki.root({ name: 'root' });
    let issuer = root;
    for (let i = 1; i <= 4; i += 1) {
      issuer = await pki.intermediate(issuer, { name: `int${i}` });
      ints.push(issuer);
    }
    cp = await pki.leaf(ints[1] as Issued, 'cp', { name: 'cp', san: ['cp.example.test'] });
  });
  after(() => cleanup?.());

  /** Leaf and its intermediates up to (not including) the root, as a node's cluster_cert holds them. */
  function chainOf(leaf: Issued): string {
    const parts = [leaf];
    for (let ca = leaf.issuer; ca?.issuer; ca = ca.issuer) parts.push(ca);
    return pki.chainPem(...parts);
  }

  /** One handshake: CP server requests a client certificate; both sides run the shared check. */
  async function handshake(dp: Issued | undefined, serverName = 'cp.example.test'): Promise<Seen> {
    const server = createServer({
      cert: chainOf(cp),
      key: cp.keyPem,
      ca: root.certPem,
      requestCert: true,
      // Node's own verification stays on; our check adds what it lacks (EKU presence, depth, reasons).
      rejectUnauthorized: false,
    });
    const serverSeen = new Promise<{ report: ChainReport; presented: number }>((resolve) => {
      server.once('secureConnection', (socket: TLSSocket) => {
        const peerChain = peerChainFromTls(socket.getPeerCertificate(true));
        resolve({
          report: verifyPeerChain({ mode: 'pki', role: 'dp', trustedRoots: [root.certPem], peerChain }),
          presented: peerChain.length,
        });
        socket.end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    let client: ChainReport | undefined;
    const socket = connect({
      host: '127.0.0.1',
      port,
      servername: serverName,
      ca: root.certPem,
      ...(dp ? { cert: chainOf(dp), key: dp.keyPem } : {}),
      checkServerIdentity: (host, cert) => {
        client = verifyPeerChain({
          mode: 'pki',
          role: 'cp',
          trustedRoots: [root.certPem],
          peerChain: peerChainFromTls(cert),
          serverName: host,
        });
        const error = firstError(client.findings);
        return error ? new Error(`${error.code}: ${error.message}`) : undefined;
      },
    });
    socket.on('error', () => undefined);
    // A client that rejects the server aborts before the server ever sees a secure connection.
    const clientClosed = new Promise<undefined>((resolve) => socket.once('close', () => resolve(undefined)));
    try {
      const seen = await Promise.race([serverSeen, clientClosed]);
      return { server: seen?.report, presented: seen?.presented ?? 0, client };
    } finally {
      socket.destroy();
      server.close();
    }
  }

  const errors = (r: ChainReport | undefined) =>
    (r as ChainReport).findings.filter((f) => f.severity === 'error').map((f) => f.code);

  it('a valid DP chain with two intermediates: both sides agree, the path ends at our root', async () => {
    const dp = await pki.leaf(ints[1] as Issued, 'dp', { name: 'dp-ok' });
    const seen = await handshake(dp);
    assert.deepEqual(errors(seen.server), []);
    assert.equal(seen.server?.intermediates, 2);
    assert.deepEqual(
      seen.server?.path.map((c) => c.commonName),
      ['dp-ok', 'int2', 'int1', 'root'],
    );
    assert.ok(seen.client?.valid, JSON.stringify(seen.client?.findings));
    assert.equal(seen.client?.intermediates, 2);
  });

  it('a DP certificate without EKU passes Node TLS but not verifyPeerChain (eku_missing)', async () => {
    const dp = await pki.leaf(root, 'dp', { name: 'dp-no-eku', eku: 'absent' });
    const seen = await handshake(dp);
    assert.deepEqual(errors(seen.server), ['eku_missing']);
  });

  it('four intermediates pass Node TLS but not verifyPeerChain (chain_too_deep)', async () => {
    const dp = await pki.leaf(ints[3] as Issued, 'dp', { name: 'dp-deep' });
    const seen = await handshake(dp);
    assert.equal(seen.presented, 6, 'leaf, four intermediates and the root Node completed from its store');
    assert.deepEqual(errors(seen.server), ['chain_too_deep']);
  });

  it('a client without a certificate: cert_missing', async () => {
    const seen = await handshake(undefined);
    assert.equal(seen.presented, 0);
    assert.deepEqual(errors(seen.server), ['cert_missing']);
  });

  it('the DP side rejects a CP certificate for another name (name_mismatch)', async () => {
    const dp = await pki.leaf(root, 'dp', { name: 'dp-for-name' });
    const seen = await handshake(dp, 'kong_clustering');
    assert.deepEqual(errors(seen.client), ['name_mismatch']);
    assert.equal(seen.server, undefined, 'the DP aborted the handshake');
  });
});
