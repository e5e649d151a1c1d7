// Builds test PKIs with the openssl CLI (an implementation independent of ours): roots, intermediates, CP/DP leaves,
// and the fixed file sets configuration and store tests read.
//
// Usage:
//   const pki = await OpensslPki.create(dir);                 // dir: a temp dir the caller removes
//   const root = await pki.root({ name: 'root' });
//   const int1 = await pki.intermediate(root, { name: 'int1', pathLen: 0 });
//   const cp = await pki.leaf(int1, 'cp', { name: 'cp', san: ['kong_clustering'] });
//   const dp = await pki.leaf(int1, 'dp', { name: 'dp', ocspUrl: `http://127.0.0.1:${port}` });
//   pki.chainPem(cp, int1)  -> leaf + intermediates, the form of a node's cluster_cert
//   await pki.revoke(dp)    -> marks it revoked in int1's index.txt, which `openssl ocsp -index` serves
//   await writeSharedPair(dir) / writePkiSet(dir) -> Kong's file names (cluster.crt, ca-cert.pem, ...) in dir
//   await caAndLeafPem(dir)  -> PEM strings: a CA, a self-signed leaf with its key, and a key of neither
//
// Every certificate is issued with `openssl ca`, so validity can be set exactly (-startdate/-enddate, also in
// the past or the future) and each CA keeps a real index.txt for OCSP. Keys are cached per (type, slot):
// leaves share one key per type unless given their own slot, every CA gets its own key (a shared CA key would
// let a wrong CA's signature verify). EC keys are cheap; RSA keys cost ~0.1-1 s each, so reuse them.
import { execa } from 'execa';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitUntil } from './wait.js';

export type KeyType = 'ec-p256' | 'ec-p384' | 'rsa';
export type Eku = 'serverAuth' | 'clientAuth' | 'OCSPSigning' | 'codeSigning' | 'emailProtection';

export interface CertSpec {
  /** File stem (unique within the PKI) and default CN. */
  name: string;
  /** Subject CN; `null` for a subject without CN (then `O=<name>`). Default: `name`. */
  cn?: string | null;
  key?: KeyType;
  /** Key cache slot; certificates with the same (key, slot) share a private key. */
  keySlot?: string;
  /** Default: one hour ago. */
  notBefore?: Date;
  /** Default: one year from now. */
  notAfter?: Date;
  /** basicConstraints: true → CA:TRUE, false → CA:FALSE, 'absent' → no extension. */
  ca?: boolean | 'absent';
  /** basicConstraints pathlen (CA only). */
  pathLen?: number;
  /** extendedKeyUsage values, or 'absent' for no extension. */
  eku?: Eku[] | 'absent';
  /** subjectAltName entries: 'DNS:x', 'IP:1.2.3.4', or a bare name meaning DNS; 'absent' for none. */
  san?: string[] | 'absent';
  /** keyUsage override (openssl syntax), or 'absent'. */
  keyUsage?: string | 'absent';
  /** authorityInfoAccess OCSP responder URL. */
  ocspUrl?: string;
}

