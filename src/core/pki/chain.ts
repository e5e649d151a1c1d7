// verifyPeerChain: the one certificate check shared by the cluster TLS handshake and `hybrid verify-pki`.
import {
  CertificateParseError,
  namesIssuer,
  OID,
  parseCertificate,
  verifiesWith,
  type CertificateInput,
  type ParsedCertificate,
} from './certificate.js';
import { finding, hasErrors, type Finding, type FindingCode } from './findings.js';
import { matchesServerName, presentedNames } from './server-name.js';

/** Kong allows at most three intermediates between the root and a node certificate. */
export const MAX_INTERMEDIATES = 3;
export const DEFAULT_WARN_DAYS = 30;
/** The SNI a data plane sends, and the name a control plane certificate must carry, unless configured. */
export const DEFAULT_SERVER_NAME = 'kong_clustering';

export type ClusterMtlsMode = 'shared' | 'pki';
/** Role of the node that PRESENTS the chain: a control plane (server) or a data plane (client). */
export type PeerRole = 'cp' | 'dp';

export interface VerifyPeerChainOptions {
  mode: ClusterMtlsMode;
  role: PeerRole;
  /**
   * The chain exactly as the peer presents it: leaf first, then its intermediates (any order; a copy of
   * the root is ignored). Entries may be DER, PEM, X509Certificate or `{ raw }` objects; from a TLS socket
   * use `peerChainFromTls(socket.getPeerCertificate(true))`.
   */
  peerChain: readonly (CertificateInput | ParsedCertificate)[];
  /** pki mode: cluster_ca_cert, which must be self-signed root(s). */
  trustedRoots?: readonly (CertificateInput | ParsedCertificate)[];
  /** shared mode: this node's own cluster_cert leaf; the peer's leaf must be byte-identical. */
  sharedCert?: CertificateInput | ParsedCertificate;
  /** pki mode, role cp: the name the CP certificate must match (default `kong_clustering`). */
  serverName?: string;
  /** The instant to check validity at (default: now). */
  at?: Date;
  /** Warn when a certificate expires within this many days (default 30; 0 disables). */
  warnDays?: number;
}

export interface ChainReport {
  valid: boolean;
  /** One finding per check: passed checks as `ok`, plus every warning and error found. */
  findings: Finding[];
  /** The path that was built, leaf first; ends with the trusted root when the chain is anchored. */
  path: ParsedCertificate[];
  /** Number of intermediates on the built path. */
  intermediates: number;
}

const DAY_MS = 86_400_000;

function isParsed(value: unknown): value is ParsedCertificate {
  return (
    typeof value === 'object' && value !== null && 'sha256' in value && 'x509' in value && 'der' in value
  );
}

function toParsed(value: CertificateInput | ParsedCertificate): ParsedCertificate {
  return isParsed(value) ? value : parseCertificate(value);
}

type Position = 'cert' | 'intermediate' | 'ca';

/** Validity of one certificate at `at`; pushes errors/warnings and returns whether it is in its window. */
function checkValidity(
  cert: ParsedCertificate,
  position: Position,
  at: Date,
  warnDays: number,
  out: Finding[],
): boolean {
  const label = { cert: 'certificate', intermediate: 'intermediate', ca: 'root CA' }[position];
  if (at < cert.notBefore) {
    out.push(
      finding(
        `${position}_not_yet_valid` as FindingCode,
        `${label} ${cert.subject} is not valid before ${cert.notBefore.toISOString()}`,
        cert.subject,
      ),
    );
    return false;
  }
  if (at > cert.notAfter) {
    out.push(
      finding(
        `${position}_expired` as FindingCode,
        `${label} ${cert.subject} expired at ${cert.notAfter.toISOString()}`,
        cert.subject,
      ),
    );
    return false;
  }
  const daysLeft = (cert.notAfter.getTime() - at.getTime()) / DAY_MS;
  if (warnDays > 0 && daysLeft < warnDays) {
    out.push(
      finding(
        `${position}_expiring_soon` as FindingCode,
        `${label} ${cert.subject} expires in ${Math.floor(daysLeft)} days (${cert.notAfter.toISOString()})`,
        cert.subject,
      ),
    );
  }
  return true;
}

