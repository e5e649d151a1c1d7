// The node's trust (lua_ssl_trusted_certificate, plus the cluster's trust on a data plane) and its PEM list.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import type { HybridConfig } from '../../../src/core/config/index.js';
import { defaultCaCertificates, nodeTrust, trustedPems } from '../../../src/core/pki/index.js';
import { OpensslPki, type Issued } from '../../helpers/openssl-pki.js';
import { makeTempDir } from '../../helpers/tmp.js';

describe('pki: the node’s trust', function () {
  this.timeout(30_000);
  let cleanup: () => Promise<void>;
  let dir: string;
  let root: Issued;
  let dp: Issued;
  let other: Issued;

  before(async () => {
    const tmp = await makeTempDir('hybrid-trust-');
    cleanup = tmp.cleanup;
    dir = tmp.dir;
    const pki = await OpensslPki.create(tmp.dir);
    root = await pki.root({ name: 'root' });
    other = await pki.root({ name: 'other' });
    dp = await pki.leaf(root, 'dp', { name: 'dp' });
  });
  after(async () => cleanup());

  type TrustConfig = Parameters<typeof nodeTrust>[0];
  const config = (over: Partial<TrustConfig>): TrustConfig => ({
    role: 'data_plane',
    cluster_mtls: 'pki',
    cluster_cert: { pem: dp.certPem },
    cluster_ca_cert: { pem: root.certPem },
    lua_ssl_trusted_certificate: ['system'],
    ...over,
  });

  it('is lua_ssl_trusted_certificate, plus cluster_ca_cert (pki) or cluster_cert (shared) on a data plane', () => {
    assert.deepEqual(nodeTrust(config({})), { system: true, pems: [root.certPem] });
    assert.deepEqual(nodeTrust(config({ cluster_mtls: 'shared' })), { system: true, pems: [dp.certPem] });
    const files = config({ lua_ssl_trusted_certificate: [{ path: '/etc/ca.pem', pem: other.certPem }] });
    assert.deepEqual(nodeTrust(files), { system: false, pems: [other.certPem, root.certPem] });
  });

  it('adds no cluster trust on a control plane or a traditional node, and unset trusts nothing', () => {
    for (const role of ['control_plane', 'traditional'] as HybridConfig['role'][]) {
      assert.deepEqual(nodeTrust(config({ role })), { system: true, pems: [] });
    }
    assert.deepEqual(nodeTrust(config({ role: 'traditional', lua_ssl_trusted_certificate: [] })), {
      system: false,
      pems: [],
    });
  });

  it('as one PEM list (a `ca` option), `system` is Node’s defaults followed by the other CAs', () => {
    const defaults = ['DEFAULT CA'];
    assert.deepEqual(trustedPems(nodeTrust(config({})), defaults), ['DEFAULT CA', root.certPem]);
    assert.deepEqual(trustedPems({ system: false, pems: [other.certPem] }, defaults), [other.certPem]);
    assert.deepEqual(trustedPems({ system: false, pems: [] }, defaults), []);
  });

  it('the default CAs are Node’s list plus NODE_EXTRA_CA_CERTS, which an explicit CA list would otherwise drop', () => {
    assert.deepEqual(defaultCaCertificates({}), [...rootCertificates]);
    const extra = join(dir, 'extra-ca.pem');
    writeFileSync(extra, root.certPem);
    assert.deepEqual(defaultCaCertificates({ NODE_EXTRA_CA_CERTS: extra }), [
      ...rootCertificates,
      root.certPem,
    ]);
    assert.deepEqual(
      defaultCaCertificates({ NODE_EXTRA_CA_CERTS: join(dir, 'missing.pem') }),
      [...rootCertificates],
      'an unreadable file adds nothing (Node warned about it at start)',
    );
  });
});
