// `hybrid gen_cert` end to end, checked with the openssl CLI as an independent reader.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, runCli } from '../helpers/cli.js';
import { openssl } from '../helpers/openssl-pki.js';
import { makeTempDir } from '../helpers/tmp.js';

/** A certificate file's notBefore and notAfter (ms), as openssl reads them. */
async function validity(path: string): Promise<{ notBefore: number; notAfter: number }> {
  const dates = await openssl(['x509', '-in', path, '-noout', '-startdate', '-enddate']);
  const at = (field: string) => Date.parse(new RegExp(`${field}=(.*)`).exec(dates)![1]!);
  return { notBefore: at('notBefore'), notAfter: at('notAfter') };
}

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('hybrid gen_cert', function () {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => ({ dir, cleanup } = await makeTempDir()));
  afterEach(async () => cleanup());

  it('writes cluster.crt and cluster.key in the working directory by default', async () => {
    const result = await runCli(['gen_cert'], { cwd: dir });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /Successfully generated certificate\/key pairs/);
    const text = await openssl(['x509', '-in', join(dir, 'cluster.crt'), '-noout', '-text']);
    assert.match(text, /Subject: CN ?= ?kong_clustering/);
    assert.match(text, /Issuer: CN ?= ?kong_clustering/);
    assert.match(text, /ASN1 OID: secp384r1/);
    assert.match(text, /Public-Key: \(384 bit\)/);
    assert.match(readFileSync(join(dir, 'cluster.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('makes a key that belongs to the certificate, and a certificate openssl verifies as self-signed', async () => {
    await runCli(['gen_cert'], { cwd: dir });
    const fromCert = await openssl(['x509', '-in', join(dir, 'cluster.crt'), '-noout', '-pubkey']);
    const fromKey = await openssl(['pkey', '-in', join(dir, 'cluster.key'), '-pubout']);
    assert.equal(fromCert, fromKey);
    const crt = join(dir, 'cluster.crt');
    assert.match(await openssl(['verify', '-CAfile', crt, crt]), /: OK$/);
  });

  it('is valid from now for exactly --days days', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const result = await runCli(['gen_cert', '--days', '30'], { cwd: dir });
    const after = Date.now();
    assert.equal(result.exitCode, 0, result.stderr);
    const { notBefore, notAfter } = await validity(join(dir, 'cluster.crt'));
    assert.ok(notBefore >= before && notBefore <= after, `notBefore ${new Date(notBefore).toISOString()}`);
    assert.equal(notAfter - notBefore, 30 * 86_400_000);
  });

  it('carries a subject key identifier equal to the one openssl computes', async () => {
    await runCli(['gen_cert'], { cwd: dir });
    const ours = await openssl([
      'x509',
      '-in',
      join(dir, 'cluster.crt'),
      '-noout',
      '-ext',
      'subjectKeyIdentifier',
    ]);
    const ref = join(dir, 'ref.crt');
    await openssl([
      'req',
      '-new',
      '-x509',
      '-key',
      join(dir, 'cluster.key'),
      '-subj',
      '/CN=ref',
      '-days',
      '1',
      '-addext',
      'subjectKeyIdentifier=hash',
      '-out',
      ref,
    ]);
    assert.equal(ours, await openssl(['x509', '-in', ref, '-noout', '-ext', 'subjectKeyIdentifier']));
  });

  it('encodes far dates (past 2049) so openssl still verifies the certificate', async () => {
    const result = await runCli(['gen_cert', '--days', '36500'], { cwd: dir });
    assert.equal(result.exitCode, 0, result.stderr);
    const crt = join(dir, 'cluster.crt');
    assert.match(await openssl(['x509', '-in', crt, '-noout', '-enddate']), /21\d\d GMT$/);
    assert.match(await openssl(['verify', '-CAfile', crt, crt]), /: OK$/);
  });

  it('defaults to 1095 days', async () => {
    await runCli(['gen_cert'], { cwd: dir });
    const { notBefore, notAfter } = await validity(join(dir, 'cluster.crt'));
    assert.equal(notAfter - notBefore, 1095 * 86_400_000);
  });

  for (const umask of ['000', '077']) {
    it(`writes the certificate 0644 and the key 0600 whatever the umask (${umask})`, async () => {
      await execa('sh', ['-c', `umask ${umask} && node "${BIN}" gen_cert a.crt a.key`], { cwd: dir });
      assert.equal(mode(join(dir, 'a.crt')), 0o644);
      assert.equal(mode(join(dir, 'a.key')), 0o600);
    });
  }

  for (const existing of ['cluster.crt', 'cluster.key']) {
    it(`refuses to overwrite an existing ${existing}, names it, and writes nothing`, async () => {
      writeFileSync(join(dir, existing), 'keep me');
      const result = await runCli(['gen_cert'], { cwd: dir });
      assert.equal(result.exitCode, 3);
      assert.match(result.stderr, new RegExp(`${existing.replace('.', '\\.')} already exists`));
      assert.match(result.stderr, /--force/);
      assert.equal(readFileSync(join(dir, existing), 'utf8'), 'keep me');
      const other = existing === 'cluster.crt' ? 'cluster.key' : 'cluster.crt';
      assert.equal(existsSync(join(dir, other)), false);
    });
  }

  it('replaces both files with --force', async () => {
    await runCli(['gen_cert'], { cwd: dir });
    const oldCert = readFileSync(join(dir, 'cluster.crt'), 'utf8');
    const result = await runCli(['gen_cert', '--force'], { cwd: dir });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.notEqual(readFileSync(join(dir, 'cluster.crt'), 'utf8'), oldCert);
    assert.equal(mode(join(dir, 'cluster.key')), 0o600);
  });

  it('takes explicit paths and reports them in --json', async () => {
    const result = await runCli(['gen_cert', 'x/../my.crt', 'my.key', '--days', '10', '--json'], {
      cwd: dir,
    });
    assert.equal(result.exitCode, 0, result.stderr);
    const report = JSON.parse(result.stdout) as Record<string, string>;
    assert.equal(report.cert, join(dir, 'my.crt'));
    assert.equal(report.key, join(dir, 'my.key'));
    assert.equal(report.subject, 'CN=kong_clustering');
    assert.equal(Date.parse(report.notAfter!) - Date.parse(report.notBefore!), 10 * 86_400_000);
    assert.match(report.fingerprint256!, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('is a usage error to give one path without the other', async () => {
    const result = await runCli(['gen_cert', 'only.crt'], { cwd: dir });
    assert.equal(result.exitCode, 2);
    assert.match(result.stderr, /both a certificate and a key path/);
    assert.equal(existsSync(join(dir, 'only.crt')), false);
  });

  for (const days of ['0', '-5', 'ten', '36501']) {
    it(`rejects --days ${days} as a usage error`, async () => {
      const result = await runCli(['gen_cert', '--days', days], { cwd: dir });
      assert.equal(result.exitCode, 2);
      assert.match(result.stderr, /--days/);
      assert.equal(existsSync(join(dir, 'cluster.crt')), false);
    });
  }

  it('fails with exit 3 when the directory does not exist', async () => {
    const result = await runCli(['gen_cert', 'nope/c.crt', 'nope/c.key'], { cwd: dir });
    assert.equal(result.exitCode, 3);
    assert.match(result.stderr, /nope does not exist/);
  });
});
