// Resolving a configuration's upstream TLS: which CAs, which client certificate, which depth, and the pool keys.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { Trust } from '../../../src/core/pki/index.js';
import type { DeclarativeConfig, ServiceEntity, UpstreamEntity } from '../../../src/core/proxy/types.js';
import {
  buildUpstreamTls,
  depthRefusal,
  type UpstreamTlsSettings,
} from '../../../src/core/proxy/upstream-tls.js';
import { OpensslPki, type Issued } from '../../helpers/openssl-pki.js';
import { makeTempDir } from '../../helpers/tmp.js';

const NODE_TRUST: Trust = { system: true, pems: ['NODE CA'] };
const SETTINGS: UpstreamTlsSettings = { trust: NODE_TRUST, healthCheckDepth: 2 };

const CA1 = '00000000-0000-4000-8000-0000000000c1';
const CA2 = '00000000-0000-4000-8000-0000000000c2';
const GONE = '00000000-0000-4000-8000-0000000000ff';

function service(over: Partial<ServiceEntity>): ServiceEntity {
  return { id: 'svc', protocol: 'https', host: 'api.test', port: 443, ...over };
}

function upstream(over: Partial<UpstreamEntity>): UpstreamEntity {
  return { id: 'up-1', name: 'pool.internal', ...over };
}

function config(services: ServiceEntity[], extra: Partial<DeclarativeConfig> = {}): DeclarativeConfig {
  return {
    _format_version: '3.0',
    services,
    certificates: [
      { id: 'cert-svc', cert: 'SERVICE CERT', key: 'SERVICE KEY' },
      { id: 'cert-up', cert: 'UPSTREAM CERT', key: 'UPSTREAM KEY' },
    ],
    ca_certificates: [
      { id: CA1, cert: 'CA ONE' },
      { id: CA2, cert: 'CA TWO' },
    ],
    ...extra,
  };
}

function build(cfg: DeclarativeConfig, settings = SETTINGS) {
  const warnings: string[] = [];
  const set = buildUpstreamTls(cfg, settings, { warn: (m) => warnings.push(m) });
  return { set, warnings };
}

