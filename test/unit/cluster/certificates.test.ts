// Checking a node's own cluster certificates before a reload installs them.
import assert from 'node:assert/strict';
import { assertUsableCertificates } from '../../../src/core/cluster/certificates.js';
import type { HybridConfig } from '../../../src/core/config/index.js';
import { OpensslPki, type Issued } from '../../helpers/openssl-pki.js';
import { makeTempDir } from '../../helpers/tmp.js';

describe('cluster: certificates checked before use', function () {
  this.timeout(30_000);
  let cleanup: () => Promise<void>;
  let root: Issued;
  let cp: Issued;
  let dp: Issued;
  let otherKey: string;

  before(async () => {
    const tmp = await makeTempDir('hybrid-own-certs-');
    cleanup = tmp.cleanup;
    const pki = await OpensslPki.create(tmp.dir);
    root = await pki.root({ name: 'root' });
    cp = await pki.leaf(root, 'cp', { name: 'cp', san: ['cp.test'] });
    dp = await pki.leaf(root, 'dp', { name: 'dp', keySlot: 'dp' });
    otherKey = (await pki.leaf(root, 'dp', { name: 'other', keySlot: 'other' })).keyPem;
  });
  after(async () => cleanup());

  const config = (leaf: Issued, key = leaf.keyPem, cert = leaf.certPem): HybridConfig =>
    ({
      cluster_mtls: 'pki',
      cluster_cert: { pem: cert, path: '/etc/kong/new.crt' },
      cluster_cert_key: { pem: key },
      cluster_ca_cert: { pem: root.certPem },
      cluster_server_name: 'cp.test',
    }) as unknown as HybridConfig;

  it('accepts a control plane and a data plane certificate issued by the CA', () => {
    assertUsableCertificates(config(cp), 'cp');
    assertUsableCertificates(config(dp), 'dp');
  });

  it('refuses a corrupt certificate, naming the file', () => {
    const corrupt = cp.certPem.replace(/(-----BEGIN CERTIFICATE-----\n)(.{20})/, '$1AAAAAAAAAAAAAAAAAAAA');
    assert.throws(
      () => assertUsableCertificates(config(cp, cp.keyPem, corrupt), 'cp'),
      (err: Error & { code?: string }) =>
        err.code === 'cluster_certificate_invalid' && /\/etc\/kong\/new\.crt/.test(err.message),
    );
  });

  it('refuses a key that is not the certificate’s, and a certificate for the wrong role', () => {
    assert.throws(() => assertUsableCertificates(config(dp, otherKey), 'dp'), /does not match/);
    assert.throws(() => assertUsableCertificates(config(dp), 'cp'), /serverAuth/);
  });
});
