// Parses one X.509 certificate into the facts the checks need (Node crypto for keys/signatures, pkijs for extensions).
import { createHash, X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

/** What a caller may hand over as a certificate: DER bytes, PEM text, Node's X509Certificate, or a TLS peer object. */
export type CertificateInput = Buffer | Uint8Array | string | X509Certificate | { raw: Buffer };

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  ocspMethod: '1.3.6.1.5.5.7.48.1',
  commonName: '2.5.4.3',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
} as const;

export interface ParsedCertificate {
  der: Buffer;
  x509: X509Certificate;
  /** pkijs view, kept for OCSP request building. */
  pkijs: pkijs.Certificate;
  /** One-line subject, e.g. "CN=dp1, O=Example". */
  subject: string;
  issuer: string;
  commonName?: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER, lowercase hex without separators. */
  sha256: string;
  /** basicConstraints; undefined when the extension is absent. */
  basicConstraints?: { ca: boolean; pathLen?: number };
  /** keyUsage includes keyCertSign; undefined when the extension is absent. */
  keyCertSign?: boolean;
  /** extendedKeyUsage OIDs; undefined when the extension is absent (which is not the same as empty). */
  extKeyUsage?: string[];
  sanDns: string[];
  /** IP SANs in canonical text form (Node's net formatting). */
  sanIp: string[];
  ocspUrls: string[];
  subjectKeyId?: string;
  authorityKeyId?: string;
  /** Subject and issuer names equal and the certificate verifies with its own key. */
  selfSigned: boolean;
  /** "EC P-384", "RSA 2048", ... */
  keyDescription: string;
}

/** Raised for bytes that are not a certificate; callers turn it into a `pem_invalid` finding. */
export class CertificateParseError extends Error {}

function toDer(input: CertificateInput): Buffer {
  if (input instanceof X509Certificate) return input.raw;
  if (typeof input === 'string') return new X509Certificate(input).raw;
  if (Buffer.isBuffer(input)) return input;
  if (input instanceof Uint8Array) return Buffer.from(input);
  return input.raw;
}

const hex = (bytes: ArrayBuffer | Uint8Array): string => Buffer.from(bytes as Uint8Array).toString('hex');

/** Parses one certificate; throws CertificateParseError on anything that is not a well-formed certificate. */
export function parseCertificate(input: CertificateInput): ParsedCertificate {
  let der: Buffer;
  let x509: X509Certificate;
  let cert: pkijs.Certificate;
  try {
    der = toDer(input);
    x509 = input instanceof X509Certificate ? input : new X509Certificate(der);
    cert = pkijs.Certificate.fromBER(der);
  } catch (err) {
    throw new CertificateParseError(`not a valid X.509 certificate: ${(err as Error).message}`, {
      cause: err,
    });
  }

  const parsed: ParsedCertificate = {
    der,
    x509,
    pkijs: cert,
    subject: x509.subject.split('\n').join(', '),
    issuer: x509.issuer.split('\n').join(', '),
    notBefore: cert.notBefore.value,
    notAfter: cert.notAfter.value,
    sha256: createHash('sha256').update(der).digest('hex'),
    sanDns: [],
    sanIp: [],
    ocspUrls: [],
    selfSigned: false,
    keyDescription: describeKey(x509),
  };

  for (const tv of cert.subject.typesAndValues) {
    if (tv.type === OID.commonName) parsed.commonName = String(tv.value.valueBlock.value);
  }

  for (const ext of cert.extensions ?? []) {
    const value: unknown = ext.parsedValue;
    switch (ext.extnID) {
      case OID.basicConstraints: {
        const bc = value as pkijs.BasicConstraints;
        const pathLen = typeof bc.pathLenConstraint === 'number' ? bc.pathLenConstraint : undefined;
        parsed.basicConstraints = { ca: bc.cA === true, ...(pathLen === undefined ? {} : { pathLen }) };
        break;
      }
      case OID.keyUsage: {
        // Named bit 5 (keyCertSign) is 0x04 in the first content byte.
        const bits = (value as asn1js.BitString).valueBlock.valueHexView;
        parsed.keyCertSign = bits.length > 0 && ((bits[0] ?? 0) & 0x04) !== 0;
        break;
      }
      case OID.extKeyUsage:
        parsed.extKeyUsage = [...(value as pkijs.ExtKeyUsage).keyPurposes];
        break;
      case OID.subjectAltName:
        for (const name of (value as pkijs.AltName).altNames) {
          if (name.type === 2) parsed.sanDns.push(String(name.value));
          if (name.type === 7)
            parsed.sanIp.push(ipText((name.value as asn1js.OctetString).valueBlock.valueHexView));
        }
        break;
      case OID.authorityInfoAccess:
        for (const ad of (value as pkijs.InfoAccess).accessDescriptions) {
          if (ad.accessMethod === OID.ocspMethod && ad.accessLocation.type === 6)
            parsed.ocspUrls.push(String(ad.accessLocation.value));
        }
        break;
      case OID.subjectKeyId:
        parsed.subjectKeyId = hex((value as asn1js.OctetString).valueBlock.valueHexView);
        break;
      case OID.authorityKeyId: {
        const keyId = (value as pkijs.AuthorityKeyIdentifier).keyIdentifier;
        if (keyId) parsed.authorityKeyId = hex(keyId.valueBlock.valueHexView);
        break;
      }
    }
  }

  parsed.selfSigned = x509.subject === x509.issuer && verifiesWith(parsed, parsed);
  return parsed;
}

/** `child` carries a valid signature by `issuer`'s key. */
export function verifiesWith(child: ParsedCertificate, issuer: ParsedCertificate): boolean {
  try {
    return child.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
}

/** Name and key identifiers say `issuer` could have issued `child` (the signature is checked separately). */
export function namesIssuer(child: ParsedCertificate, issuer: ParsedCertificate): boolean {
  if (child.x509.issuer !== issuer.x509.subject) return false;
  if (child.authorityKeyId && issuer.subjectKeyId) return child.authorityKeyId === issuer.subjectKeyId;
  return true;
}

function describeKey(x509: X509Certificate): string {
  const key = x509.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    const curves: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };
    return `EC ${curves[details.namedCurve ?? ''] ?? details.namedCurve ?? '?'}`;
  }
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss')
    return `RSA ${details.modulusLength ?? '?'}`;
  return (key.asymmetricKeyType ?? 'unknown').toUpperCase();
}

function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
    return groups.join(':');
  }
  return hex(bytes);
}
