// Parses one X.509 certificate into the facts the checks need (Node crypto for keys/signatures, asn1js for extensions).
import { createHash, X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';

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
  /** IP SANs in text form. */
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

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const ascii = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');

/** Children of a constructed ASN.1 value (empty for anything else). */
function children(block: asn1js.AsnType | undefined): asn1js.AsnType[] {
  const value = (block as asn1js.Constructed | undefined)?.valueBlock?.value;
  return Array.isArray(value) ? (value as asn1js.AsnType[]) : [];
}

/** Content bytes of a primitive value (OCTET STRING, implicitly tagged strings, BIT STRING payload). */
function content(block: asn1js.AsnType | undefined): Uint8Array {
  return (block as asn1js.Primitive | undefined)?.valueBlock?.valueHexView ?? new Uint8Array();
}

const isContext = (block: asn1js.AsnType, tag: number): boolean =>
  block.idBlock.tagClass === 3 && block.idBlock.tagNumber === tag;

function decode(bytes: Uint8Array): asn1js.AsnType {
  const parsed = asn1js.fromBER(bytes);
  if (parsed.offset === -1) throw new Error(parsed.result.error || 'bad DER');
  return parsed.result;
}

function toDate(block: asn1js.AsnType | undefined): Date {
  if (block instanceof asn1js.UTCTime || block instanceof asn1js.GeneralizedTime) return block.toDate();
  throw new Error('validity is not a time');
}

/** Parses one certificate; throws CertificateParseError on anything that is not a well-formed certificate. */
export function parseCertificate(input: CertificateInput): ParsedCertificate {
  try {
    return parse(input);
  } catch (err) {
    if (err instanceof CertificateParseError) throw err;
    throw new CertificateParseError(`not a valid X.509 certificate: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function parse(input: CertificateInput): ParsedCertificate {
  const der = toDer(input);
  const x509 = input instanceof X509Certificate ? input : new X509Certificate(der);
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
  const tbs = children(children(decode(der))[0]);
  const first = tbs[0];
  const offset = first && isContext(first, 0) ? 1 : 0; // [0] version is optional
  const validity = children(tbs[offset + 3]);

  const parsed: ParsedCertificate = {
    der,
    x509,
    subject: x509.subject.split('\n').join(', '),
    issuer: x509.issuer.split('\n').join(', '),
    notBefore: toDate(validity[0]),
    notAfter: toDate(validity[1]),
    sha256: createHash('sha256').update(der).digest('hex'),
    sanDns: [],
    sanIp: [],
    ocspUrls: [],
    selfSigned: false,
    keyDescription: describeKey(x509),
  };

  // Name ::= SEQUENCE OF SET OF AttributeTypeAndValue { type OID, value ANY }
  for (const rdn of children(tbs[offset + 4])) {
    for (const atv of children(rdn)) {
      const [type, value] = children(atv);
      if (type instanceof asn1js.ObjectIdentifier && type.valueBlock.toString() === OID.commonName) {
        const text = (value as { valueBlock?: { value?: unknown } } | undefined)?.valueBlock?.value;
        if (typeof text === 'string') parsed.commonName = text;
      }
    }
  }

  const extensions = tbs.find((block) => isContext(block, 3));
  for (const ext of children(children(extensions)[0])) {
    const parts = children(ext);
    const oid = (parts[0] as asn1js.ObjectIdentifier).valueBlock.toString();
    const value = decode(content(parts[parts.length - 1]));
    readExtension(parsed, oid, value);
  }

  parsed.selfSigned = x509.subject === x509.issuer && verifiesWith(parsed, parsed);
  return parsed;
}

function readExtension(parsed: ParsedCertificate, oid: string, value: asn1js.AsnType): void {
  switch (oid) {
    case OID.basicConstraints: {
      // SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
      let ca = false;
      let pathLen: number | undefined;
      for (const item of children(value)) {
        if (item instanceof asn1js.Boolean) ca = item.getValue();
        if (item instanceof asn1js.Integer) pathLen = item.valueBlock.valueDec;
      }
      parsed.basicConstraints = { ca, ...(pathLen === undefined ? {} : { pathLen }) };
      break;
    }
    case OID.keyUsage: {
      // Named bit 5 (keyCertSign) is 0x04 in the first content byte.
      const bits = (value as asn1js.BitString).valueBlock.valueHexView;
      parsed.keyCertSign = ((bits[0] ?? 0) & 0x04) !== 0;
      break;
    }
    case OID.extKeyUsage:
      parsed.extKeyUsage = children(value).map((item) =>
        (item as asn1js.ObjectIdentifier).valueBlock.toString(),
      );
      break;
    case OID.subjectAltName:
      for (const name of children(value)) {
        if (isContext(name, 2)) parsed.sanDns.push(ascii(content(name)));
        if (isContext(name, 7)) parsed.sanIp.push(ipText(content(name)));
      }
      break;
    case OID.authorityInfoAccess:
      // SEQUENCE OF AccessDescription { accessMethod OID, accessLocation GeneralName }
      for (const description of children(value)) {
        const [method, location] = children(description);
        if (
          method instanceof asn1js.ObjectIdentifier &&
          method.valueBlock.toString() === OID.ocspMethod &&
          location &&
          isContext(location, 6)
        )
          parsed.ocspUrls.push(ascii(content(location)));
      }
      break;
    case OID.subjectKeyId:
      parsed.subjectKeyId = hex(content(value));
      break;
    case OID.authorityKeyId: {
      const keyId = children(value).find((item) => isContext(item, 0));
      if (keyId) parsed.authorityKeyId = hex(content(keyId));
      break;
    }
  }
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
