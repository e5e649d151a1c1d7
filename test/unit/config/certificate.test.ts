// Certificate values: file path (absolute or relative), inline PEM, escaped PEM, base64 PEM, and every failure.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasPemBlock, parseCertificateValue } from '../../../src/core/config/certificate.js';
import type { ParseContext } from '../../../src/core/config/values.js';
import { writeSharedPair } from '../../helpers/openssl-pki.js';
import { makeTempDir } from '../../helpers/tmp.js';

describe('config certificate values', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let certPem: string;
  let keyPem: string;
  let ctx: ParseContext;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    await writeSharedPair(dir);
    certPem = readFileSync(join(dir, 'cluster.crt'), 'utf8');
    keyPem = readFileSync(join(dir, 'cluster.key'), 'utf8');
    ctx = { baseDir: dir, readFile: (p) => readFileSync(p, 'utf8') };
  });
  after(() => cleanup());

  it('reads a file given by absolute or relative path (relative to the base directory)', () => {
    const abs = parseCertificateValue(join(dir, 'cluster.crt'), 'certificate', ctx);
    assert.deepEqual(abs, { ok: true, value: { path: join(dir, 'cluster.crt'), pem: certPem } });
    const rel = parseCertificateValue('cluster.key', 'key', ctx);
    assert.deepEqual(rel, { ok: true, value: { path: join(dir, 'cluster.key'), pem: keyPem } });
  });

  it('accepts inline PEM with real newlines, with \\n escapes, and as base64', () => {
    assert.deepEqual(parseCertificateValue(certPem, 'certificate', ctx), {
      ok: true,
      value: { pem: certPem },
    });
    const escaped = certPem.trim().replace(/\n/g, '\\n');
    const r = parseCertificateValue(escaped, 'certificate', ctx);
    assert.ok(r.ok);
    assert.equal(r.value.pem, certPem.trim());
    assert.equal(r.value.path, undefined);
    const b64 = Buffer.from(keyPem).toString('base64');
    assert.deepEqual(parseCertificateValue(b64, 'key', ctx), { ok: true, value: { pem: keyPem } });
  });

  it('a missing file is an error naming the absolute path, with a hint', () => {
    const r = parseCertificateValue('missing.crt', 'certificate', ctx);
    assert.ok(!r.ok);
    assert.equal(r.message, `failed loading certificate from ${join(dir, 'missing.crt')}: no such file`);
    assert.ok(r.hint);
  });

  it('a directory or an unreadable file is an error', () => {
    mkdirSync(join(dir, 'adir'));
    const d = parseCertificateValue('adir', 'certificate', ctx);
    assert.ok(!d.ok);
    assert.match(d.message, /adir: is a directory$/);
    if (process.getuid?.() !== 0) {
      writeFileSync(join(dir, 'locked.crt'), certPem);
      chmodSync(join(dir, 'locked.crt'), 0o000);
      const l = parseCertificateValue('locked.crt', 'certificate', ctx);
      assert.ok(!l.ok);
      assert.match(l.message, /locked\.crt: permission denied$/);
    }
  });

  it('content without the right PEM block is an error: garbage, a key given as certificate, truncated PEM', () => {
    writeFileSync(join(dir, 'garbage.crt'), 'hello world\n');
    const g = parseCertificateValue('garbage.crt', 'certificate', ctx);
    assert.ok(!g.ok);
    assert.equal(
      g.message,
      `failed loading certificate from ${join(dir, 'garbage.crt')}: no PEM CERTIFICATE block found`,
    );
    const swapped = parseCertificateValue('cluster.key', 'certificate', ctx);
    assert.ok(!swapped.ok);
    assert.match(swapped.message, /no PEM CERTIFICATE block found/);
    const keyAsCert = parseCertificateValue('cluster.crt', 'key', ctx);
    assert.ok(!keyAsCert.ok);
    assert.match(keyAsCert.message, /no PEM PRIVATE KEY block found/);
    const truncated = certPem.slice(0, certPem.indexOf('-----END'));
    const t = parseCertificateValue(truncated, 'certificate', ctx);
    assert.ok(!t.ok);
    assert.equal(t.message, 'failed loading inline certificate: no PEM CERTIFICATE block found');
  });

  it('hasPemBlock recognises certificate and the private key labels', () => {
    assert.ok(hasPemBlock(certPem, 'certificate'));
    assert.ok(hasPemBlock(keyPem, 'key'));
    assert.ok(hasPemBlock('-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n', 'key'));
    assert.ok(
      !hasPemBlock('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE REQUEST-----', 'certificate'),
    );
  });
});
