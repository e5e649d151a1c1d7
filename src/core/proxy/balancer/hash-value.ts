// What consistent hashing hashes for a request: Kong's hash_on with its hash_fallback.
import { randomUUID } from 'node:crypto';
import type { BalancerPick, BalancerRequest, UpstreamEntity } from '../types.js';

export type HashCookie = NonNullable<BalancerPick['hashCookie']>;

export interface HashValue {
  value: string;
  /** The cookie to set when hashing on a cookie the client did not send. */
  cookie?: HashCookie;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq >= 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

type Source = 'primary' | 'fallback';

function identifier(
  on: string,
  upstream: UpstreamEntity,
  request: BalancerRequest,
  source: Source,
  newCookie: () => string,
): HashValue | undefined {
  switch (on) {
    case 'consumer': {
      const id = request.consumerId ?? request.credentialId;
      return id === undefined ? undefined : { value: id };
    }
    case 'ip':
      return { value: request.clientIp };
    case 'header': {
      const name = (source === 'primary' ? upstream.hash_on_header : upstream.hash_fallback_header) ?? '';
      const value = request.headers[name.toLowerCase()];
      if (value === undefined) return undefined;
      return { value: Array.isArray(value) ? value.join(', ') : value };
    }
    case 'cookie': {
      // The schema refuses cookie as a fallback, so this is always the primary source.
      const name = upstream.hash_on_cookie ?? '';
      const found = cookieValue(request.headers.cookie, name);
      if (found !== undefined) return { value: found };
      const value = newCookie();
      return { value, cookie: { name, value, path: upstream.hash_on_cookie_path ?? '/' } };
    }
    case 'path':
      return { value: request.path };
    case 'query_arg': {
      const name =
        (source === 'primary' ? upstream.hash_on_query_arg : upstream.hash_fallback_query_arg) ?? '';
      const values = request.query.getAll(name);
      if (values.length === 0) return undefined;
      // Kong sorts repeated arguments so their order does not change the target.
      return { value: values.length === 1 ? values[0]! : [...values].sort().join(',') };
    }
    case 'uri_capture': {
      const name =
        (source === 'primary' ? upstream.hash_on_uri_capture : upstream.hash_fallback_uri_capture) ?? '';
      const value = request.captures?.named[name];
      return value === undefined ? undefined : { value };
    }
    default:
      return undefined;
  }
}

/**
 * The value to hash: hash_on's, else hash_fallback's, else the empty string (as Kong: every request
 * without a key then lands on the same address).
 */
export function hashValue(
  upstream: UpstreamEntity,
  request: BalancerRequest,
  newCookie: () => string = randomUUID,
): HashValue {
  const on = upstream.hash_on ?? 'none';
  if (on === 'none') return { value: '' };
  const primary = identifier(on, upstream, request, 'primary', newCookie);
  if (primary) return primary;
  const fallback = upstream.hash_fallback ?? 'none';
  if (fallback === 'none') return { value: '' };
  return identifier(fallback, upstream, request, 'fallback', newCookie) ?? { value: '' };
}
