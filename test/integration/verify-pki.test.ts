// `hybrid verify-pki` as an operator runs it: human and --json output, exit codes, -c kong.conf, --ocsp.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import {
  daysFromNow,
  OpensslPki,
  startOcspResponder,
  type Issued,
  type OcspResponder,
} from '../helpers/openssl-pki.js';
import { freePort, makeTempDir } from '../helpers/tmp.js';

interface JsonReport {
  valid: boolean;
  mode: string;
  role: string;
  serverName?: string;
  findings: { code: string; severity: string; message: string; hint?: string }[];
  chain: { subject: string; sha256: string }[];
  summary: { errors: number; warnings: number; passed: number };
}

describe('hybrid verify-pki', function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let pki: OpensslPki;
  let root: Issued;
  let ints: Issued[];
  let ocsp: OcspResponder;
  const f: Record<string, string> = {};

  const verify = (...args: string[]): Promise<CliResult> => runCli(['verify-pki', ...args], { cwd: dir });
  const json = (result: CliResult): JsonReport => JSON.parse(result.stdout) as JsonReport;
  const codes = (r: JsonReport, severity: string) =>
    r.findings.filter((x) => x.severity === severity).map((x) => x.code);

  before(async function () {
    const tmp = await makeTempDir('hybrid-verify-pki-');
    ({ dir, cleanup } = tmp);
    pki = await OpensslPki.create(dir);
    const ocspPort = await freePort();
    root = await pki.root({ name: 'root', key: 'ec-p384' });
    ints = [await pki.intermediate(root, { name: 'int1' })];
    ints.push(await pki.intermediate(ints[0] as Issued, { name: 'int2' }));
    ints.push(await pki.intermediate(ints[1] as Issued, { name: 'int3' }));
    const [i1, i2, i3] = ints as [Issued, Issued, Issued];
    const ocspUrl = `http://127.0.0.1:${ocspPort}`;
    const cp = await pki.leaf(i3, 'cp', { name: 'cp', san: ['cp.example.test', 'kong_clustering'] });
    const dp = await pki.leaf(i1, 'dp', { name: 'dp', ocspUrl });
    const revoked = await pki.leaf(i1, 'dp', { name: 'dp-revoked', ocspUrl });
    const expired = await pki.leaf(root, 'dp', {
      name: 'dp-expired',
      notBefore: daysFromNow(-30),
      notAfter: daysFromNow(-1),
    });
    const expiring = await pki.leaf(root, 'dp', { name: 'dp-expiring', notAfter: daysFromNow(5) });
    const serverOnly = await pki.leaf(root, 'dp', { name: 'dp-server-eku', eku: ['serverAuth'] });
    await pki.revoke(revoked);
    ocsp = await startOcspResponder(i1, ocspPort);

    f.ca = root.certPath;
    f.cpChain = await pki.file('cp-chain.pem', pki.chainPem(cp, i3, i2, i1));
    f.cpLeaf = cp.certPath;
    f.cpInts = await pki.file('cp-ints.pem', pki.chainPem(i3, i2, i1));
    f.cpKey = cp.keyPath;
    f.dpChain = await pki.file('dp-chain.pem', pki.chainPem(dp, i1));
    f.dpKey = dp.keyPath;
    f.revokedChain = await pki.file('revoked-chain.pem', pki.chainPem(revoked, i1));
    f.expired = expired.certPath;
    f.expiring = expiring.certPath;
    f.serverOnly = serverOnly.certPath;
    f.otherKey = await pki.key('ec-p256', 'unrelated');
    f.garbage = await pki.file('garbage.pem', 'this is not a certificate\n');
    f.truncated = await pki.file('truncated.pem', cp.certPem.slice(0, 300));
    f.intermediateAsCa = i1.certPath;
    const shared = await pki.root({ name: 'shared', cn: 'kong_clustering', key: 'ec-p384' });
    const sharedOther = await pki.root({ name: 'shared-other', cn: 'kong_clustering', key: 'ec-p384' });
    f.shared = shared.certPath;
    f.sharedKey = shared.keyPath;
    f.sharedOther = sharedOther.certPath;
  });

  after(async () => {
    await ocsp?.stop();
    await cleanup?.();
  });

  describe('human output and exit codes', () => {
    it('a valid CP chain with three intermediates: ✓ per check, exit 0', async () => {
      const r = await verify(
        '--mode',
        'pki',
        '--role',
        'cp',
        '--ca',
        f.ca!,
        '--cert',
        f.cpChain!,
        '--key',
        f.cpKey!,
      );
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        /^verify-pki: pki mode, control plane certificate, server name kong_clustering, at /,
      );
      for (const code of ['key_ok', 'ca_ok', 'chain_ok', 'validity_ok', 'eku_ok', 'name_ok'])
        assert.match(r.stdout, new RegExp(`^✓ .*\\[${code}\\]$`, 'm'));
      assert.match(r.stdout, /cp → int3 → int2 → int1 → root \(3 intermediates/);
      assert.match(r.stdout, /^valid: 6 checks passed, 0 warnings$/m);
      assert.ok(!r.stdout.includes('\u001b['), 'no colour when not a TTY');
    });

    it('takes intermediates from --chain as well', async () => {
      const r = await verify(
        '--mode',
        'pki',
        '--role',
        'cp',
        '--ca',
        f.ca!,
        '--cert',
        f.cpLeaf!,
        '--chain',
        f.cpInts!,
      );
      assert.equal(r.exitCode, 0, r.stdout);
    });

    it('an invalid certificate: ✗ with the hint under it, summary, exit 1', async () => {
      const r = await verify('--mode', 'pki', '--role', 'dp', '--ca', f.ca!, '--cert', f.serverOnly!);
      assert.equal(r.exitCode, 1);
      assert.match(
        r.stdout,
        /^✗ data plane certificate CN=dp-server-eku has extendedKeyUsage serverAuth; it needs clientAuth \[eku_wrong\]\n {4}Hint: /m,
      );
      assert.match(r.stdout, /^invalid: 1 error, 0 warnings, 3 passed$/m);
    });

    it('an expired leaf: exit 1 with cert_expired', async () => {
      const r = await verify('--mode', 'pki', '--role', 'dp', '--ca', f.ca!, '--cert', f.expired!);
      assert.equal(r.exitCode, 1);
      assert.match(r.stdout, /✗ certificate CN=dp-expired expired at .*\[cert_expired\]/);
    });

    it('--at moves the instant: a valid chain fails in two years', async () => {
      const at = daysFromNow(800).toISOString();
      const r = await verify(
        '--mode',
        'pki',
        '--role',
        'dp',
        '--ca',
        f.ca!,
        '--cert',
        f.dpChain!,
        '--at',
        at,
      );
      assert.equal(r.exitCode, 1);
      assert.match(r.stdout, new RegExp(`at ${at.replace(/\./g, '\\.')}`));
      assert.match(r.stdout, /\[cert_expired\]/);
    });

    it('an expiry within --warn-days is a warning (!) and still exit 0', async () => {
      const r = await verify('--mode', 'pki', '--role', 'dp', '--ca', f.ca!, '--cert', f.expiring!);
      assert.equal(r.exitCode, 0);
      assert.match(
        r.stdout,
        /^! certificate CN=dp-expiring expires in 4 days .*\[cert_expiring_soon\]\n {4}Hint: /m,
      );
      assert.match(r.stdout, /^valid: 4 checks passed, 1 warning$/m);
      const quiet = await verify(
        '--mode',
        'pki',
        '--role',
        'dp',
        '--ca',
        f.ca!,
        '--cert',
        f.expiring!,
        '--warn-days',
        '3',
      );
      assert.match(quiet.stdout, /^valid: 4 checks passed, 0 warnings$/m);
    });

    it('--server-name is matched against the CP certificate', async () => {
      const base = ['--mode', 'pki', '--role', 'cp', '--ca', f.ca!, '--cert', f.cpChain!];
      assert.equal((await verify(...base, '--server-name', 'cp.example.test')).exitCode, 0);
      const r = await verify(...base, '--server-name', 'other.example.test');
      assert.equal(r.exitCode, 1);
      assert.match(
        r.stdout,
        /certificate names cp\.example\.test, kong_clustering do not match server name other\.example\.test \[name_mismatch\]/,
      );
    });

    it('key mismatch, intermediate as the CA, garbage and truncated PEM: exit 1 with their codes', async () => {
      const cases: [string[], string][] = [
        [['--role', 'cp', '--ca', f.ca!, '--cert', f.cpChain!, '--key', f.otherKey!], 'key_mismatch'],
        [['--role', 'dp', '--ca', f.intermediateAsCa!, '--cert', f.dpChain!], 'ca_not_root'],
        [['--role', 'dp', '--ca', f.ca!, '--cert', f.garbage!], 'pem_invalid'],
        [['--role', 'dp', '--ca', f.ca!, '--cert', f.truncated!], 'pem_invalid'],
        [['--role', 'dp', '--ca', f.garbage!, '--cert', f.dpChain!], 'pem_invalid'],
      ];
      for (const [args, code] of cases) {
        const r = await verify('--mode', 'pki', ...args);
        assert.equal(r.exitCode, 1, `${code}: ${r.stdout}${r.stderr}`);
        assert.match(r.stdout, new RegExp(`^✗ .*\\[${code}\\]$`, 'm'), code);
      }
    });

    it('shared mode: the pair matches its key; another certificate is a mismatch', async () => {
      const ok = await verify('--cert', f.shared!, '--key', f.sharedKey!);
      assert.equal(ok.exitCode, 0, ok.stdout);
      assert.match(ok.stdout, /^verify-pki: shared mode/);
      assert.match(ok.stdout, /\[shared_cert_match\]/);
      const same = await verify('--mode', 'shared', '--cert', f.shared!, '--peer-cert', f.shared!);
      assert.equal(same.exitCode, 0);
      const other = await verify('--mode', 'shared', '--cert', f.shared!, '--peer-cert', f.sharedOther!);
      assert.equal(other.exitCode, 1);
      assert.match(
        other.stdout,
        /✗ peer certificate sha256 [0-9a-f]{64} differs from cluster_cert sha256 [0-9a-f]{64} \[shared_cert_mismatch\]/,
      );
    });
  });

  describe('--json', () => {
    it('prints the report on stdout and exits 0 when valid', async () => {
      const r = await verify(
        '--mode',
        'pki',
        '--role',
        'dp',
        '--ca',
        f.ca!,
        '--cert',
        f.dpChain!,
        '--key',
        f.dpKey!,
        '--json',
      );
      assert.equal(r.exitCode, 0, r.stderr);
      const report = json(r);
      assert.equal(report.valid, true);
      assert.deepEqual(codes(report, 'ok'), ['key_ok', 'ca_ok', 'chain_ok', 'validity_ok', 'eku_ok']);
      assert.deepEqual(
        report.chain.map((c) => c.subject),
        ['CN=dp', 'CN=int1', 'CN=root'],
      );
      assert.equal(report.serverName, undefined);
      assert.deepEqual(report.summary, { errors: 0, warnings: 0, passed: 5 });
    });

    it('prints the report with every finding and exits 1 when invalid', async () => {
      const r = await verify('--mode', 'pki', '--role', 'cp', '--ca', f.ca!, '--cert', f.expired!, '--json');
      assert.equal(r.exitCode, 1);
      const report = json(r);
      assert.equal(report.valid, false);
      assert.deepEqual(codes(report, 'error'), ['cert_expired', 'eku_wrong', 'name_mismatch']);
      assert.ok(report.findings.every((x) => x.severity === 'ok' || x.hint));
    });

    it('prints usage errors as JSON on stderr with exit 2', async () => {
      const r = await verify('--mode', 'pki', '--cert', f.dpChain!, '--json');
      assert.equal(r.exitCode, 2);
      assert.equal(r.stdout, '');
      const error = (JSON.parse(r.stderr) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'usage');
      assert.match(error.message, /--ca/);
    });
  });

  describe('usage errors exit 2, unreadable files exit 3', () => {
    const usageCases: [string, string[], RegExp][] = [
      ['pki without --ca', ['--mode', 'pki', '--role', 'dp', '--cert', 'x.pem'], /pki mode needs --ca/],
      ['pki without --role', ['--mode', 'pki', '--ca', 'ca.pem', '--cert', 'x.pem'], /pki mode needs --role/],
      ['no --cert', ['--mode', 'pki', '--role', 'dp', '--ca', 'ca.pem'], /--cert is required/],
      ['unknown mode', ['--mode', 'mixed', '--cert', 'x.pem'], /mode/],
      ['unknown role', ['--mode', 'pki', '--role', 'admin', '--ca', 'c', '--cert', 'x'], /role/],
      ['--at not a date', ['--cert', 'x.pem', '--at', 'tomorrow'], /--at tomorrow is not a date/],
      ['--at impossible date', ['--cert', 'x.pem', '--at', '2026-13-45'], /is not a date/],
      ['--warn-days negative', ['--cert', 'x.pem', '--warn-days', '-1'], /warn-days/],
      [
        '--ca in shared mode',
        ['--mode', 'shared', '--cert', 'x.pem', '--ca', 'ca.pem'],
        /--ca is only used in pki mode/,
      ],
      ['--chain in shared mode', ['--cert', 'x.pem', '--chain', 'c.pem'], /--chain is only used in pki mode/],
      ['--ocsp in shared mode', ['--cert', 'x.pem', '--ocsp'], /--ocsp is only used in pki mode/],
      [
        '--peer-cert in pki mode',
        ['--mode', 'pki', '--role', 'dp', '--ca', 'c', '--cert', 'x', '--peer-cert', 'p'],
        /--peer-cert/,
      ],
      [
        '--server-name for a DP',
        ['--mode', 'pki', '--role', 'dp', '--ca', 'c', '--cert', 'x', '--server-name', 'a'],
        /--server-name applies to --role cp/,
      ],
      ['unknown flag', ['--cert', 'x.pem', '--nope'], /nope/],
    ];
    // Usage errors touch no file; running them a few at a time keeps this suite quick.
    const results = new Map<string, Promise<CliResult>>();
    before(async () => {
      for (let i = 0; i < usageCases.length; i += 4) {
        const batch = usageCases.slice(i, i + 4).map(([label, args]) => {
          const run = verify(...args);
          results.set(label, run);
          return run;
        });
        await Promise.all(batch);
      }
    });
    for (const [label, , message] of usageCases) {
      it(label, async () => {
        const r = await (results.get(label) as Promise<CliResult>);
        assert.equal(r.exitCode, 2, `${label}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, message);
        assert.match(r.stderr, /Hint: /);
      });
    }

    it('an unreadable certificate, CA or key file exits 3 naming the file', async () => {
      const base = ['--mode', 'pki', '--role', 'dp'];
      for (const args of [
        [...base, '--ca', f.ca!, '--cert', 'missing-cert.pem'],
        [...base, '--ca', 'missing-ca.pem', '--cert', f.dpChain!],
        [...base, '--ca', f.ca!, '--cert', f.dpChain!, '--key', 'missing-key.pem'],
        [...base, '--ca', f.ca!, '--cert', dir],
      ]) {
        const r = await verify(...args);
        assert.equal(r.exitCode, 3, r.stderr);
        assert.match(r.stderr, /Error: cannot read .*(missing-|hybrid-verify-pki-)/);
      }
    });
  });

  describe('-c kong.conf', () => {
    const write = (name: string, lines: string[]) => pki.file(name, lines.join('\n') + '\n');

    it('takes mode, role, certificate, key, CA and server name from a control plane config', async () => {
      const conf = await write('cp.conf', [
        'role = control_plane',
        'cluster_mtls = pki',
        `cluster_cert = ${f.cpChain}`,
        `cluster_cert_key = ${f.cpKey}`,
        `cluster_ca_cert = ${f.ca}`,
        'cluster_server_name = cp.example.test',
      ]);
      const r = await verify('-c', conf);
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      assert.match(
        r.stdout,
        /^verify-pki: pki mode, control plane certificate, server name cp\.example\.test/,
      );
      assert.match(r.stdout, /\[key_ok\]/);
      // Flags win over the file.
      const other = await verify('-c', conf, '--server-name', 'nope.example.test');
      assert.equal(other.exitCode, 1);
      assert.match(other.stdout, /\[name_mismatch\]/);
    });

    it('a data plane config with inline PEM, relative paths, and --ocsp', async () => {
      const inlineCa = (await import('node:fs/promises')).readFile(f.ca!, 'utf8');
      const conf = await write('dp.conf', [
        'role = data_plane',
        'database = off',
        'cluster_mtls = pki',
        'cluster_cert = dp-chain.pem',
        `cluster_cert_key = ${f.dpKey}`,
        `cluster_ca_cert = ${(await inlineCa).trim().replace(/\n/g, '\\n')}`,
      ]);
      const r = await verify('-c', conf, '--ocsp', '--json');
      assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      const report = json(r);
      assert.equal(report.role, 'dp');
      assert.deepEqual(codes(report, 'ok'), [
        'key_ok',
        'ca_ok',
        'chain_ok',
        'validity_ok',
        'eku_ok',
        'ocsp_good',
      ]);
    });

    it('a shared-mode config checks the pair', async () => {
      const conf = await write('shared.conf', [
        'role = data_plane',
        'database = off',
        `cluster_cert = ${f.shared}`,
        `cluster_cert_key = ${f.otherKey}`,
      ]);
      const r = await verify('-c', conf);
      assert.equal(r.exitCode, 1);
      assert.match(r.stdout, /^verify-pki: shared mode, data plane certificate/);
      assert.match(r.stdout, /\[key_mismatch\]/);
    });

    it('an invalid config exits 1 listing its problems; a traditional node is a usage error', async () => {
      const bad = await write('bad.conf', [
        'role = data_plane',
        'database = off',
        'cluster_mtls = pki',
        `cluster_cert = ${f.dpChain}`,
        `cluster_cert_key = ${f.dpKey}`,
      ]);
      const r = await verify('-c', bad);
      assert.equal(r.exitCode, 1);
      assert.match(r.stderr, /cluster_ca_cert/);
      const traditional = await write('traditional.conf', ['role = traditional']);
      const t = await verify('-c', traditional, '--cert', f.dpChain!);
      assert.equal(t.exitCode, 2);
      assert.match(t.stderr, /role = traditional/);
      const missing = await verify('-c', join(dir, 'no-such.conf'));
      assert.equal(missing.exitCode, 3);
    });
  });

  describe('--ocsp against openssl ocsp', () => {
    it('good: ✓ and exit 0', async () => {
      const r = await verify('--mode', 'pki', '--role', 'dp', '--ca', f.ca!, '--cert', f.dpChain!, '--ocsp');
      assert.equal(r.exitCode, 0, r.stdout);
      assert.match(r.stdout, /^✓ OCSP http:\/\/127\.0\.0\.1:\d+: good .*\[ocsp_good\]$/m);
    });

    it('revoked: ✗ and exit 1', async () => {
      const r = await verify(
        '--mode',
        'pki',
        '--role',
        'dp',
        '--ca',
        f.ca!,
        '--cert',
        f.revokedChain!,
        '--ocsp',
      );
      assert.equal(r.exitCode, 1, r.stdout);
      assert.match(r.stdout, /^✗ OCSP http:\/\/127\.0\.0\.1:\d+: revoked at .*\[ocsp_revoked\]$/m);
    });

    it('no responder URL in the certificate: ✗ ocsp_no_responder', async () => {
      const r = await verify('--mode', 'pki', '--role', 'cp', '--ca', f.ca!, '--cert', f.cpChain!, '--ocsp');
      assert.equal(r.exitCode, 1);
      assert.match(r.stdout, /\[ocsp_no_responder\]/);
    });
  });
});