function checkRoot(root: ParsedCertificate, out: Finding[]): boolean {
  if (!root.selfSigned) {
    out.push(
      finding(
        'ca_not_root',
        `cluster_ca_cert ${root.subject} is not self-signed (issued by ${root.issuer}): it is not a root CA`,
        root.subject,
      ),
    );
    return false;
  }
  if (root.basicConstraints && !root.basicConstraints.ca) {
    out.push(finding('ca_not_ca', `cluster_ca_cert ${root.subject} is not a CA (CA:FALSE)`, root.subject));
    return false;
  }
  return true;
}

interface BuiltPath {
  path: ParsedCertificate[];
  root?: ParsedCertificate;
  /** A certificate whose named issuer was found but whose signature did not verify. */
  badSignature?: { child: ParsedCertificate; issuer: ParsedCertificate };
  unused: ParsedCertificate[];
}

/** Walks from the leaf up through the presented certificates until a trusted root signs the top one. */
function buildPath(
  leaf: ParsedCertificate,
  presented: ParsedCertificate[],
  roots: ParsedCertificate[],
): BuiltPath {
  const rootHashes = new Set(roots.map((r) => r.sha256));
  const pool = presented.filter((c) => !rootHashes.has(c.sha256) && c.sha256 !== leaf.sha256);
  const used = new Set<ParsedCertificate>();
  const path = [leaf];
  let badSignature: BuiltPath['badSignature'];
  let current = leaf;
  // The bound only stops cycles; depth itself is judged after building, so "4 intermediates" is reported as such.
  for (let step = 0; step <= pool.length; step += 1) {
    for (const root of roots) {
      if (!namesIssuer(current, root)) continue;
      if (verifiesWith(current, root))
        return { path: [...path, root], root, badSignature, unused: unusedOf() };
      badSignature ??= { child: current, issuer: root };
    }
    let next: ParsedCertificate | undefined;
    for (const candidate of pool) {
      if (used.has(candidate) || !namesIssuer(current, candidate)) continue;
      if (verifiesWith(current, candidate)) {
        next = candidate;
        break;
      }
      badSignature ??= { child: current, issuer: candidate };
    }
    if (!next) break;
    used.add(next);
    path.push(next);
    current = next;
  }
  return { path, badSignature, unused: unusedOf() };

  function unusedOf(): ParsedCertificate[] {
    return pool.filter((c) => !used.has(c));
  }
}

const PURPOSE: Record<PeerRole, { oid: string; name: string; node: string }> = {
  cp: { oid: OID.serverAuth, name: 'serverAuth', node: 'control plane' },
  dp: { oid: OID.clientAuth, name: 'clientAuth', node: 'data plane' },
};

const EKU_NAMES: Record<string, string> = {
  [OID.serverAuth]: 'serverAuth',
  [OID.clientAuth]: 'clientAuth',
  [OID.ocspSigning]: 'OCSPSigning',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};
const ekuText = (oids: string[]): string => oids.map((o) => EKU_NAMES[o] ?? o).join(', ') || '(empty)';

/**
 * Verifies a peer's certificate chain for the cluster link. Pure and synchronous, so a TLS handshake can
 * call it directly; every problem is reported (not just the first), each with its own finding code.
 */
