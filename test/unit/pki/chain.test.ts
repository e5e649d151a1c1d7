// The PKI matrix: chains built by the openssl CLI, judged by verifyPeerChain / verifyPkiSetup.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import {
  verifyPeerChain,
  verifyPkiSetup,
  type Finding,
  type PkiSetupInput,
  type PkiSetupReport,
} from '../../../src/core/pki/index.js';
import { daysFromNow, openssl, OpensslPki, type Issued, type KeyType } from '../../helpers/openssl-pki.js';
import { makeTempDir } from '../../helpers/tmp.js';

const codes = (findings: Finding[], severity: Finding['severity']): string[] =>
  findings.filter((f) => f.severity === severity).map((f) => f.code);
const errors = (report: { findings: Finding[] }): string[] => codes(report.findings, 'error');
const warnings = (report: { findings: Finding[] }): string[] => codes(report.findings, 'warning');

describe('PKI core: openssl-built matrix', function () {
  this.timeout(120_000);
  let cleanup: () => Promise<void>;
  let pki: OpensslPki;
  /** Per key type: root, then i1..i4 each issued by the previous one. */
  const cas: Record<'ec' | 'rsa', Issued[]> = { ec: [], rsa: [] };
  const leaves: Record<string, Issued> = {};

  before(async function () {
    const tmp = await makeTempDir('hybrid-pki-matrix-');
    cleanup = tmp.cleanup;
    pki = await OpensslPki.create(tmp.dir);
    // EC: P-384 root and leaves (as gen_cert uses), P-256 intermediates; RSA: 2048 throughout, only to depth 3.
    const layouts: ['ec' | 'rsa', KeyType, KeyType, number][] = [
      ['ec', 'ec-p384', 'ec-p256', 4],
      ['rsa', 'rsa', 'rsa', 3],
    ];
    for (const [family, rootKey, intKey, depth] of layouts) {
      const chain = [await pki.root({ name: `${family}-root`, key: rootKey })];
      for (let i = 1; i <= depth; i += 1)
        chain.push(await pki.intermediate(chain[i - 1] as Issued, { name: `${family}-i${i}`, key: intKey }));
      cas[family] = chain;
      for (let d = 0; d <= Math.min(depth, 3); d += 1) {
        for (const role of ['cp', 'dp'] as const) {
          leaves[`${family}-${role}${d}`] = await pki.leaf(chain[d] as Issued, role, {
            name: `${family}-${role}${d}`,
            key: rootKey,
          });
        }
      }
    }
    leaves['ec-dp4'] = await pki.leaf(cas.ec[4] as Issued, 'dp', { name: 'ec-dp4', key: 'ec-p384' });
  });

  after(() => cleanup?.());

  /** The cluster_cert form: leaf then its intermediates, nearest first. */
  function presented(leaf: Issued): string {
    const parts = [leaf];
    for (let ca = leaf.issuer; ca?.issuer; ca = ca.issuer) parts.push(ca);
    return pki.chainPem(...parts);
  }
  function rootOf(leaf: Issued): Issued {
    let ca = leaf;
    while (ca.issuer) ca = ca.issuer;
    return ca;
  }
  function setup(leaf: Issued, overrides: Partial<PkiSetupInput> = {}): PkiSetupReport {
    return verifyPkiSetup({
      mode: 'pki',
      role: leaf.name.includes('cp') ? 'cp' : 'dp',
      cert: { pem: presented(leaf), source: 'cluster_cert' },
      key: { pem: leaf.keyPem, source: 'cluster_cert_key' },
      ca: { pem: rootOf(leaf).certPem, source: 'cluster_ca_cert' },
      ...overrides,
    });
  }

  describe('valid chains', () => {
    for (const family of ['ec', 'rsa'] as const) {
      for (const role of ['cp', 'dp'] as const) {
        for (let depth = 0; depth <= 3; depth += 1) {
          it(`${family.toUpperCase()} ${role.toUpperCase()} with ${depth} intermediate(s)`, () => {
            const leaf = leaves[`${family}-${role}${depth}`] as Issued;
            const report = setup(leaf);
            assert.deepEqual(errors(report), [], JSON.stringify(report.findings, null, 2));
            assert.deepEqual(warnings(report), []);
            assert.equal(report.valid, true);
            assert.equal(report.intermediates, depth);
            const expectOk = ['key_ok', 'ca_ok', 'chain_ok', 'validity_ok', 'eku_ok'];
            if (role === 'cp') expectOk.push('name_ok');
            assert.deepEqual(codes(report.findings, 'ok'), expectOk);
          });
        }
      }
    }

    it('openssl verify agrees that the whole valid matrix is valid (the helper builds what it claims)', async () => {
      for (const [name, leaf] of Object.entries(leaves)) {
        if (name === 'ec-dp4') continue;
        const ints: Issued[] = [];
        for (let ca = leaf.issuer; ca?.issuer; ca = ca.issuer) ints.push(ca);
        const untrusted = ints.length
          ? ['-untrusted', await pki.file(`${name}-ints.pem`, pki.chainPem(...ints))]
          : [];
        const purpose = name.includes('-cp') ? 'sslserver' : 'sslclient';
        const out = await openssl([
          'verify',
          '-CAfile',
          rootOf(leaf).certPath,
          ...untrusted,
          '-purpose',
          purpose,
          leaf.certPath,
        ]);
        assert.match(out, /: OK$/, name);
      }
    });

    it('accepts the chain as DER buffers and X509Certificate objects, in any order, with the root included', () => {
      const leaf = leaves['ec-dp3'] as Issued;
      const [root, i1, i2, i3] = cas.ec as [Issued, Issued, Issued, Issued];
      const der = (c: Issued) => new X509Certificate(c.certPem).raw;
      const report = verifyPeerChain({
        mode: 'pki',
        role: 'dp',
        peerChain: [der(leaf), new X509Certificate(i1.certPem), der(i3), der(root), der(i2)],
        trustedRoots: [der(root)],
      });
      assert.equal(report.valid, true, JSON.stringify(report.findings));
      assert.equal(report.intermediates, 3);
      assert.deepEqual(
        report.path.map((c) => c.commonName),
        ['ec-dp3', 'ec-i3', 'ec-i2', 'ec-i1', 'ec-root'],
      );
    });
  });

  describe('rejections, each with its own code', () => {
    const root = () => cas.ec[0] as Issued;

    it('expired leaf → cert_expired', async () => {
      const leaf = await pki.leaf(root(), 'dp', {
        name: 'expired-leaf',
        notBefore: daysFromNow(-10),
        notAfter: daysFromNow(-1),
      });
      assert.deepEqual(errors(setup(leaf)), ['cert_expired']);
    });

    it('not-yet-valid leaf → cert_not_yet_valid', async () => {
      const leaf = await pki.leaf(root(), 'cp', {
        name: 'future-cp',
        notBefore: daysFromNow(1),
        notAfter: daysFromNow(100),
      });
      assert.deepEqual(errors(setup(leaf)), ['cert_not_yet_valid']);
    });

    it('expired intermediate → intermediate_expired', async () => {
      const int = await pki.intermediate(root(), {
        name: 'expired-int',
        notBefore: daysFromNow(-30),
        notAfter: daysFromNow(-2),
      });
      const leaf = await pki.leaf(int, 'dp', { name: 'under-expired-int' });
      assert.deepEqual(errors(setup(leaf)), ['intermediate_expired']);
    });

    it('expired root → ca_expired', async () => {
      const oldRoot = await pki.root({
        name: 'old-root',
        notBefore: daysFromNow(-30),
        notAfter: daysFromNow(-1),
      });
      const leaf = await pki.leaf(oldRoot, 'dp', { name: 'under-old-root' });
      assert.deepEqual(errors(setup(leaf)), ['ca_expired']);
    });

    it('4 intermediates → chain_too_deep', () => {
      const report = setup(leaves['ec-dp4'] as Issued);
      assert.equal(report.intermediates, 4);
      assert.deepEqual(errors(report), ['chain_too_deep']);
    });

    it('intermediate with CA:FALSE → intermediate_not_ca', async () => {
      const int = await pki.intermediate(root(), { name: 'int-ca-false', ca: false, keyUsage: 'absent' });
      const leaf = await pki.leaf(int, 'dp', { name: 'under-ca-false' });
      assert.deepEqual(errors(setup(leaf)), ['intermediate_not_ca']);
    });

    it('intermediate without basicConstraints → intermediate_not_ca', async () => {
      const int = await pki.intermediate(root(), { name: 'int-no-bc', ca: 'absent', keyUsage: 'absent' });
      const leaf = await pki.leaf(int, 'dp', { name: 'under-no-bc' });
      assert.deepEqual(errors(setup(leaf)), ['intermediate_not_ca']);
    });

    it('intermediate whose keyUsage lacks keyCertSign → issuer_cannot_sign', async () => {
      const int = await pki.intermediate(root(), { name: 'int-no-certsign', keyUsage: 'digitalSignature' });
      const leaf = await pki.leaf(int, 'dp', { name: 'under-no-certsign' });
      assert.deepEqual(errors(setup(leaf)), ['issuer_cannot_sign']);
    });

    it('pathLen exceeded → path_len_exceeded', async () => {
      const top = await pki.intermediate(root(), { name: 'int-pathlen0', pathLen: 0 });
      const below = await pki.intermediate(top, { name: 'int-below-pathlen0' });
      const leaf = await pki.leaf(below, 'dp', { name: 'under-pathlen0' });
      const report = setup(leaf);
      assert.deepEqual(errors(report), ['path_len_exceeded']);
      assert.match(
        report.findings.find((f) => f.code === 'path_len_exceeded')?.message ?? '',
        /int-pathlen0/,
      );
      // The same pathLen 0 with the leaf directly below it is fine.
      const direct = await pki.leaf(top, 'dp', { name: 'direct-under-pathlen0' });
      assert.deepEqual(errors(setup(direct)), []);
    });

    it('pathLen on the root counts every intermediate → path_len_exceeded', async () => {
      const strictRoot = await pki.root({ name: 'root-pathlen1', pathLen: 1 });
      const a = await pki.intermediate(strictRoot, { name: 'pl1-a' });
      const b = await pki.intermediate(a, { name: 'pl1-b' });
      const ok = await pki.leaf(a, 'dp', { name: 'pl1-leaf-ok' });
      const tooDeep = await pki.leaf(b, 'dp', { name: 'pl1-leaf-deep' });
      assert.deepEqual(errors(setup(ok)), []);
      assert.deepEqual(errors(setup(tooDeep)), ['path_len_exceeded']);
    });

    it('intermediate given as the root → ca_not_root', () => {
      const leaf = leaves['ec-dp1'] as Issued;
      const report = setup(leaf, { ca: { pem: (cas.ec[1] as Issued).certPem, source: 'cluster_ca_cert' } });
      assert.deepEqual(errors(report), ['ca_not_root']);
      assert.match(report.findings[1]?.message ?? '', /not self-signed/);
    });

    it('a node certificate given as the root → ca_not_ca', async () => {
      const selfSignedLeaf = await pki.root({ name: 'self-signed-leaf', ca: false, keyUsage: 'absent' });
      const report = setup(leaves['ec-dp0'] as Issued, {
        ca: { pem: selfSignedLeaf.certPem, source: 'cluster_ca_cert' },
      });
      assert.ok(errors(report).includes('ca_not_ca'), JSON.stringify(report.findings));
    });

    it('leaf from another CA → unknown_issuer', async () => {
      const otherRoot = await pki.root({ name: 'other-root' });
      const leaf = await pki.leaf(otherRoot, 'dp', { name: 'foreign-dp' });
      assert.deepEqual(errors(setup(leaf, { ca: { pem: root().certPem, source: 'ca' } })), [
        'unknown_issuer',
      ]);
    });

    it('leaf from another CA with the same name as ours → unknown_issuer (key identifiers differ)', async () => {
      const impostor = await pki.root({ name: 'impostor-root', cn: 'ec-root' });
      const leaf = await pki.leaf(impostor, 'dp', { name: 'impostor-dp' });
      assert.deepEqual(errors(setup(leaf, { ca: { pem: root().certPem, source: 'ca' } })), [
        'unknown_issuer',
      ]);
    });

    it('missing intermediate → unknown_issuer', () => {
      const leaf = leaves['ec-dp2'] as Issued;
      const report = setup(leaf, { cert: { pem: pki.chainPem(leaf, cas.ec[1] as Issued), source: 'c' } });
      assert.deepEqual(errors(report), ['unknown_issuer']);
    });

    it('tampered signature → bad_signature', () => {
      const leaf = leaves['ec-dp0'] as Issued;
      const der = Buffer.from(new X509Certificate(leaf.certPem).raw);
      der.writeUInt8((der.at(-3) ?? 0) ^ 0x01, der.length - 3); // inside the ECDSA signature value
      const report = verifyPeerChain({
        mode: 'pki',
        role: 'dp',
        peerChain: [der],
        trustedRoots: [root().certPem],
      });
      assert.deepEqual(errors(report), ['bad_signature']);
    });

    it('DP certificate without EKU → eku_missing', async () => {
      const leaf = await pki.leaf(root(), 'dp', { name: 'dp-no-eku', eku: 'absent' });
      assert.deepEqual(errors(setup(leaf)), ['eku_missing']);
    });

    it('DP certificate with serverAuth only → eku_wrong', async () => {
      const leaf = await pki.leaf(root(), 'dp', { name: 'dp-server-eku', eku: ['serverAuth'] });
      assert.deepEqual(errors(setup(leaf)), ['eku_wrong']);
    });

    it('CP certificate with clientAuth only → eku_wrong', async () => {
      const leaf = await pki.leaf(root(), 'cp', { name: 'cp-client-eku', eku: ['clientAuth'] });
      assert.deepEqual(errors(setup(leaf)), ['eku_wrong']);
    });

    it('CP certificate without EKU → eku_missing; with both purposes it is accepted in either role', async () => {
      const none = await pki.leaf(root(), 'cp', { name: 'cp-no-eku', eku: 'absent' });
      assert.deepEqual(errors(setup(none)), ['eku_missing']);
      const both = await pki.leaf(root(), 'cp', { name: 'cp-both-eku', eku: ['serverAuth', 'clientAuth'] });
      assert.deepEqual(errors(setup(both)), []);
      assert.deepEqual(errors(setup(both, { role: 'dp' })), []);
    });

    it('intermediate restricted to another EKU → intermediate_eku_wrong', async () => {
      const int = await pki.intermediate(root(), { name: 'int-server-only', eku: ['serverAuth'] });
      const dp = await pki.leaf(int, 'dp', { name: 'dp-under-server-only' });
      const cp = await pki.leaf(int, 'cp', { name: 'cp-under-server-only' });
      assert.deepEqual(errors(setup(dp)), ['intermediate_eku_wrong']);
      assert.deepEqual(errors(setup(cp)), []);
    });

    it('CP SAN not matching the server name → name_mismatch', async () => {
      const leaf = await pki.leaf(root(), 'cp', { name: 'cp-other-san', san: ['cp.example.test'] });
      assert.deepEqual(errors(setup(leaf)), ['name_mismatch']);
      assert.deepEqual(errors(setup(leaf, { serverName: 'cp.example.test' })), []);
      assert.deepEqual(errors(setup(leaf, { serverName: 'CP.Example.Test.' })), []);
    });

    it('CN is used only when there is no SAN DNS', async () => {
      const cnOnly = await pki.leaf(root(), 'cp', {
        name: 'cp-cn-only',
        cn: 'kong_clustering',
        san: 'absent',
      });
      assert.deepEqual(errors(setup(cnOnly)), []);
      const cnOther = await pki.leaf(root(), 'cp', {
        name: 'cp-cn-other',
        cn: 'cp.other.test',
        san: 'absent',
      });
      assert.deepEqual(errors(setup(cnOther)), ['name_mismatch']);
      const sanWins = await pki.leaf(root(), 'cp', {
        name: 'cp-san-wins',
        cn: 'kong_clustering',
        san: ['cp.example.test'],
      });
      assert.deepEqual(errors(setup(sanWins)), ['name_mismatch']);
      const noName = await pki.leaf(root(), 'cp', { name: 'cp-no-name', cn: null, san: 'absent' });
      assert.deepEqual(errors(setup(noName)), ['name_mismatch']);
    });

    it('wildcard SAN matches exactly one left-most label; IP SAN matches an IP server name', async () => {
      const leaf = await pki.leaf(root(), 'cp', {
        name: 'cp-wildcard',
        san: ['*.cluster.example', 'IP:127.0.0.1'],
      });
      assert.deepEqual(errors(setup(leaf, { serverName: 'cp1.cluster.example' })), []);
      assert.deepEqual(errors(setup(leaf, { serverName: 'a.b.cluster.example' })), ['name_mismatch']);
      assert.deepEqual(errors(setup(leaf, { serverName: 'cluster.example' })), ['name_mismatch']);
      assert.deepEqual(errors(setup(leaf, { serverName: '127.0.0.1' })), []);
      assert.deepEqual(errors(setup(leaf, { serverName: '127.0.0.2' })), ['name_mismatch']);
    });

    it('DP certificate names are not checked', async () => {
      const leaf = await pki.leaf(root(), 'dp', { name: 'dp-any-name', cn: 'whatever', san: ['x.test'] });
      assert.deepEqual(errors(setup(leaf, { serverName: 'kong_clustering' })), []);
    });

    it('key not matching the certificate → key_mismatch (same curve, different key)', async () => {
      const leaf = leaves['ec-cp1'] as Issued;
      const otherKey = await pki.key('ec-p384', 'stranger');
      const { readFile } = await import('node:fs/promises');
      const report = setup(leaf, { key: { pem: await readFile(otherKey, 'utf8'), source: 'key' } });
      assert.deepEqual(errors(report), ['key_mismatch']);
      const rsaKey = (leaves['rsa-cp0'] as Issued).keyPem;
      assert.deepEqual(errors(setup(leaf, { key: { pem: rsaKey, source: 'key' } })), ['key_mismatch']);
    });

    it('truncated or garbage PEM → pem_invalid / key_invalid', () => {
      const leaf = leaves['ec-dp0'] as Issued;
      const pem = leaf.certPem;
      const cases: [string, string][] = [
        ['cut in the middle', pem.slice(0, Math.floor(pem.length / 2))],
        ['body cut but END kept', pem.slice(0, 200) + '\n-----END CERTIFICATE-----\n'],
        ['garbage', 'hello, I am not a certificate\n'],
        ['empty', ''],
        ['not base64', '-----BEGIN CERTIFICATE-----\n!!!***\n-----END CERTIFICATE-----\n'],
        ['a key instead of a certificate', leaf.keyPem],
      ];
      for (const [label, text] of cases) {
        const report = setup(leaf, { cert: { pem: text, source: 'cluster_cert' } });
        assert.deepEqual(errors(report), ['pem_invalid'], label);
        assert.equal(report.valid, false);
        assert.match(report.findings[0]?.message ?? '', /^cluster_cert: /, label);
      }
      const badCa = setup(leaf, { ca: { pem: 'junk', source: 'cluster_ca_cert' } });
      assert.deepEqual(errors(badCa), ['pem_invalid']);
      for (const key of [leaf.keyPem.slice(0, 60), 'junk', leaf.certPem]) {
        assert.deepEqual(errors(setup(leaf, { key: { pem: key, source: 'key' } })), ['key_invalid']);
      }
    });

    it('reports every problem at once', async () => {
      const leaf = await pki.leaf(root(), 'cp', {
        name: 'cp-many-problems',
        eku: ['clientAuth'],
        san: ['wrong.test'],
        notBefore: daysFromNow(-10),
        notAfter: daysFromNow(-1),
      });
      assert.deepEqual(errors(setup(leaf)), ['cert_expired', 'eku_wrong', 'name_mismatch']);
    });
  });

  describe('validity at a given instant and expiry warnings', () => {
    it('warns when the leaf expires within warnDays, and not otherwise', async () => {
      const leaf = await pki.leaf(cas.ec[0] as Issued, 'dp', {
        name: 'dp-expiring',
        notAfter: daysFromNow(10),
      });
      const report = setup(leaf);
      assert.equal(report.valid, true);
      assert.deepEqual(warnings(report), ['cert_expiring_soon']);
      assert.match(report.findings.find((f) => f.code === 'cert_expiring_soon')?.message ?? '', /in 9 days/);
      assert.deepEqual(warnings(setup(leaf, { warnDays: 5 })), []);
      assert.deepEqual(warnings(setup(leaf, { warnDays: 0 })), []);
    });

    it('checks validity at `at`, for every certificate', () => {
      const leaf = leaves['ec-dp2'] as Issued;
      assert.deepEqual(errors(setup(leaf, { at: daysFromNow(400) })), [
        'ca_expired',
        'cert_expired',
        'intermediate_expired',
        'intermediate_expired',
      ]);
      assert.deepEqual(errors(setup(leaf, { at: daysFromNow(-1) })), [
        'ca_not_yet_valid',
        'cert_not_yet_valid',
        'intermediate_not_yet_valid',
        'intermediate_not_yet_valid',
      ]);
      assert.deepEqual(warnings(setup(leaf, { at: daysFromNow(350) })), [
        'ca_expiring_soon',
        'cert_expiring_soon',
        'intermediate_expiring_soon',
        'intermediate_expiring_soon',
      ]);
    });

    it('warns about a presented certificate that is not on the path', () => {
      const leaf = leaves['ec-dp1'] as Issued;
      const extra = leaves['rsa-cp0'] as Issued;
      const report = setup(leaf, { chain: { pem: extra.certPem, source: 'chain' } });
      assert.equal(report.valid, true);
      assert.deepEqual(warnings(report), ['chain_unused_cert']);
    });
  });

  describe('shared mode', () => {
    it('accepts a byte-identical certificate and rejects any other', async () => {
      const shared = await pki.root({ name: 'shared', cn: 'kong_clustering', key: 'ec-p384' });
      const other = await pki.root({ name: 'shared-other', cn: 'kong_clustering', key: 'ec-p384' });
      const same = verifyPeerChain({
        mode: 'shared',
        role: 'dp',
        peerChain: [shared.certPem],
        sharedCert: shared.certPem,
      });
      assert.equal(same.valid, true);
      assert.deepEqual(codes(same.findings, 'ok'), ['shared_cert_match', 'validity_ok']);
      const differs = verifyPeerChain({
        mode: 'shared',
        role: 'dp',
        peerChain: [other.certPem],
        sharedCert: shared.certPem,
      });
      assert.deepEqual(errors(differs), ['shared_cert_mismatch']);

      const files = verifyPkiSetup({
        mode: 'shared',
        role: 'cp',
        cert: { pem: shared.certPem, source: 'cert' },
        key: { pem: shared.keyPem, source: 'key' },
        peerCert: { pem: other.certPem, source: 'peer' },
      });
      assert.deepEqual(errors(files), ['shared_cert_mismatch']);
    });

    it('still checks the validity window of the shared certificate', async () => {
      const old = await pki.root({
        name: 'shared-old',
        notBefore: daysFromNow(-20),
        notAfter: daysFromNow(-1),
      });
      const report = verifyPeerChain({
        mode: 'shared',
        role: 'cp',
        peerChain: [old.certPem],
        sharedCert: old.certPem,
      });
      assert.deepEqual(errors(report), ['cert_expired']);
    });
  });

  it('reports a missing peer certificate', () => {
    const report = verifyPeerChain({
      mode: 'pki',
      role: 'dp',
      peerChain: [],
      trustedRoots: [(cas.ec[0] as Issued).certPem],
    });
    assert.deepEqual(errors(report), ['cert_missing']);
  });
});
