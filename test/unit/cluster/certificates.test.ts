// Checking a node's own cluster certificates before a reload installs them; what an https proxy_server is checked against.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import {
  assertUsableCertificates,
  defaultCaCertificates,
  proxyServerTrust,
} from '../../../src/core/cluster/certificates.js';
import type { HybridConfig } from '../../../src/core/config/index.js';
import { OpensslPki, type Issued } from '../../helpers/openssl-pki.js';
import { makeTempDir } from '../../helpers/tmp.js';

describe('cluster: certificates checked before use', function () {
  this.timeout(30_000);
  let cleanup: () => Promise<void>;
  let dir: string;
  let root: Issued;
  let cp: Issued;
  let dp: Issued;
  let otherKey: string;

  before(async () => {
    const tmp = await makeTempDir('hybrid-own-certs-');
    cleanup = tmp.cleanup;
    dir = tmp.dir;
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

  it('an https proxy_server is checked against the default CAs plus the cluster CA (pki) or cluster_cert (shared)', () => {
    const defaults = ['DEFAULT CA'];
    assert.deepEqual(proxyServerTrust(config(dp), defaults), ['DEFAULT CA', root.certPem]);
    const shared = { ...config(dp), cluster_mtls: 'shared' } as HybridConfig;
    assert.deepEqual(proxyServerTrust(shared, defaults), ['DEFAULT CA', dp.certPem]);
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
