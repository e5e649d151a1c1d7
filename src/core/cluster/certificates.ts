// A node's own cluster certificates as its TLS layer uses them, checked before they replace the running ones.
import { createSecureContext } from 'node:tls';
import { clusterServerName, type ConfigKey, type HybridConfig } from '../config/index.js';
import type { CertificateValue } from '../config/types.js';
import { InvalidError } from '../errors.js';
import { verifyPkiSetup, type PemSource } from '../pki/index.js';
import { clusterTrustedRoots } from './peer.js';

/** The keys a certificate rotation changes; a running node applies them on reload. */
export const CLUSTER_CERTIFICATE_KEYS: readonly ConfigKey[] = [
  'cluster_cert',
  'cluster_cert_key',
  'cluster_ca_cert',
];

/** What the cluster TLS layer presents (leaf + intermediates, key) and trusts (pki: the root). */
export function clusterTlsOptions(config: HybridConfig): { cert: string; key: string; ca?: string[] } {
  const ca = clusterTrustedRoots(config);
  return { cert: config.cluster_cert!.pem, key: config.cluster_cert_key!.pem, ...(ca ? { ca } : {}) };
}

const pemSource = (key: string, value: CertificateValue): PemSource => ({
  pem: value.pem,
  source: value.path ?? `${key} (inline)`,
});

/**
 * Throws an InvalidError naming every problem when `config`'s certificates cannot serve a node of `role`:
 * unreadable PEM, a key that is not the certificate's, a chain the peers would refuse, or material
 * OpenSSL will not load. The same checks as `verify-pki`, so a reload never installs what it would flag.
 */
export function assertUsableCertificates(config: HybridConfig, role: 'cp' | 'dp'): void {
  if (!config.cluster_cert || !config.cluster_cert_key) {
    throw new InvalidError('cluster_certificate_invalid', 'cluster_cert and cluster_cert_key are required');
  }
  const report = verifyPkiSetup({
    mode: config.cluster_mtls,
    role,
    cert: pemSource('cluster_cert', config.cluster_cert),
    key: pemSource('cluster_cert_key', config.cluster_cert_key),
    ...(config.cluster_mtls === 'pki' && config.cluster_ca_cert
      ? { ca: pemSource('cluster_ca_cert', config.cluster_ca_cert) }
      : {}),
    ...(role === 'cp' ? { serverName: clusterServerName(config) } : {}),
    warnDays: 0,
  });
  const problems = report.findings.filter((f) => f.severity === 'error').map((f) => f.message);
  if (problems.length === 0) {
    try {
      createSecureContext(clusterTlsOptions(config));
    } catch (err) {
      problems.push(`OpenSSL cannot load them: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) {
    throw new InvalidError(
      'cluster_certificate_invalid',
      `the cluster certificates cannot be used:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      { hint: 'Run hybrid verify-pki on the new files; the node keeps its current certificates.' },
    );
  }
}
