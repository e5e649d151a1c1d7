// verifyPkiSetup: a node's certificate files at rest (PEM text in, findings out) — parsing, key match, then verifyPeerChain.
import type { ParsedCertificate } from './certificate.js';
import { verifyPeerChain, type ClusterMtlsMode, type PeerRole } from './chain.js';
import { finding, hasErrors, type Finding } from './findings.js';
import { parsePemCertificates, parsePrivateKey, PemError } from './pem.js';

/** PEM text plus where it came from (a path, or e.g. "cluster_cert (inline)"), used in messages. */
export interface PemSource {
  pem: string;
  source: string;
}

export interface PkiSetupInput {
  mode: ClusterMtlsMode;
  /** Role of the node owning `cert`. */
  role: PeerRole;
  /** cluster_cert: the leaf, optionally followed by its intermediates — what the node presents. */
  cert: PemSource;
  /** cluster_cert_key. */
  key?: PemSource;
  /** pki: cluster_ca_cert (self-signed root). */
  ca?: PemSource;
  /** More intermediates, appended to what `cert` holds. */
  chain?: PemSource;
  /** shared: the other node's cluster_cert, which must be byte-identical to `cert`. */
  peerCert?: PemSource;
  serverName?: string;
  at?: Date;
  warnDays?: number;
}

export interface PkiSetupReport {
  valid: boolean;
  findings: Finding[];
  /** Leaf first; ends at the root when the chain is anchored. Empty when the certificate could not be read. */
  path: ParsedCertificate[];
  intermediates: number;
}

function readCerts(input: PemSource, findings: Finding[]): ParsedCertificate[] | undefined {
  try {
    return parsePemCertificates(input.pem);
  } catch (err) {
    if (!(err instanceof PemError)) throw err;
    findings.push(finding('pem_invalid', `${input.source}: ${err.message}`));
    return undefined;
  }
}

/** Pure: every check verify-pki runs except OCSP (which needs the network, see ocsp.ts). */
export function verifyPkiSetup(input: PkiSetupInput): PkiSetupReport {
  const findings: Finding[] = [];
  const certs = readCerts(input.cert, findings);
  const chain = input.chain ? readCerts(input.chain, findings) : [];
  const roots = input.mode === 'pki' && input.ca ? readCerts(input.ca, findings) : [];
  const peer = input.mode === 'shared' && input.peerCert ? readCerts(input.peerCert, findings) : [];

  const leaf = certs?.[0];
  if (input.key) {
    try {
      const key = parsePrivateKey(input.key.pem);
      if (leaf) {
        if (leaf.x509.checkPrivateKey(key)) {
          findings.push(finding('key_ok', `${input.key.source} is the private key of the certificate`));
        } else {
          findings.push(
            finding('key_mismatch', `${input.key.source} does not match the public key of ${leaf.subject}`),
          );
        }
      }
    } catch (err) {
      if (!(err instanceof PemError)) throw err;
      findings.push(finding('key_invalid', `${input.key.source}: ${err.message}`));
    }
  }

  if (!certs || !chain || !roots || !peer || !leaf)
    return { valid: false, findings, path: [], intermediates: 0 };
  if (input.mode === 'pki' && roots.length === 0)
    throw new TypeError('verifyPkiSetup: pki mode needs the CA certificate (cluster_ca_cert)');

  const report = verifyPeerChain({
    mode: input.mode,
    role: input.role,
    peerChain: [...certs, ...chain],
    trustedRoots: roots,
    // Without the other node's certificate, shared mode can only check this node's own files.
    sharedCert: peer[0] ?? leaf,
    serverName: input.serverName,
    at: input.at,
    warnDays: input.warnDays,
  });
  findings.push(...report.findings);
  return { valid: !hasErrors(findings), findings, path: report.path, intermediates: report.intermediates };
}
