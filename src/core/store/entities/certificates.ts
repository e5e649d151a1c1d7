// Certificates, SNIs and CA certificates: PEM material checked with node's X.509 parser.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import type { ErrorTree, Field } from '../../schema/schema.js';
import { pem, sni } from '../../schema/typedefs.js';
import { baseFields, foreign, type EntityDefinition } from './definition.js';

function parseCert(value: string): X509Certificate | string {
  try {
    return new X509Certificate(value);
  } catch {
    return 'invalid certificate: unable to parse the PEM certificate';
  }
}
const certField: Field = {
  ...pem,
  custom: (v: string) => {
    const c = parseCert(v);
    return typeof c === 'string' ? c : null;
  },
};
const keyField: Field = {
  ...pem,
  custom: (v: string) => {
    try {
      createPrivateKey(v);
      return null;
    } catch {
      return 'invalid key: unable to parse the PEM private key';
    }
  },
};

function pairCheck(certName: string, keyName: string) {
  return (row: Record<string, unknown>): ErrorTree | null => {
    const cert = row[certName];
    const key = row[keyName];
    if (typeof cert !== 'string' || typeof key !== 'string') return null;
    const x509 = parseCert(cert);
    if (typeof x509 === 'string') return null;
    return x509.checkPrivateKey(createPrivateKey(key))
      ? null
      : { '@entity': [`certificate does not match key`] };
  };
}

export const certificates: EntityDefinition = {
  name: 'certificates',
  unique: [],
  foreign: [],
  schema: {
    name: 'certificates',
    fields: baseFields({
      cert: { ...certField, required: true },
      key: { ...keyField, required: true },
      cert_alt: certField,
      key_alt: keyField,
    }),
    checks: [
      (row) =>
        (row.cert_alt === null) !== (row.key_alt === null)
          ? { '@entity': ["all or none of these fields must be set: 'cert_alt', 'key_alt'"] }
          : null,
      pairCheck('cert', 'key'),
      pairCheck('cert_alt', 'key_alt'),
    ],
  },
};

export const snis: EntityDefinition = {
  name: 'snis',
  unique: ['name'],
  endpointKey: 'name',
  foreign: [{ field: 'certificate', reference: 'certificates', onDelete: 'cascade' }],
  schema: {
    name: 'snis',
    fields: baseFields({
      name: { ...sni, required: true },
      certificate: foreign('certificates', true),
    }),
  },
};

/** CA certificates are identified by the SHA-256 of their DER (Kong's cert_digest). */
function digestCa(input: Record<string, unknown>): { input: Record<string, unknown>; errors?: ErrorTree } {
  if (typeof input.cert !== 'string') return { input };
  const cert = parseCert(input.cert);
  if (typeof cert === 'string') return { input };
  return { input: { ...input, cert_digest: createHash('sha256').update(cert.raw).digest('hex') } };
}

export const caCertificates: EntityDefinition = {
  name: 'ca_certificates',
  unique: ['cert_digest'],
  foreign: [],
  prepare: digestCa,
  schema: {
    name: 'ca_certificates',
    fields: baseFields({
      cert: {
        ...certField,
        required: true,
        custom: (v: string) => {
          const c = parseCert(v);
          if (typeof c === 'string') return c;
          if (!c.ca)
            return 'invalid certificate: certificate does not appear to be a CA because it is missing the "CA" basic constraint';
          if (Date.parse(c.validTo) < Date.now())
            return 'invalid certificate: certificate expired, "Not After" time is in the past';
          return null;
        },
      },
      cert_digest: { type: 'string' },
    }),
  },
};