export interface Issued {
  name: string;
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
  /** Directory with index.txt when this certificate is a CA that issued something. */
  caDir: string;
  /** The CA configuration used by `openssl ca` for certificates this one issues. */
  caConfig: string;
  issuer?: Issued;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** YYYYMMDDHHMMSSZ, the GeneralizedTime form `openssl ca -startdate/-enddate` accepts. */
function opensslTime(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

export const daysFromNow = (days: number): Date => new Date(Date.now() + days * DAY);

export async function openssl(args: string[], cwd?: string): Promise<string> {
  const result = await execa('openssl', args, { cwd, reject: false });
  if (result.exitCode !== 0)
    throw new Error(`openssl ${args.join(' ')} failed (${result.exitCode}): ${result.stderr}`);
  return result.stdout;
}

export class OpensslPki {
  private readonly keys = new Map<string, Promise<string>>();
  private readonly names = new Set<string>();

  private constructor(readonly dir: string) {}

  static async create(dir: string): Promise<OpensslPki> {
    await mkdir(dir, { recursive: true });
    return new OpensslPki(dir);
  }

  /** A PKCS#8 PEM private key file for (type, slot), generated once. */
  key(type: KeyType = 'ec-p256', slot = 'leaf'): Promise<string> {
    const id = `${type}-${slot}`;
    let path = this.keys.get(id);
    if (!path) {
      const file = join(this.dir, `key-${id}.pem`);
      const algo =
        type === 'rsa'
          ? ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']
          : ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${type === 'ec-p384' ? 'P-384' : 'P-256'}`];
      path = openssl(['genpkey', ...algo, '-out', file]).then(() => file);
      this.keys.set(id, path);
    }
    return path;
  }

  /** A self-signed root CA. */
  root(spec: CertSpec): Promise<Issued> {
    return this.issue(undefined, { ca: true, keySlot: `ca-${spec.name}`, ...spec });
  }

  /** An intermediate CA issued by `issuer` (CA:TRUE unless spec says otherwise). */
  intermediate(issuer: Issued, spec: CertSpec): Promise<Issued> {
    return this.issue(issuer, { ca: true, keySlot: `ca-${spec.name}`, ...spec });
  }

  /**
   * A node certificate: role 'cp' gets EKU serverAuth and SAN DNS:kong_clustering, 'dp' gets EKU clientAuth
   * and no SAN, unless the spec overrides them.
   */
  leaf(issuer: Issued, role: 'cp' | 'dp', spec: CertSpec): Promise<Issued> {
    const defaults: Partial<CertSpec> =
      role === 'cp'
        ? { eku: ['serverAuth'], san: ['kong_clustering'] }
        : { eku: ['clientAuth'], san: 'absent' };
    return this.issue(issuer, { ca: false, ...defaults, ...spec });
  }

  /** Issues one certificate with `openssl ca` (self-signed when issuer is undefined). */
  async issue(issuer: Issued | undefined, spec: CertSpec): Promise<Issued> {
    if (this.names.has(spec.name)) throw new Error(`certificate name ${spec.name} used twice`);
    this.names.add(spec.name);
    const keyPath = await this.key(spec.key ?? 'ec-p256', spec.keySlot ?? 'leaf');
    const caDir = join(this.dir, spec.name);
    await mkdir(caDir, { recursive: true });
    await writeFile(join(caDir, 'index.txt'), '');
    const caConfig = join(caDir, 'ca.cnf');
    await writeFile(caConfig, caConfigText(caDir));

    const extFile = join(caDir, 'ext.cnf');
    await writeFile(extFile, extensionsText(spec, issuer === undefined));
    const csr = join(caDir, 'req.csr');
    const subject = spec.cn === null ? `/O=${spec.name}` : `/CN=${spec.cn ?? spec.name}`;
    await openssl(['req', '-new', '-key', keyPath, '-subj', subject, '-config', caConfig, '-out', csr]);

    const certPath = join(this.dir, `${spec.name}.crt`);
    const signer = issuer
      ? ['-config', issuer.caConfig, '-cert', issuer.certPath, '-keyfile', issuer.keyPath]
      : ['-config', caConfig, '-selfsign', '-keyfile', keyPath];
    await openssl([
      'ca',
      '-batch',
      ...signer,
      '-in',
      csr,
      '-out',
      certPath,
      '-notext',
      '-rand_serial',
      '-md',
      'sha256',
      '-startdate',
      opensslTime(spec.notBefore ?? new Date(Date.now() - HOUR)),
      '-enddate',
      opensslTime(spec.notAfter ?? daysFromNow(365)),
      '-extfile',
      extFile,
      '-extensions',
      'v3',
    ]);
    return {
      name: spec.name,
      certPath,
      keyPath,
      certPem: await readFile(certPath, 'utf8'),
      keyPem: await readFile(keyPath, 'utf8'),
      caDir,
      caConfig,
      issuer,
    };
  }

  /** Concatenated PEM of the given certificates, in the given order. */
  chainPem(...certs: Issued[]): string {
    return certs.map((c) => c.certPem).join('');
  }

  /** Writes `content` to a file in the PKI directory and returns its path. */
  async file(name: string, content: string | Buffer): Promise<string> {
    const path = join(this.dir, name);
    await writeFile(path, content);
    return path;
  }

  /** Marks `cert` revoked in its issuer's index.txt (what `openssl ocsp -index` answers from). */
  async revoke(cert: Issued): Promise<void> {
    if (!cert.issuer) throw new Error('cannot revoke a root');
    await openssl([
      'ca',
      '-config',
      cert.issuer.caConfig,
      '-cert',
      cert.issuer.certPath,
      '-keyfile',
      cert.issuer.keyPath,
      '-revoke',
      cert.certPath,
    ]);
  }
}

function caConfigText(caDir: string): string {
  return `[ca]
default_ca = this
[this]
database = ${join(caDir, 'index.txt')}
new_certs_dir = ${caDir}
serial = ${join(caDir, 'serial')}
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
preserve = yes
email_in_dn = no
[anything]
commonName = optional
organizationName = optional
[req]
distinguished_name = dn
[dn]
`;
}

function extensionsText(spec: CertSpec, selfSigned: boolean): string {
  const lines = ['[v3]', 'subjectKeyIdentifier = hash'];
  // A self-signed certificate has no issuer key id to point at beyond its own.
  if (!selfSigned) lines.push('authorityKeyIdentifier = keyid:always');
  if (spec.ca !== 'absent') {
    const ca = spec.ca
      ? `CA:TRUE${spec.pathLen === undefined ? '' : `, pathlen:${spec.pathLen}`}`
      : 'CA:FALSE';
    lines.push(`basicConstraints = critical, ${ca}`);
  }
  const keyUsage =
    spec.keyUsage ?? (spec.ca === true ? 'keyCertSign, cRLSign' : 'digitalSignature, keyEncipherment');
  if (keyUsage !== 'absent') lines.push(`keyUsage = critical, ${keyUsage}`);
  if (spec.eku && spec.eku !== 'absent') lines.push(`extendedKeyUsage = ${spec.eku.join(', ')}`);
  if (spec.san && spec.san !== 'absent' && spec.san.length > 0)
    lines.push(
      `subjectAltName = ${spec.san.map((n) => (/^(DNS|IP|URI|email):/.test(n) ? n : `DNS:${n}`)).join(', ')}`,
    );
  if (spec.ocspUrl) lines.push(`authorityInfoAccess = OCSP;URI:${spec.ocspUrl}`);
  return `${lines.join('\n')}\n`;
}

/** Writes each PEM to `dir/<name>`. */
async function writePems(dir: string, files: Record<string, string>): Promise<void> {
  await Promise.all(Object.entries(files).map(([name, pem]) => writeFile(join(dir, name), pem)));
}

/**
 * Kong's shared-mode pair as `hybrid gen_cert` and examples/ name it: cluster.crt and cluster.key in `dir`
 * (EC P-384, self-signed, CN=kong_clustering). The PKI behind it is built in `dir/shared-pki`.
 */
export async function writeSharedPair(dir: string): Promise<void> {
  const pki = await OpensslPki.create(join(dir, 'shared-pki'));
  const pair = await pki.root({ name: 'cluster', cn: 'kong_clustering', key: 'ec-p384' });
  await writePems(dir, { 'cluster.crt': pair.certPem, 'cluster.key': pair.keyPem });
}

/**
 * Kong's pki-mode files as its documentation and examples/ name them, in `dir`: ca-cert.pem (a root CA),
 * control-plane.crt/.key (serverAuth, SAN = serverName) and data-plane.crt/.key (clientAuth), each leaf with its
 * own key. The PKI behind them is built in `dir/pki-set`.
 */
export async function writePkiSet(
  dir: string,
  serverName = 'control-plane.kong.yourcorp.tld',
): Promise<void> {
  const pki = await OpensslPki.create(join(dir, 'pki-set'));
  const ca = await pki.root({ name: 'ca', cn: 'Hybrid Root CA' });
  const cp = await pki.leaf(ca, 'cp', {
    name: 'control-plane',
    cn: serverName,
    san: [serverName],
    keySlot: 'control-plane',
  });
  const dp = await pki.leaf(ca, 'dp', {
    name: 'data-plane',
    cn: 'kong-dp-ce39edecp.service',
    keySlot: 'data-plane',
  });
  await writePems(dir, {
    'ca-cert.pem': ca.certPem,
    'control-plane.crt': cp.certPem,
    'control-plane.key': cp.keyPem,
    'data-plane.crt': dp.certPem,
    'data-plane.key': dp.keyPem,
  });
}

/** PEM material for entities and TLS servers. */
export interface CaAndLeafPem {
  caCert: string;
  /** Self-signed, CA:FALSE, CN=example.com: a TLS client that verifies it fails on depth zero. */
  leafCert: string;
  leafKey: string;
  /** A key that matches neither certificate. */
  otherKey: string;
}

/** A CA, a self-signed leaf with its key, and a key of neither; the PKI is built in `dir`. */
export async function caAndLeafPem(dir: string): Promise<CaAndLeafPem> {
  const pki = await OpensslPki.create(dir);
  const ca = await pki.root({ name: 'ca', cn: 'test-ca' });
  const leaf = await pki.issue(undefined, { name: 'leaf', cn: 'example.com', ca: false });
  return {
    caCert: ca.certPem,
    leafCert: leaf.certPem,
    leafKey: leaf.keyPem,
    otherKey: await readFile(await pki.key('ec-p256', 'other'), 'utf8'),
  };
}

export interface OcspResponder {
  url: string;
  pid: number;
  /** Stops the responder by its PID and waits for it to exit. */
  stop: () => Promise<void>;
}

/**
 * Starts `openssl ocsp` as a real responder for certificates issued by `ca`, answering from the CA's
 * index.txt, on `port` (reached at 127.0.0.1). The response is signed by `signer` (default: the CA itself; pass a
 * certificate with EKU OCSPSigning issued by the CA for a delegated responder, or any other for a rogue one).
 * Resolves once the port accepts connections.
 */
export async function startOcspResponder(
  ca: Issued,
  port: number,
  signer: Issued = ca,
): Promise<OcspResponder> {
  // OpenSSL 3.0 takes only a number for -port and listens on every interface; clients use 127.0.0.1.
  const child = execa(
    'openssl',
    [
      'ocsp',
      '-index',
      join(ca.caDir, 'index.txt'),
      '-port',
      String(port),
      '-CA',
      ca.certPath,
      '-rsigner',
      signer.certPath,
      '-rkey',
      signer.keyPath,
      '-ndays',
      '1',
      '-ignore_err',
    ],
    { reject: false, stdin: 'ignore' },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('openssl ocsp did not start');
  let exited = false;
  const early = child.then((result) => {
    exited = true;
    throw new Error(`openssl ocsp exited (${result.exitCode}): ${String(result.stderr)}`);
  });
  early.catch(() => undefined);
  // Readiness is its own announcement: a bare TCP probe (connect, close) wedges OpenSSL 3.0's responder.
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await Promise.race([
    early,
    waitUntil(() => stderr.includes('waiting for OCSP client connections'), {
      message: `openssl ocsp on port ${port}`,
      timeoutMs: 10_000,
    }),
  ]);
  return {
    url: `http://127.0.0.1:${port}`,
    pid,
    stop: async () => {
      if (!exited) process.kill(pid, 'SIGTERM');
      await child;
    },
  };
}
