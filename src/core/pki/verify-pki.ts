// `verify-pki` behaviour: resolve what to check, read the files, run verifyPkiSetup and (optionally) OCSP, report.
import { readFile } from 'node:fs/promises';
import { FileError, UsageError } from '../errors.js';
import type { ParsedCertificate } from './certificate.js';
import { DEFAULT_SERVER_NAME, DEFAULT_WARN_DAYS, type ClusterMtlsMode, type PeerRole } from './chain.js';
import { hasErrors, type Finding } from './findings.js';
import type { OcspPolicy } from './ocsp.js';
import { verifyPkiSetup, type PemSource } from './setup.js';

/** A certificate or key given as a file path, or inline PEM (kong.conf allows both). */
export type PemRef = { path: string } | PemSource;

export interface VerifyPkiOptions {
  mode: ClusterMtlsMode;
  role: PeerRole;
  cert: PemRef;
  key?: PemRef;
  ca?: PemRef;
  chain?: PemRef;
  /** shared mode: the other node's cluster_cert. */
  peerCert?: PemRef;
  /** Checked for role cp only; defaults to kong_clustering. */
  serverName?: string;
  at?: Date;
  warnDays?: number;
  ocsp?: 'off' | OcspPolicy;
  ocspTimeoutMs?: number;
}

/** The raw flag values of `hybrid verify-pki` (all optional; validated by resolveVerifyPkiOptions). */
export interface VerifyPkiFlags {
  mode?: string;
  role?: string;
  cert?: string;
  key?: string;
  ca?: string;
  chain?: string;
  'peer-cert'?: string;
  'server-name'?: string;
  at?: string;
  'warn-days'?: number;
  ocsp?: boolean;
  /** kong.conf of a node: mode, role, certificate, key, CA and server name come from it unless flags say otherwise. */
  conf?: string;
}

/** What a node's kong.conf says about its cluster certificates. */
export interface NodeCertificateSettings {
  /** Where the settings came from, for messages (the config file path). */
  source: string;
  mode: ClusterMtlsMode;
  role?: PeerRole;
  /** The node's role when it is not a hybrid one (e.g. traditional), for the error message. */
  otherRole?: string;
  cert?: PemRef;
  key?: PemRef;
  ca?: PemRef;
  serverName: string;
}

export interface CertificateSummary {
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  sha256: string;
  key: string;
}

export interface VerifyPkiResult {
  valid: boolean;
  mode: ClusterMtlsMode;
  role: PeerRole;
  /** The name a CP certificate was matched against (pki mode, role cp only). */
  serverName?: string;
  at: string;
  warnDays: number;
  ocsp: 'off' | OcspPolicy;
  findings: Finding[];
  /** Leaf first, up to the root when the chain was anchored. */
  chain: CertificateSummary[];
  summary: { errors: number; warnings: number; passed: number };
}

const usage = (message: string, hint: string) => new UsageError(message, { hint });

/** Reads mode, role, certificate, key, CA and server name from a node's kong.conf (+ KONG_*). */
export async function settingsFromConfig(path: string): Promise<NodeCertificateSettings> {
  // Loaded on demand: most runs take files from flags, and start-up time counts for a CLI.
  const { clusterServerName, loadValidConfig } = await import('../config/index.js');
  const loaded = loadValidConfig({ path });
  const { config } = loaded;
  const source = loaded.path ?? path;
  const ref = (key: 'cluster_cert' | 'cluster_cert_key' | 'cluster_ca_cert'): PemRef | undefined => {
    const value = config[key];
    if (!value) return undefined;
    return value.path ? { path: value.path } : { pem: value.pem, source: `${key} (inline in ${source})` };
  };
  const role = config.role === 'control_plane' ? 'cp' : config.role === 'data_plane' ? 'dp' : undefined;
  return {
    source,
    mode: config.cluster_mtls,
    ...(role ? { role } : { otherRole: config.role }),
    ...(ref('cluster_cert') ? { cert: ref('cluster_cert') } : {}),
    ...(ref('cluster_cert_key') ? { key: ref('cluster_cert_key') } : {}),
    ...(ref('cluster_ca_cert') ? { ca: ref('cluster_ca_cert') } : {}),
    serverName: clusterServerName(config),
  };
}

/**
 * Turns flags (over a node's settings from -c) into options, rejecting contradictory or incomplete
 * combinations with a usage error (exit 2). Explicit flags win over the configuration.
 */
