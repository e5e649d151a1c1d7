// Generates the shared-mode cluster certificate pair that `hybrid gen_cert` writes (Kong's `kong hybrid gen_cert`).
import {
  createHash,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto';
import {
  bitString,
  explicit,
  objectIdentifier,
  octetString,
  sequence,
  set,
  time,
  unsignedInteger,
  utf8String,
} from './der.js';

/** Subject and issuer of every shared-mode certificate: the SNI data planes send in shared mode. */
export const SHARED_MODE_COMMON_NAME = 'kong_clustering';
export const DEFAULT_CERT_DAYS = 1095;
/** X.509 cannot express dates after 9999-12-31; a century is a generous ceiling. */
export const MAX_CERT_DAYS = 36_500;

const OID = {
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
};

export interface SelfSignedPair {
  /** PEM certificate. */
  certPem: string;
  /** PEM PKCS#8 private key. */
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
}

/** An EC secp384r1 key and a self-signed X.509 v3 certificate for CN=kong_clustering, valid from `now` for `days`. */
export function generateSharedModePair(days: number, now: Date = new Date()): SelfSignedPair {
  return generateSelfSigned(SHARED_MODE_COMMON_NAME, days, now);
}

/** An EC secp384r1 key and a self-signed X.509 v3 certificate for CN=`commonName`. */
export function generateSelfSigned(commonName: string, days: number, now: Date = new Date()): SelfSignedPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
  // Whole seconds: X.509 times carry no fractions, and notAfter - notBefore must be exactly `days`.
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + days * 86_400_000);

  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const name = sequence(set(sequence(objectIdentifier(OID.commonName), utf8String(commonName))));
  const signatureAlgorithm = sequence(objectIdentifier(OID.ecdsaWithSha384));
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive and non-zero, as RFC 5280 requires
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))), // v3
    unsignedInteger(serial),
    signatureAlgorithm,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    spki,
    explicit(
      3,
      sequence(
        sequence(objectIdentifier(OID.subjectKeyIdentifier), octetString(octetString(keyId(publicKey)))),
      ),
    ),
  );
  const signature = sign('sha384', tbs, { key: privateKey, dsaEncoding: 'der' });
  const der = sequence(tbs, signatureAlgorithm, bitString(signature));

  // Parse what we built: a malformed encoding fails here, never on a peer.
  const certPem = new X509Certificate(der).toString();
  return {
    certPem,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    notBefore,
    notAfter,
  };
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits, here the uncompressed EC point. */
function keyId(publicKey: KeyObject): Buffer {
  const { x, y } = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(x!, 'base64url'), Buffer.from(y!, 'base64url')]);
  return createHash('sha1').update(point).digest();
}
