// The one catalogue of certificate findings: every check's outcome has a stable code, a severity and a hint.

export type Severity = 'ok' | 'warning' | 'error';

/**
 * Every finding code the PKI core can produce, with its severity and the hint an operator sees.
 * Codes are stable API: the handshake logs them, `verify-pki --json` prints them, tests assert them.
 * One code per failure kind, so a log line or a CI gate can tell "expired" from "wrong EKU".
 */
export const FINDINGS = {
  // Reading inputs (verify-pki only: a TLS peer cannot present unparsable certificates).
  pem_invalid: {
    severity: 'error',
    hint: 'The file must hold PEM certificates (-----BEGIN CERTIFICATE-----); check it is complete and not DER or a key.',
  },
  cert_missing: {
    severity: 'error',
    hint: 'The peer presented no certificate; a node must set cluster_cert.',
  },
  key_invalid: {
    severity: 'error',
    hint: 'cluster_cert_key must be an unencrypted PEM private key (PKCS#8, SEC1 EC or PKCS#1 RSA).',
  },
  key_mismatch: {
    severity: 'error',
    hint: 'The private key does not belong to the certificate; pair each cluster_cert with the key it was issued for.',
  },
  key_ok: { severity: 'ok', hint: '' },

  // shared mode
  shared_cert_mismatch: {
    severity: 'error',
    hint: 'In shared mode every node must use the same cluster_cert file (compare `openssl x509 -noout -fingerprint -sha256`).',
  },
  shared_cert_match: { severity: 'ok', hint: '' },

  // The trust anchor (cluster_ca_cert).
  ca_not_root: {
    severity: 'error',
    hint: 'cluster_ca_cert must be the self-signed root CA; put intermediates in cluster_cert after the leaf instead.',
  },
  ca_not_ca: {
    severity: 'error',
    hint: 'cluster_ca_cert has basicConstraints CA:FALSE; use the root CA certificate, not a node certificate.',
  },
  ca_expired: {
    severity: 'error',
    hint: 'The root CA has expired: re-issue the root and every certificate under it.',
  },
  ca_not_yet_valid: {
    severity: 'error',
    hint: 'The root CA is not valid yet: check the clock of this host and the notBefore of the root.',
  },
  ca_expiring_soon: { severity: 'warning', hint: 'Plan a rotation of the root CA before it expires.' },
  ca_ok: { severity: 'ok', hint: '' },

  // Path from the leaf to the root.
  unknown_issuer: {
    severity: 'error',
    hint: 'The certificate does not chain to cluster_ca_cert: it was issued by another CA, or an intermediate is missing from cluster_cert.',
  },
  bad_signature: {
    severity: 'error',
    hint: 'A signature in the chain does not verify: the certificate was altered or re-signed by a different key.',
  },
  chain_too_deep: {
    severity: 'error',
    hint: 'At most three intermediates may stand between the root and the node certificate; shorten the chain.',
  },
  intermediate_not_ca: {
    severity: 'error',
    hint: 'Every intermediate needs basicConstraints CA:TRUE; re-issue it as a CA certificate.',
  },
  issuer_cannot_sign: {
    severity: 'error',
    hint: 'A CA whose keyUsage is present must include keyCertSign; re-issue it with keyCertSign.',
  },
  path_len_exceeded: {
    severity: 'error',
    hint: 'A CA in the chain has a pathLen constraint smaller than the number of intermediates below it.',
  },
  intermediate_eku_wrong: {
    severity: 'error',
    hint: 'An intermediate restricts extendedKeyUsage and excludes the purpose this node needs; TLS would reject it.',
  },
  intermediate_expired: {
    severity: 'error',
    hint: 'Renew the expired intermediate and redistribute the chain.',
  },
  intermediate_not_yet_valid: {
    severity: 'error',
    hint: 'An intermediate is not valid yet: check this host clock and the intermediate notBefore.',
  },
  intermediate_expiring_soon: { severity: 'warning', hint: 'Renew the intermediate before it expires.' },
  chain_unused_cert: {
    severity: 'warning',
    hint: 'A certificate in the chain is not on the path to the root; remove it from the file.',
  },
  chain_ok: { severity: 'ok', hint: '' },

  // The node certificate (leaf).
  cert_expired: { severity: 'error', hint: 'Renew the node certificate (and restart or reload the node).' },
  cert_not_yet_valid: {
    severity: 'error',
    hint: 'The node certificate is not valid yet: check this host clock and the certificate notBefore.',
  },
  cert_expiring_soon: { severity: 'warning', hint: 'Renew the node certificate before it expires.' },
  validity_ok: { severity: 'ok', hint: '' },
  eku_missing: {
    severity: 'error',
    hint: 'Add extendedKeyUsage: serverAuth for a control plane, clientAuth for a data plane.',
  },
  eku_wrong: {
    severity: 'error',
    hint: 'extendedKeyUsage must include serverAuth on a control plane certificate and clientAuth on a data plane certificate.',
  },
  eku_ok: { severity: 'ok', hint: '' },
  name_mismatch: {
    severity: 'error',
    hint: 'The control plane certificate must carry cluster_server_name in its SAN DNS names (CN is used only when there is no SAN DNS).',
  },
  name_ok: { severity: 'ok', hint: '' },

  // Revocation (ocsp.ts).
  ocsp_good: { severity: 'ok', hint: '' },
  ocsp_revoked: { severity: 'error', hint: 'The certificate was revoked by its CA: issue a new one.' },
  ocsp_unknown: {
    severity: 'error',
    hint: 'The OCSP responder does not know this certificate; is the responder serving the right CA?',
  },
  ocsp_no_responder: {
    severity: 'error',
    hint: 'The certificate has no OCSP URL in its authorityInfoAccess; issue it with one or set cluster_ocsp = off.',
  },
  ocsp_unreachable: {
    severity: 'error',
    hint: 'The OCSP responder did not answer; with cluster_ocsp = optional the node would still be accepted.',
  },
  ocsp_bad_response: {
    severity: 'error',
    hint: 'The OCSP answer is not trustworthy (bad signature, unauthorised signer, nonce or time mismatch).',
  },
} as const satisfies Record<string, { severity: Severity; hint: string }>;

export type FindingCode = keyof typeof FINDINGS;

export interface Finding {
  code: FindingCode;
  severity: Severity;
  message: string;
  /** What to do about it; empty for passed checks. */
  hint?: string;
  /** Subject of the certificate the finding is about, when it is about one. */
  subject?: string;
}

/** Builds a finding with the catalogue's severity and hint. */
export function finding(code: FindingCode, message: string, subject?: string): Finding {
  const { severity, hint } = FINDINGS[code];
  const result: Finding = { code, severity, message };
  if (hint) result.hint = hint;
  if (subject !== undefined) result.subject = subject;
  return result;
}

/** Same finding with another severity (e.g. an OCSP failure that policy downgrades to a warning). */
export function withSeverity(f: Finding, severity: Severity): Finding {
  return { ...f, severity };
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

/** The first error, for one-line log reasons such as "rejected data plane: cert_expired: ...". */
export function firstError(findings: readonly Finding[]): Finding | undefined {
  return findings.find((f) => f.severity === 'error');
}