describe('proxy: upstream TLS of a configuration', () => {
  it('without tls_verify verifies nothing: CAs and depth do not split pools, the key names only the certificate', () => {
    const a = service({ id: 'a', ca_certificates: [CA1], tls_verify_depth: 4 });
    const b = service({ id: 'b', tls_verify: false });
    const { set, warnings } = build(config([a, b]));
    const tls = set.forService(a);
    assert.equal(tls.verify, false);
    assert.equal(tls.key, 'noverify cert=-');
    assert.equal(tls.identity, null);
    assert.equal(set.forService(b), tls, 'one object for the same TLS');
    assert.deepEqual([...set.keys], ['noverify cert=-']);
    assert.equal(tls.connectOptions().rejectUnauthorized, false);
    assert.deepEqual(warnings, []);
  });

  it('with tls_verify and ca_certificates trusts exactly those CAs, in order; tls_verify_depth or nginx’s 1', () => {
    const svc = service({ tls_verify: true, ca_certificates: [CA2, CA1] });
    const deep = service({ id: 'deep', tls_verify: true, ca_certificates: [CA2, CA1], tls_verify_depth: 3 });
    const { set } = build(config([svc, deep]));
    const tls = set.forService(svc);
    assert.equal(tls.verify, true);
    assert.deepEqual(tls.trust, { system: false, pems: ['CA TWO', 'CA ONE'] });
    assert.deepEqual(tls.depth, { max: 1, setting: 'tls_verify_depth' });
    assert.match(tls.key, /^verify tls_verify_depth=1 ca=[0-9a-f]{16} cert=-$/);
    assert.deepEqual(set.forService(deep).depth, { max: 3, setting: 'tls_verify_depth' });
    assert.notEqual(set.forService(deep).key, tls.key);
    assert.equal(tls.connectOptions().rejectUnauthorized, true);
  });

  it('with tls_verify and no ca_certificates trusts the node (lua_ssl_trusted_certificate)', () => {
    const svc = service({ tls_verify: true, ca_certificates: null });
    const tls = build(config([svc])).set.forService(svc);
    assert.equal(tls.trust, NODE_TRUST);
    assert.match(tls.key, /^verify tls_verify_depth=1 ca=node-[0-9a-f]{16} cert=-$/);
  });

  it("the node's trust is keyed by content: a reloaded lua_ssl_trusted_certificate never reuses a pool", () => {
    const svc = service({ tls_verify: true, ca_certificates: null });
    const key = (trust: typeof NODE_TRUST) =>
      build(config([svc]), { ...SETTINGS, trust }).set.forService(svc).key;
    assert.equal(key({ system: false, pems: ['A'] }), key({ system: false, pems: ['A'] }));
    assert.notEqual(key({ system: false, pems: ['A'] }), key({ system: false, pems: ['B'] }));
    assert.notEqual(key({ system: false, pems: ['A'] }), key({ system: true, pems: ['A'] }));
  });

  it('a changed CA or client certificate under the same id changes the key, so new connections use it', () => {
    const svc = service({ tls_verify: true, ca_certificates: [CA1], client_certificate: { id: 'cert-svc' } });
    const before = build(config([svc])).set.forService(svc).key;
    const changedCa = config([svc], { ca_certificates: [{ id: CA1, cert: 'CA ONE, REISSUED' }] });
    assert.notEqual(build(changedCa).set.forService(svc).key, before);
    const changedCert = config([svc], {
      certificates: [{ id: 'cert-svc', cert: 'NEW CERT', key: 'NEW KEY' }],
    });
    assert.notEqual(build(changedCert).set.forService(svc).key, before);
    assert.equal(build(config([svc])).set.forService(svc).key, before, 'the same content, the same key');
  });

  it('presents the service’s client certificate; its upstream’s only when the service has none (Kong’s order)', () => {
    const up = upstream({ client_certificate: { id: 'cert-up' } });
    const own = service({ id: 'own', host: 'pool.internal', client_certificate: { id: 'cert-svc' } });
    const fallback = service({ id: 'fallback', host: 'POOL.internal', protocol: 'wss' });
    const direct = service({ id: 'direct', host: 'api.test' });
    const { set, warnings } = build(config([own, fallback, direct], { upstreams: [up] }));
    assert.deepEqual(set.forService(own).identity, { cert: 'SERVICE CERT', key: 'SERVICE KEY' });
    assert.match(set.forService(own).key, /^noverify cert=cert-svc@[0-9a-f]{16}$/);
    assert.deepEqual(set.forService(fallback).identity, { cert: 'UPSTREAM CERT', key: 'UPSTREAM KEY' });
    assert.equal(set.forService(direct).identity, null);
    assert.equal(set.keys.size, 3);
    assert.deepEqual(warnings, []);
  });

  it('names missing ids once: a missing CA is not trusted, a missing certificate is not presented (nor replaced)', () => {
    const up = upstream({ client_certificate: { id: 'cert-up' } });
    const one = service({
      id: 'one',
      name: 'one',
      host: 'pool.internal',
      tls_verify: true,
      ca_certificates: [CA1, GONE],
      client_certificate: { id: 'cert-gone' },
    });
    const two = service({ id: 'two', name: 'one', tls_verify: true, ca_certificates: [CA1, GONE] });
    const { set, warnings } = build(config([one, two], { upstreams: [up] }));
    assert.deepEqual(set.forService(one).trust, { system: false, pems: ['CA ONE'] });
    assert.equal(set.forService(one).identity, null);
    assert.deepEqual(warnings, [
      `service one: ca_certificates ${GONE} is not in the configuration`,
      'service one: client_certificate cert-gone is not in the configuration; none is presented',
    ]);
  });

  it('an empty ca_certificates trusts nothing (as Kong’s empty store), and says so', () => {
    const svc = service({ name: 'strict', tls_verify: true, ca_certificates: [] });
    const { set, warnings } = build(config([svc]));
    assert.deepEqual(set.forService(svc).trust, { system: false, pems: [] });
    assert.deepEqual(warnings, [
      'service strict: tls_verify is on and ca_certificates is empty: no upstream certificate is trusted',
    ]);
  });

  it('resolves only https and wss services up front; any other is resolved when asked', () => {
    const plain = service({ id: 'plain', protocol: 'http', tls_verify: true });
    const { set } = build(config([plain]));
    assert.equal(set.keys.size, 0);
    assert.equal(set.forService(plain).trust, NODE_TRUST);
    assert.equal(set.keys.size, 0);
  });

  it('health checks trust the node, present the upstream’s certificate and use lua_ssl_verify_depth', () => {
    const up = upstream({ client_certificate: { id: 'cert-up' } });
    const { set } = build(config([], { upstreams: [up] }));
    const tls = set.forHealthChecks(up, true);
    assert.equal(tls.trust, NODE_TRUST);
    assert.deepEqual(tls.identity, { cert: 'UPSTREAM CERT', key: 'UPSTREAM KEY' });
    assert.deepEqual(tls.depth, { max: 2, setting: 'lua_ssl_verify_depth' });
    assert.equal(set.forHealthChecks(up, true), tls);
    const lenient = set.forHealthChecks(up, false);
    assert.equal(lenient.verify, false);
    assert.deepEqual(lenient.identity, { cert: 'UPSTREAM CERT', key: 'UPSTREAM KEY' });
    assert.equal(set.forHealthChecks(upstream({ id: 'up-2', name: 'bare' }), true).identity, null);
  });

  it('loads its context once, on the first connection, and throws when the certificate cannot be loaded', () => {
    const svc = service({ client_certificate: { id: 'cert-svc' } });
    const tls = build(config([svc])).set.forService(svc);
    assert.throws(() => tls.connectOptions());
    const fine = build(config([service({})])).set.forService(service({}));
    assert.equal(fine.connectOptions(), fine.connectOptions());
  });

  describe('depth refusal', function () {
    this.timeout(30_000);
    let cleanup: () => Promise<void>;
    let chain: Buffer[];

    before(async () => {
      const tmp = await makeTempDir('hybrid-upstream-tls-');
      cleanup = tmp.cleanup;
      const pki = await OpensslPki.create(tmp.dir);
      const root: Issued = await pki.root({ name: 'root' });
      const int1 = await pki.intermediate(root, { name: 'int1' });
      const int2 = await pki.intermediate(int1, { name: 'int2' });
      const leaf = await pki.leaf(int2, 'cp', { name: 'leaf', san: ['upstream.test'] });
      chain = [leaf, int2, int1, root].map((c) => new X509Certificate(c.certPem).raw);
    });
    after(async () => cleanup());

    it('refuses a chain over the limit with OpenSSL’s code, naming the setting; passes one within it', () => {
      const refused = depthRefusal(chain, { max: 1, setting: 'tls_verify_depth' });
      assert.equal(refused?.code, 'CERT_CHAIN_TOO_LONG');
      assert.equal(
        refused?.message,
        'certificate chain too long: 2 intermediates, tls_verify_depth allows 1',
      );
      assert.equal(
        depthRefusal(chain, { max: 0, setting: 'lua_ssl_verify_depth' })?.message,
        'certificate chain too long: 2 intermediates, lua_ssl_verify_depth allows 0',
      );
      assert.equal(depthRefusal(chain, { max: 2, setting: 'tls_verify_depth' }), undefined);
    });

    it('refuses a chain that does not link up instead of counting it', () => {
      const refused = depthRefusal([chain[0]!, chain[2]!, chain[3]!], {
        max: 5,
        setting: 'tls_verify_depth',
      });
      assert.equal(refused?.code, 'CERT_CHAIN_UNLINKED');
      assert.match(refused!.message, /^certificate chain cannot be checked: the chain does not link up: /);
    });
  });
});
