// Generates the shared-mode cluster certificate pair that `hybrid gen_cert` writes (Kong's `kong hybrid gen_cert`).
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** Subject and issuer of every shared-mode certificate: the SNI data planes send in shared mode. */
export const SHARED_MODE_COMMON_NAME = 'kong_clustering';
export const DEFAULT_CERT_DAYS = 1095;
/** X.509 cannot express dates after 9999-12-31; a century is a generous ceiling. */
export const MAX_CERT_DAYS = 36_500;

export interface SelfSignedPair {
  /** PEM certificate. */
  certPem: string;
  /** PEM PKCS#8 private key. */
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' } as const;

/** An EC secp384r1 key and a self-signed certificate for CN=kong_clustering, valid from `now` for `days`. */
export async function generateSharedModePair(days: number, now: Date = new Date()): Promise<SelfSignedPair> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  // Whole seconds: X.509 times carry no fractions, and notAfter - notBefore must be exactly `days`.
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + days * 86_400_000);
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f; // a positive INTEGER, as RFC 5280 requires
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: `CN=${SHARED_MODE_COMMON_NAME}`,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    certPem: cert.toString('pem') + '\n',
    keyPem: toPem('PRIVATE KEY', pkcs8),
    notBefore,
    notAfter,
  };
}

function toPem(label: string, der: Buffer): string {
  const body = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}
