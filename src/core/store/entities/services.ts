// Services: where traffic goes. Accepts Kong's `url` shorthand for protocol/host/port/path.
import type { ErrorTree } from '../../schema/schema.js';
import { host, name, path, port, protocol, timeout } from '../../schema/typedefs.js';
import { baseFields, foreign, type EntityDefinition } from './definition.js';

const DEFAULT_PORTS: Record<string, number> = { https: 443, grpcs: 443, wss: 443, tls: 443 };
const STREAM = ['tcp', 'tls', 'udp', 'tls_passthrough', 'grpc', 'grpcs'];

/** Splits `url` into its parts, as Kong does for POST /services with `url=`. */
export function expandServiceUrl(input: Record<string, unknown>): {
  input: Record<string, unknown>;
  errors?: ErrorTree;
} {
  if (input.url === undefined || input.url === null) {
    const { url: _url, ...rest } = input;
    return { input: rest };
  }
  const { url, ...rest } = input;
  if (typeof url !== 'string') return { input: rest, errors: { url: 'expected a string' } };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { input: rest, errors: { url: `missing host in url` } };
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  if (!parsed.hostname) return { input: rest, errors: { url: 'missing host in url' } };
  const out: Record<string, unknown> = {
    ...rest,
    protocol: scheme,
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : (DEFAULT_PORTS[scheme] ?? 80),
  };
  // "http://h" has no path; "http://h/" has "/". WHATWG URL reports both as "/", so look at the text.
  const afterHost = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
  out.path =
    afterHost === '' || afterHost.startsWith('?') || afterHost.startsWith('#') ? null : parsed.pathname;
  return { input: out };
}

export const services: EntityDefinition = {
  name: 'services',
  unique: ['name'],
  endpointKey: 'name',
  foreign: [{ field: 'client_certificate', reference: 'certificates', onDelete: 'restrict' }],
  prepare: expandServiceUrl,
  schema: {
    name: 'services',
    fields: baseFields({
      name,
      retries: { type: 'integer', default: 5, between: [0, 32767] },
      protocol: { ...protocol, required: true, default: 'http' },
      host: { ...host, required: true },
      port: { ...port, required: true, default: 80 },
      path,
      connect_timeout: timeout,
      write_timeout: timeout,
      read_timeout: timeout,
      client_certificate: foreign('certificates'),
      tls_verify: { type: 'boolean' },
      tls_verify_depth: { type: 'integer', between: [0, 64] },
      ca_certificates: {
        type: 'array',
        elements: { type: 'string', match: /^[0-9a-f-]{36}$/i, match_err: 'expected a valid UUID' },
      },
      enabled: { type: 'boolean', required: true, default: true },
    }),
    checks: [
      (row) =>
        STREAM.includes(row.protocol as string) && row.path !== null
          ? { path: `value must be null when 'protocol' is '${String(row.protocol)}'` }
          : null,
      (row) =>
        row.client_certificate !== null && row.protocol !== 'https' && row.protocol !== 'tls'
          ? { client_certificate: "value must be null when 'protocol' is not 'https' or 'tls'" }
          : null,
    ],
  },
};
