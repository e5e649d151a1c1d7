// Splits PEM text into certificates and reads private keys, reporting truncated or garbage input precisely.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { CertificateParseError, parseCertificate, type ParsedCertificate } from './certificate.js';

export class PemError extends Error {}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/=\s]*$/;

/**
 * Every CERTIFICATE block of `text`, in order. Throws PemError naming what is wrong: no block at all,
 * a BEGIN without its END (a truncated file), a body that is not base64, or DER that is not a certificate.
 */
export function parsePemCertificates(text: string): ParsedCertificate[] {
  const certs: ParsedCertificate[] = [];
  let blocks = 0;
  for (const match of text.matchAll(BLOCK)) {
    blocks += 1;
    const [, label, body = ''] = match;
    if (label !== 'CERTIFICATE') throw new PemError(`block ${blocks} is a ${label}, not a CERTIFICATE`);
    if (!BASE64.test(body)) throw new PemError(`certificate ${blocks} is not valid base64`);
    try {
      certs.push(parseCertificate(Buffer.from(body.replace(/\s+/g, ''), 'base64')));
    } catch (err) {
      if (err instanceof CertificateParseError) throw new PemError(`certificate ${blocks} is ${err.message}`);
      throw err;
    }
  }
  const begins = text.match(/-----BEGIN [A-Z0-9 ]+-----/g)?.length ?? 0;
  if (begins > blocks) throw new PemError('a PEM block has no matching END line (the file looks truncated)');
  if (blocks === 0) throw new PemError('no PEM certificate found');
  return certs;
}

/** Reads an unencrypted PEM private key; throws PemError when it cannot be read. */
export function parsePrivateKey(text: string): KeyObject {
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text)) throw new PemError('no PEM private key found');
  if (/ENCRYPTED/.test(text)) throw new PemError('the private key is encrypted');
  try {
    return createPrivateKey({ key: text, format: 'pem' });
  } catch (err) {
    throw new PemError(`the private key cannot be read: ${(err as Error).message}`);
  }
}
