// `gen_cert`: a new shared-mode pair written to disk (certificate 0644, key 0600), refusing to overwrite.
import { X509Certificate } from 'node:crypto';
import { writeFiles } from '../files/write-files.js';
import { generateSharedModePair } from './self-signed.js';

export interface GenCertOptions {
  certPath: string;
  keyPath: string;
  days: number;
  force: boolean;
  now?: Date;
}

export interface GenCertResult {
  cert: string;
  key: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  /** SHA-256 of the certificate's DER: what shared-mode peers compare. */
  fingerprint256: string;
}

export async function genCert(options: GenCertOptions): Promise<GenCertResult> {
  const pair = generateSharedModePair(options.days, options.now);
  const [cert, key] = await writeFiles(
    [
      // The key first: if anything fails the certificate is not left behind without it.
      { path: options.keyPath, content: pair.keyPem, mode: 0o600 },
      { path: options.certPath, content: pair.certPem, mode: 0o644 },
    ],
    { overwrite: options.force },
  ).then(([keyPath, certPath]) => [certPath!, keyPath!]);
  const x509 = new X509Certificate(pair.certPem);
  return {
    cert: cert!,
    key: key!,
    subject: x509.subject,
    notBefore: pair.notBefore.toISOString(),
    notAfter: pair.notAfter.toISOString(),
    fingerprint256: x509.fingerprint256,
  };
}
