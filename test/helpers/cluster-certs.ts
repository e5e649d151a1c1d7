// Cluster certificates made with the openssl CLI (an independent implementation) for configuration tests.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Writes cluster.crt / cluster.key (EC P-384, CN=kong_clustering) into `dir`. */
export function makeSharedPair(dir: string): { cert: string; key: string } {
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:secp384r1',
      '-nodes',
      '-keyout',
      'cluster.key',
      '-out',
      'cluster.crt',
      '-days',
      '3',
      '-subj',
      '/CN=kong_clustering',
    ],
    dir,
  );
  return { cert: join(dir, 'cluster.crt'), key: join(dir, 'cluster.key') };
}

/**
 * Writes a root CA (ca-cert.pem) plus control-plane.crt/.key (serverAuth, SAN = serverName) and
 * data-plane.crt/.key (clientAuth) into `dir`.
 */
export function makePkiSet(dir: string, serverName = 'control-plane.kong.yourcorp.tld'): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca-cert.pem',
      '-days',
      '3',
      '-subj',
      '/O=Kong Inc./CN=Hybrid Root CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  const leaf = (name: string, subject: string, exts: string[]) =>
    openssl(
      [
        'req',
        '-x509',
        ...ec,
        '-CA',
        'ca-cert.pem',
        '-CAkey',
        'ca.key',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.crt`,
        '-days',
        '3',
        '-subj',
        subject,
        ...exts.flatMap((e) => ['-addext', e]),
      ],
      dir,
    );
  leaf('control-plane', `/CN=${serverName}`, [
    'extendedKeyUsage=serverAuth',
    `subjectAltName=DNS:${serverName}`,
  ]);
  leaf('data-plane', '/CN=kong-dp-ce39edecp.service', ['extendedKeyUsage=clientAuth']);
}
