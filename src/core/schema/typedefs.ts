// Reusable field definitions (Kong's typedefs): names, hosts, ports, paths, timeouts, tags, CIDRs.
import { isIP } from 'node:net';
import type { Field } from './schema.js';

export const uuid: Field = {
  type: 'string',
  match: /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
  match_err: 'expected a valid UUID',
};
export const timestamp: Field = { type: 'integer' };

const NAME = /^[\p{L}\p{N}.\-_~]+$/u;
export const name: Field = {
  type: 'string',
  len_min: 1,
  custom: (v: string) =>
    NAME.test(v)
      ? null
      : `invalid value '${v}': the only accepted ascii characters are alphanumerics or ., -, _, and ~`,
};

export const tag: Field = {
  type: 'string',
  len_min: 1,
  custom: (v: string) =>
    /^[\x21-\x2b\x2d-\x2e\x30-\x7e]+$/.test(v)
      ? null
      : 'invalid tag: printable ascii (except `,` and `/`) only',
};
export const tags: Field = { type: 'set', elements: tag };

// Kong accepts '_' in host names (its guides name an upstream `example_upstream` and point a service at it).
const HOSTNAME_LABEL = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$/;
function hostnameError(v: string, wildcard: boolean): string | null {
  if (isIP(v)) return null;
  if (v.startsWith('[') && v.endsWith(']') && isIP(v.slice(1, -1)) === 6) return null;
  let host = v;
  if (wildcard) {
    const stars = (v.match(/\*/g) ?? []).length;
    if (stars > 1) return 'only one wildcard must be specified';
    if (stars === 1) {
      if (v.startsWith('*.')) host = v.slice(2);
      else if (v.endsWith('.*')) host = v.slice(0, -2);
      else return 'wildcard must be leftmost or rightmost character';
    }
  }
  if (host.length === 0 || host.length > 253) return `invalid hostname: ${v}`;
  return host.split('.').every((label) => HOSTNAME_LABEL.test(label)) ? null : `invalid hostname: ${v}`;
}
export const host: Field = { type: 'string', custom: (v: string) => hostnameError(v, false) };
export const wildcardHost: Field = { type: 'string', custom: (v: string) => hostnameError(v, true) };

export const port: Field = { type: 'integer', between: [0, 65535] };
export const timeout: Field = { type: 'integer', between: [1, 2 ** 31 - 2], default: 60000 };

export const protocol: Field = {
  type: 'string',
  one_of: ['grpc', 'grpcs', 'http', 'https', 'tcp', 'tls', 'tls_passthrough', 'udp', 'ws', 'wss'],
};

/** An upstream path: absolute, no query or fragment. */
export const path: Field = {
  type: 'string',
  custom: (v: string) => {
    if (!v.startsWith('/')) return 'should start with: /';
    if (/[?#]/.test(v)) return 'must not have a query or fragment';
    if (/\/\/+/.test(v) && v !== '/') return 'must not have empty segments';
    return null;
  },
};

/** A route path: `/prefix` or `~` followed by a regular expression. */
export const routerPath: Field = {
  type: 'string',
  custom: (v: string) => {
    if (v.startsWith('~')) {
      try {
        new RegExp(v.slice(1));
        return null;
      } catch (err) {
        return `invalid regex: '${v.slice(1)}' (${(err as Error).message})`;
      }
    }
    if (!v.startsWith('/')) return 'should start with: / (fixed path) or ~/ (regex path)';
    if (/[?#]/.test(v)) return 'must not have a query or fragment';
    return null;
  },
};

export const method: Field = {
  type: 'string',
  match: /^[A-Z]+$/,
  match_err: 'invalid value: method names must be uppercase letters',
};

export const headerName: Field = {
  type: 'string',
  match: /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/,
  match_err: "bad header name, allowed characters are A-Z, a-z, 0-9, '_', and '-'",
};

export const sni: Field = {
  type: 'string',
  custom: (v: string) => (isIP(v) ? 'must not be an IP' : hostnameError(v, true)),
};

export const ip: Field = {
  type: 'string',
  custom: (v: string) => (isIP(v) ? null : `invalid ip address: ${v}`),
};

export const cidr: Field = {
  type: 'string',
  custom: (v: string) => {
    const [address, bits, ...rest] = v.split('/');
    const family = isIP(address ?? '');
    if (rest.length > 0 || family === 0) return `invalid ip or cidr range: '${v}'`;
    if (bits === undefined) return null;
    const n = Number(bits);
    const max = family === 4 ? 32 : 128;
    return /^\d+$/.test(bits) && n <= max ? null : `invalid ip or cidr range: '${v}'`;
  },
};

export const httpStatus: Field = { type: 'integer', between: [100, 999] };

export const pem: Field = { type: 'string', len_min: 1 };
