// Certificates for https proxy listeners from the configuration's `certificates` and `snis`, chosen by the
// client's server name: exact name, then `*.rest` (first label wild), then `name.*` (last label wild), as Kong.
import { createSecureContext, type SecureContext } from 'node:tls';
import type { DeclarativeConfig } from './types.js';

export interface SniCertificates {
  readonly count: number;
  /** The context for a server name, or null to use the listener's default certificate. */
  contextFor(servername: string): SecureContext | null;
}

interface CertificateRow {
  id: string;
  cert: string;
  key: string;
  cert_alt?: string | null;
  key_alt?: string | null;
}

export function buildSniCertificates(config: DeclarativeConfig): SniCertificates {
  const certificates = new Map<string, CertificateRow>();
  for (const row of (config.certificates ?? []) as unknown as CertificateRow[]) certificates.set(row.id, row);
  const byName = new Map<string, CertificateRow>();
  for (const sni of (config.snis ?? []) as { name?: string; certificate?: { id?: string } }[]) {
    const cert = sni.certificate?.id ? certificates.get(sni.certificate.id) : undefined;
    if (typeof sni.name === 'string' && cert) byName.set(sni.name.toLowerCase(), cert);
  }
  // Contexts are made on first use: a configuration may hold thousands of certificates.
  const contexts = new Map<string, SecureContext>();
  const contextOf = (row: CertificateRow): SecureContext => {
    let context = contexts.get(row.id);
    if (!context) {
      const certs = [row.cert, ...(row.cert_alt ? [row.cert_alt] : [])];
      const keys = [row.key, ...(row.key_alt ? [row.key_alt] : [])];
      context = createSecureContext({ cert: certs, key: keys });
      contexts.set(row.id, context);
    }
    return context;
  };
  return {
    count: byName.size,
    contextFor(servername) {
      if (byName.size === 0 || !servername) return null;
      const name = servername.toLowerCase();
      let row = byName.get(name);
      const firstDot = name.indexOf('.');
      if (!row && firstDot !== -1) row = byName.get(`*${name.slice(firstDot)}`);
      const lastDot = name.lastIndexOf('.');
      if (!row && lastDot !== -1) row = byName.get(`${name.slice(0, lastDot)}.*`);
      return row ? contextOf(row) : null;
    },
  };
}
