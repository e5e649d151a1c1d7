// The handshake's OCSP verdicts and their cache: policy, expiry at nextUpdate, no caching of failures.
import assert from 'node:assert/strict';
import { parseCertificate, type ParsedCertificate } from '../../../src/core/pki/index.js';
import type { OcspCheckOptions, OcspResult } from '../../../src/core/pki/ocsp.js';
import { createRevocationCheck, OCSP_CACHE_DEFAULT_MS } from '../../../src/core/cluster/revocation.js';
import { OpensslPki } from '../../helpers/openssl-pki.js';
import { makeTempDir } from '../../helpers/tmp.js';

describe('cluster: OCSP verdicts and cache', function () {
  this.timeout(30_000);
  let cleanup: () => Promise<void>;
  let issuer: ParsedCertificate;
  let leafA: ParsedCertificate;
  let leafB: ParsedCertificate;
  const url = 'http://127.0.0.1:9';

  before(async () => {
    const tmp = await makeTempDir('hybrid-revocation-');
    cleanup = tmp.cleanup;
    const pki = await OpensslPki.create(tmp.dir);
    const root = await pki.root({ name: 'root' });
    issuer = parseCertificate(root.certPem);
    leafA = parseCertificate((await pki.leaf(root, 'dp', { name: 'a' })).certPem);
    leafB = parseCertificate((await pki.leaf(root, 'dp', { name: 'b' })).certPem);
  });
  after(async () => cleanup());

  /** A responder stand-in answering from `answers` (by certificate subject) and counting questions. */
  function responder(answers: Record<string, () => OcspResult>) {
    const asked: string[] = [];
    return {
      asked,
      ask: async (options: OcspCheckOptions): Promise<OcspResult> => {
        asked.push(options.cert.subject);
        return answers[options.cert.subject]!();
      },
    };
  }

  it('on: good allows; revoked, unknown, no responder and unreachable refuse with the reason', async () => {
    const cases: [OcspResult, boolean, RegExp][] = [
      [{ status: 'good', url, thisUpdate: new Date() }, true, /.*/],
      [{ status: 'revoked', url, thisUpdate: new Date() }, false, /revoked/],
      [{ status: 'unknown', url, reason: 'responder does not know this certificate' }, false, /unknown/],
      [{ status: 'no_responder' }, false, /names no OCSP responder/],
      [{ status: 'unreachable', url, reason: 'ECONNREFUSED' }, false, /no answer \(ECONNREFUSED\)/],
    ];
    for (const [result, allowed, reason] of cases) {
      const check = createRevocationCheck({ policy: 'on', ask: async () => result });
      const verdict = await check.verdict(leafA, issuer);
      assert.equal(verdict.allow, allowed, result.status);
      if (!verdict.allow) assert.match(verdict.reason, reason);
      else assert.equal(verdict.warning, undefined);
    }
  });

  it('optional: revoked refuses; a missing or unreachable responder allows with a warning', async () => {
    const revoked = createRevocationCheck({
      policy: 'optional',
      ask: async () => ({ status: 'revoked', url, thisUpdate: new Date() }),
    });
    assert.equal((await revoked.verdict(leafA, issuer)).allow, false);
    for (const result of [
      { status: 'no_responder' },
      { status: 'unreachable', url, reason: 'timed out' },
    ] as OcspResult[]) {
      const verdict = await createRevocationCheck({ policy: 'optional', ask: async () => result }).verdict(
        leafA,
        issuer,
      );
      assert.ok(verdict.allow && verdict.warning, `${result.status} allowed with a warning`);
    }
  });

  it('caches good and revoked answers per certificate until nextUpdate, and asks again after it', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const nextUpdate = new Date(now + 60_000);
    const { asked, ask } = responder({
      [leafA.subject]: () => ({ status: 'good', url, thisUpdate: new Date(now), nextUpdate }),
      [leafB.subject]: () => ({ status: 'revoked', url, thisUpdate: new Date(now), nextUpdate }),
    });
    const check = createRevocationCheck({ policy: 'on', ask, now: () => now });
    for (let i = 0; i < 3; i += 1) {
      assert.equal((await check.verdict(leafA, issuer)).allow, true);
      assert.equal((await check.verdict(leafB, issuer)).allow, false);
    }
    assert.deepEqual(asked, [leafA.subject, leafB.subject], 'one question per certificate');
    now = nextUpdate.getTime() + 1;
    await check.verdict(leafA, issuer);
    assert.equal(check.lookups(), 3, 'asked again once nextUpdate passed');
  });

  it('bounds an answer without nextUpdate by the default, and never caches failures', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    let status: 'good' | 'unreachable' = 'unreachable';
    const { ask } = responder({
      [leafA.subject]: () =>
        status === 'good'
          ? { status, url, thisUpdate: new Date(now) }
          : { status, url, reason: 'ECONNREFUSED' },
    });
    const check = createRevocationCheck({ policy: 'on', ask, now: () => now });
    assert.equal((await check.verdict(leafA, issuer)).allow, false);
    status = 'good';
    assert.equal((await check.verdict(leafA, issuer)).allow, true, 'a failure is asked again');
    assert.equal((await check.verdict(leafA, issuer)).allow, true);
    assert.equal(check.lookups(), 2);
    now += OCSP_CACHE_DEFAULT_MS + 1;
    await check.verdict(leafA, issuer);
    assert.equal(check.lookups(), 3);
  });

  it('handshakes arriving together for one certificate share a single question', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let questions = 0;
    const check = createRevocationCheck({
      policy: 'on',
      ask: async () => {
        questions += 1;
        await gate;
        return { status: 'good', url, thisUpdate: new Date() };
      },
    });
    const verdicts = Array.from({ length: 5 }, () => check.verdict(leafA, issuer));
    release();
    assert.ok((await Promise.all(verdicts)).every((v) => v.allow));
    assert.equal(questions, 1);
  });
});
