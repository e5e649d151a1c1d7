// Counting a verified chain's intermediates as OpenSSL's verify depth does, checked against `openssl verify`.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { execa } from 'execa';
import { chainDepth } from '../../../src/core/pki/index.js';
import { OpensslPki, type Issued } from '../../helpers/openssl-pki.js';
import { makeTempDir } from '../../helpers/tmp.js';

const der = (cert: Issued): Buffer => new X509Certificate(cert.certPem).raw;

describe('pki: verify depth of a chain', function () {
  this.timeout(60_000);
  let cleanup: () => Promise<void>;
  let pki: OpensslPki;
  let root: Issued;
  /** Leaves with 0 to 3 intermediates, each with its chain up to (and with) the root. */
  const chains: { leaf: Issued; intermediates: Issued[] }[] = [];

  before(async () => {
    const tmp = await makeTempDir('hybrid-depth-');
    cleanup = tmp.cleanup;
    pki = await OpensslPki.create(tmp.dir);
    root = await pki.root({ name: 'root' });
    let issuer = root;
    const intermediates: Issued[] = [];
    for (let n = 0; n <= 3; n++) {
      if (n > 0) {
        issuer = await pki.intermediate(issuer, { name: `int${n}` });
        intermediates.unshift(issuer);
      }
      const leaf = await pki.leaf(issuer, 'cp', { name: `leaf${n}`, san: ['upstream.test'] });
      chains.push({ leaf, intermediates: [...intermediates] });
    }
  });
  after(async () => cleanup());

  it('counts neither the leaf nor the self-signed root: 0 to 3 intermediates', () => {
    chains.forEach(({ leaf, intermediates }, n) => {
      assert.deepEqual(chainDepth([leaf, ...intermediates, root].map(der)), { intermediates: n });
    });
  });

  it('agrees with `openssl verify -verify_depth` for every chain and depth 0 to 3', async () => {
    for (const { leaf, intermediates } of chains) {
      const untrusted = intermediates.length
        ? ['-untrusted', await pki.file(`${leaf.name}-untrusted.pem`, pki.chainPem(...intermediates))]
        : [];
      const counted = chainDepth([leaf, ...intermediates, root].map(der));
      assert.ok('intermediates' in counted);
      for (let depth = 0; depth <= 3; depth++) {
        const args = ['verify', '-verify_depth', String(depth), '-CAfile', root.certPath, ...untrusted];
        const result = await execa('openssl', [...args, leaf.certPath], { reject: false });
        assert.equal(
          counted.intermediates <= depth,
          result.exitCode === 0,
          `${intermediates.length} intermediates, depth ${depth}: openssl says ${result.stdout}${result.stderr}`,
        );
      }
    }
  });

  it('a trusted self-signed leaf alone is depth 0; a chain not ending at a self-signed anchor counts its top', () => {
    assert.deepEqual(chainDepth([der(root)]), { intermediates: 0 });
    const { leaf, intermediates } = chains[2]!;
    assert.deepEqual(chainDepth([leaf, ...intermediates].map(der)), { intermediates: 2 });
  });

  it('reports a chain whose links are not signatures, an empty chain and unreadable bytes, never a count', async () => {
    const { leaf } = chains[1]!;
    const impostor = await pki.root({ name: 'impostor', cn: 'int1' });
    const broken = chainDepth([leaf, impostor, root].map(der));
    assert.ok('problem' in broken);
    assert.match(broken.problem, /^the chain does not link up: CN=int1 did not sign CN=leaf1$/);
    assert.deepEqual(chainDepth([]), { problem: 'the server presented no certificate' });
    const garbage = chainDepth([Buffer.from('not a certificate')]);
    assert.ok('problem' in garbage);
    assert.match(garbage.problem, /^the chain holds a certificate that cannot be read: /);
  });
});