export function verifyPeerChain(options: VerifyPeerChainOptions): ChainReport {
  const at = options.at ?? new Date();
  const warnDays = options.warnDays ?? DEFAULT_WARN_DAYS;
  const findings: Finding[] = [];

  let presented: ParsedCertificate[];
  try {
    presented = options.peerChain.map(toParsed);
  } catch (err) {
    if (!(err instanceof CertificateParseError)) throw err;
    findings.push(finding('pem_invalid', `the presented chain holds a certificate that ${err.message}`));
    return { valid: false, findings, path: [], intermediates: 0 };
  }
  const leaf = presented[0];
  if (!leaf) {
    findings.push(finding('cert_missing', 'no certificate was presented'));
    return { valid: false, findings, path: [], intermediates: 0 };
  }

  if (options.mode === 'shared') return verifyShared(leaf, options, at, warnDays, findings);

  // --- pki mode ---
  const roots = (options.trustedRoots ?? []).map(toParsed);
  if (roots.length === 0)
    throw new TypeError('verifyPeerChain: pki mode needs trustedRoots (cluster_ca_cert)');
  const rootFindings: Finding[] = [];
  const goodRoots = roots.filter((root) => checkRoot(root, rootFindings));
  const rootsValid = goodRoots.every((root) => checkValidity(root, 'ca', at, warnDays, rootFindings));
  if (!hasErrors(rootFindings) && rootsValid)
    rootFindings.unshift(
      finding(
        'ca_ok',
        `cluster_ca_cert is a self-signed root: ${goodRoots.map((r) => r.subject).join('; ')}`,
        goodRoots[0]?.subject,
      ),
    );
  findings.push(...rootFindings);

  // An intermediate given as cluster_ca_cert still anchors path building, so the rest of the report stays useful.
  const built = buildPath(leaf, presented.slice(1), roots);
  const intermediates = built.path.slice(1, built.root ? -1 : undefined);
  const chainFindings: Finding[] = [];

  if (!built.root) {
    const top = built.path[built.path.length - 1] as ParsedCertificate;
    if (built.badSignature) {
      const { child, issuer } = built.badSignature;
      chainFindings.push(
        finding(
          'bad_signature',
          `the signature of ${child.subject} does not verify with the key of ${issuer.subject}`,
          child.subject,
        ),
      );
    } else {
      const why = top.selfSigned
        ? `ends at the self-signed ${top.subject}, which is not cluster_ca_cert`
        : `cannot find the issuer ${top.issuer} of ${top.subject} among the presented certificates and cluster_ca_cert`;
      chainFindings.push(finding('unknown_issuer', `the chain ${why}`, top.subject));
    }
  }

  if (intermediates.length > MAX_INTERMEDIATES) {
    chainFindings.push(
      finding(
        'chain_too_deep',
        `the chain has ${intermediates.length} intermediates; at most ${MAX_INTERMEDIATES} are allowed`,
      ),
    );
  }

  const purpose = PURPOSE[options.role];
  // Every CA above the leaf: CA flag (intermediates), keyCertSign, pathLen, EKU restrictions.
  built.path.forEach((ca, index) => {
    if (index === 0) return;
    const isRoot = ca === built.root;
    if (!isRoot && !ca.basicConstraints?.ca) {
      const why = ca.basicConstraints ? 'CA:FALSE' : 'no basicConstraints';
      chainFindings.push(
        finding('intermediate_not_ca', `intermediate ${ca.subject} is not a CA (${why})`, ca.subject),
      );
    }
    if (ca.keyCertSign === false) {
      chainFindings.push(
        finding('issuer_cannot_sign', `${ca.subject} has keyUsage without keyCertSign`, ca.subject),
      );
    }
    const below = index - 1; // intermediates between this CA and the leaf
    const pathLen = ca.basicConstraints?.pathLen;
    if (pathLen !== undefined && below > pathLen) {
      chainFindings.push(
        finding(
          'path_len_exceeded',
          `${ca.subject} allows pathLen ${pathLen} but has ${below} intermediate${below === 1 ? '' : 's'} below it`,
          ca.subject,
        ),
      );
    }
    if (!isRoot && ca.extKeyUsage && !ca.extKeyUsage.includes(purpose.oid)) {
      chainFindings.push(
        finding(
          'intermediate_eku_wrong',
          `intermediate ${ca.subject} limits extendedKeyUsage to ${ekuText(ca.extKeyUsage)}, without ${purpose.name}`,
          ca.subject,
        ),
      );
    }
  });

  for (const extra of built.unused) {
    chainFindings.push(
      finding(
        'chain_unused_cert',
        `${extra.subject} is presented but not on the path to the root`,
        extra.subject,
      ),
    );
  }
  if (!hasErrors(chainFindings) && built.root) {
    const names = built.path.map((c) => c.commonName ?? c.subject);
    chainFindings.unshift(
      finding(
        'chain_ok',
        `chain ${names.join(' → ')} (${intermediates.length} intermediate${intermediates.length === 1 ? '' : 's'}, signatures verified)`,
      ),
    );
  }
  findings.push(...chainFindings);

  // Validity of the leaf and every intermediate (the root was checked above).
  const validity: Finding[] = [];
  checkValidity(leaf, 'cert', at, warnDays, validity);
  for (const ca of intermediates) checkValidity(ca, 'intermediate', at, warnDays, validity);
  if (!hasErrors(validity))
    validity.unshift(
      finding(
        'validity_ok',
        `${intermediates.length + 1} certificate${intermediates.length ? 's' : ''} valid at ${at.toISOString()}; ${leaf.subject} until ${leaf.notAfter.toISOString()}`,
        leaf.subject,
      ),
    );
  findings.push(...validity);

  // Extended key usage: Node's TLS accepts a leaf without any EKU, so presence is enforced here.
  if (!leaf.extKeyUsage) {
    findings.push(
      finding(
        'eku_missing',
        `${purpose.node} certificate ${leaf.subject} has no extendedKeyUsage; it needs ${purpose.name}`,
        leaf.subject,
      ),
    );
  } else if (!leaf.extKeyUsage.includes(purpose.oid)) {
    findings.push(
      finding(
        'eku_wrong',
        `${purpose.node} certificate ${leaf.subject} has extendedKeyUsage ${ekuText(leaf.extKeyUsage)}; it needs ${purpose.name}`,
        leaf.subject,
      ),
    );
  } else {
    findings.push(finding('eku_ok', `extendedKeyUsage includes ${purpose.name}`, leaf.subject));
  }

  // Server name: only a control plane certificate is matched (the DP's CN is not checked, as in Kong).
  if (options.role === 'cp') {
    const serverName = options.serverName ?? DEFAULT_SERVER_NAME;
    const names = presentedNames(leaf);
    if (matchesServerName(leaf, serverName)) {
      findings.push(finding('name_ok', `certificate matches server name ${serverName}`, leaf.subject));
    } else {
      findings.push(
        finding(
          'name_mismatch',
          `certificate names ${names.length ? names.join(', ') : '(none)'} do not match server name ${serverName}`,
          leaf.subject,
        ),
      );
    }
  }

  return { valid: !hasErrors(findings), findings, path: built.path, intermediates: intermediates.length };
}

function verifyShared(
  leaf: ParsedCertificate,
  options: VerifyPeerChainOptions,
  at: Date,
  warnDays: number,
  findings: Finding[],
): ChainReport {
  if (!options.sharedCert)
    throw new TypeError('verifyPeerChain: shared mode needs sharedCert (cluster_cert)');
  const own = toParsed(options.sharedCert);
  if (own.sha256 === leaf.sha256) {
    findings.push(
      finding('shared_cert_match', `certificate is the shared cluster_cert (sha256 ${own.sha256})`),
    );
  } else {
    findings.push(
      finding(
        'shared_cert_mismatch',
        `peer certificate sha256 ${leaf.sha256} differs from cluster_cert sha256 ${own.sha256}`,
        leaf.subject,
      ),
    );
  }
  const validity: Finding[] = [];
  if (checkValidity(leaf, 'cert', at, warnDays, validity) && !hasErrors(validity))
    validity.unshift(
      finding(
        'validity_ok',
        `certificate valid at ${at.toISOString()} until ${leaf.notAfter.toISOString()}`,
        leaf.subject,
      ),
    );
  findings.push(...validity);
  return { valid: !hasErrors(findings), findings, path: [leaf], intermediates: 0 };
}