export function resolveVerifyPkiOptions(
  flags: VerifyPkiFlags,
  node?: NodeCertificateSettings,
): VerifyPkiOptions {
  if (flags.mode !== undefined && flags.mode !== 'shared' && flags.mode !== 'pki')
    throw usage(`unknown mode ${flags.mode}`, 'Use --mode shared or --mode pki.');
  if (flags.role !== undefined && flags.role !== 'cp' && flags.role !== 'dp')
    throw usage(`unknown role ${flags.role}`, 'Use --role cp or --role dp.');
  const mode = (flags.mode ?? node?.mode ?? 'shared') as ClusterMtlsMode;
  const explicitRole = flags.role as PeerRole | undefined;
  if (node && !explicitRole && !node.role)
    throw usage(
      `${node.source} has role = ${node.otherRole}; verify-pki checks the certificates of hybrid nodes`,
      'Use a control_plane or data_plane configuration, or give --role cp|dp.',
    );
  const role = explicitRole ?? node?.role ?? (mode === 'shared' ? 'cp' : undefined);

  if (mode === 'shared') {
    for (const flag of ['ca', 'chain', 'server-name', 'ocsp'] as const) {
      if (flags[flag]) throw usage(`--${flag} is only used in pki mode`, 'Add --mode pki, or drop the flag.');
    }
  } else if (flags['peer-cert']) {
    throw usage('--peer-cert is only used in shared mode', 'In pki mode a peer is checked against --ca.');
  }
  const cert: PemRef | undefined = flags.cert ? { path: flags.cert } : node?.cert;
  if (!cert)
    throw usage(
      node ? `${node.source} sets no cluster_cert and --cert is not given` : '--cert is required',
      'Give the node certificate file (the leaf, optionally followed by its intermediates).',
    );
  const ca: PemRef | undefined = flags.ca ? { path: flags.ca } : mode === 'pki' ? node?.ca : undefined;
  if (mode === 'pki' && !ca)
    throw usage('pki mode needs --ca', 'Give the root CA certificate (cluster_ca_cert) with --ca.');
  if (!role)
    throw usage(
      'pki mode needs --role cp|dp',
      'The extendedKeyUsage a certificate needs depends on the role: serverAuth for cp, clientAuth for dp.',
    );
  if (flags['server-name'] !== undefined && role !== 'cp')
    throw usage('--server-name applies to --role cp', "A data plane certificate's names are not checked.");
  if (flags['server-name'] === '')
    throw usage('--server-name is empty', 'Give the name data planes send as SNI.');

  let at: Date | undefined;
  if (flags.at !== undefined) {
    at = new Date(flags.at);
    if (!/^\d{4}-\d{2}-\d{2}/.test(flags.at) || Number.isNaN(at.getTime()))
      throw usage(`--at ${flags.at} is not a date`, 'Use an ISO 8601 time, e.g. 2026-01-31T12:00:00Z.');
  }
  const warnDays = flags['warn-days'] ?? DEFAULT_WARN_DAYS;
  if (!Number.isInteger(warnDays) || warnDays < 0)
    throw usage(
      `--warn-days ${warnDays} is not a whole number of days`,
      'Use 0 or more; 0 disables the warning.',
    );

  const key: PemRef | undefined = flags.key ? { path: flags.key } : node?.key;
  return {
    mode,
    role,
    cert,
    ...(key ? { key } : {}),
    ...(ca ? { ca } : {}),
    ...(flags.chain ? { chain: { path: flags.chain } } : {}),
    ...(flags['peer-cert'] ? { peerCert: { path: flags['peer-cert'] } } : {}),
    ...(mode === 'pki' && role === 'cp'
      ? { serverName: flags['server-name'] ?? node?.serverName ?? DEFAULT_SERVER_NAME }
      : {}),
    ...(at ? { at } : {}),
    warnDays,
    ocsp: flags.ocsp ? 'on' : 'off',
  };
}

/** The whole `verify-pki` run: flags (and -c kong.conf) in, report out. */
export async function runVerifyPki(flags: VerifyPkiFlags): Promise<VerifyPkiResult> {
  const node = flags.conf !== undefined ? await settingsFromConfig(flags.conf) : undefined;
  return verifyPki(resolveVerifyPkiOptions(flags, node));
}

async function load(ref: PemRef | undefined, label: string): Promise<PemSource | undefined> {
  if (!ref) return undefined;
  if ('pem' in ref) return ref;
  try {
    return { pem: await readFile(ref.path, 'utf8'), source: ref.path };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new FileError('file_unreadable', ref.path, `cannot read ${label} ${ref.path} (${code})`, {
      hint: 'Check the path and that this user may read the file.',
      cause: err,
    });
  }
}

function summarise(cert: ParsedCertificate): CertificateSummary {
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    sha256: cert.sha256,
    key: cert.keyDescription,
  };
}

/** Runs every check on a node's certificate files; throws FileError (exit 3) only when a file cannot be read. */
export async function verifyPki(options: VerifyPkiOptions): Promise<VerifyPkiResult> {
  const [cert, key, ca, chain, peerCert] = await Promise.all([
    load(options.cert, 'certificate'),
    load(options.key, 'key'),
    load(options.ca, 'CA certificate'),
    load(options.chain, 'chain'),
    load(options.peerCert, 'peer certificate'),
  ]);
  const at = options.at ?? new Date();
  const warnDays = options.warnDays ?? DEFAULT_WARN_DAYS;
  const report = verifyPkiSetup({
    mode: options.mode,
    role: options.role,
    cert: cert as PemSource,
    ...(key ? { key } : {}),
    ...(ca ? { ca } : {}),
    ...(chain ? { chain } : {}),
    ...(peerCert ? { peerCert } : {}),
    ...(options.serverName ? { serverName: options.serverName } : {}),
    at,
    warnDays,
  });
  const findings = [...report.findings];

  const ocsp = options.mode === 'pki' ? (options.ocsp ?? 'off') : 'off';
  const [leaf, issuer] = report.path;
  // OCSP needs the issuer, i.e. a path that was at least partly built.
  if (ocsp !== 'off' && leaf && issuer) {
    const { checkOcsp, ocspFinding } = await import('./ocsp.js');
    const result = await checkOcsp({ cert: leaf, issuer, at, timeoutMs: options.ocspTimeoutMs });
    findings.push(ocspFinding(result, ocsp, leaf.subject));
  }

  const count = (severity: Finding['severity']) => findings.filter((f) => f.severity === severity).length;
  return {
    valid: !hasErrors(findings),
    mode: options.mode,
    role: options.role,
    ...(options.mode === 'pki' && options.role === 'cp'
      ? { serverName: options.serverName ?? DEFAULT_SERVER_NAME }
      : {}),
    at: at.toISOString(),
    warnDays,
    ocsp,
    findings,
    chain: report.path.map(summarise),
    summary: { errors: count('error'), warnings: count('warning'), passed: count('ok') },
  };
}
