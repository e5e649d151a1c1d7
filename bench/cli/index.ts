// CLI start-up benchmark: median wall time of common commands, beside node's floor and openssl doing the same job.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OpensslPki, type Issued } from '../../test/helpers/openssl-pki.js';

const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

interface Case {
  name: string;
  command: string[];
  /** Target median in ms (from the issue), if this is one of ours. */
  targetMs?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function time(command: string[], cwd: string): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command[0]!, command.slice(1), { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${command.join(' ')} exited ${result.status}: ${result.stderr}`);
  return elapsed;
}

export function runCases(cases: Case[], cwd: string): void {
  console.log(`median wall time over ${RUNS} runs (after one warm-up), ${new Date().toISOString()}`);
  console.log('command'.padEnd(58) + 'median ms'.padStart(10) + 'target'.padStart(9) + '  verdict');
  for (const c of cases) {
    time(c.command, cwd);
    const samples = Array.from({ length: RUNS }, () => time(c.command, cwd));
    const m = median(samples);
    const target = c.targetMs === undefined ? '' : `≤ ${c.targetMs}`;
    const verdict = c.targetMs === undefined ? '(reference)' : m <= c.targetMs ? 'ok' : 'OVER';
    console.log(c.name.padEnd(58) + m.toFixed(0).padStart(10) + target.padStart(9) + `  ${verdict}`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'hybrid-bench-cli-'));
try {
  // A control plane certificate three intermediates below its root, built by openssl.
  const pki = await OpensslPki.create(join(dir, 'pki'));
  const root = await pki.root({ name: 'root', key: 'ec-p384' });
  let issuer: Issued = root;
  const ints: Issued[] = [];
  for (let i = 1; i <= 3; i += 1)
    ints.unshift((issuer = await pki.intermediate(issuer, { name: `int${i}` })));
  const cp = await pki.leaf(issuer, 'cp', { name: 'cp', key: 'ec-p384' });
  const chain = await pki.file('cp-chain.pem', pki.chainPem(cp, ...ints));
  const untrusted = await pki.file('ints.pem', pki.chainPem(...ints));
  runCases(
    [
      { name: 'node -e 0 (reference: node start-up floor)', command: ['node', '-e', '0'] },
      { name: 'hybrid --version', command: ['node', BIN, '--version'], targetMs: 300 },
      { name: 'hybrid gen_cert --force', command: ['node', BIN, 'gen_cert', '--force'], targetMs: 400 },
      {
        name: 'openssl req -x509 secp384r1 (reference: same job)',
        command: [
          'openssl',
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:secp384r1',
          '-nodes',
          '-keyout',
          'ref.key',
          '-out',
          'ref.crt',
          '-days',
          '1095',
          '-subj',
          '/CN=kong_clustering',
        ],
      },
      {
        name: 'hybrid verify-pki (pki, 3 intermediates, key match)',
        command: [
          'node',
          BIN,
          'verify-pki',
          '--mode',
          'pki',
          '--role',
          'cp',
          '--ca',
          root.certPath,
          '--cert',
          chain,
          '--key',
          cp.keyPath,
        ],
        targetMs: 500,
      },
      {
        name: 'openssl verify (reference: chain + purpose only)',
        command: [
          'openssl',
          'verify',
          '-CAfile',
          root.certPath,
          '-untrusted',
          untrusted,
          '-purpose',
          'sslserver',
          cp.certPath,
        ],
      },
    ],
    dir,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
