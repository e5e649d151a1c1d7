// Real certificates for tests, made with openssl: a CA and a leaf with its key.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestPki {
  caCert: string;
  leafCert: string;
  leafKey: string;
  otherKey: string;
}

/** Writes into `dir`; EC P-256 keeps it fast. */
export function makeTestPki(dir: string): TestPki {
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '30',
    '-subj',
    '/CN=test-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
  ]);
  run([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'leaf.key',
    '-out',
    'leaf.crt',
    '-days',
    '30',
    '-subj',
    '/CN=example.com',
    '-addext',
    'basicConstraints=CA:FALSE',
  ]);
  run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'other.key']);
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  return {
    caCert: read('ca.crt'),
    leafCert: read('leaf.crt'),
    leafKey: read('leaf.key'),
    otherKey: read('other.key'),
  };
}
