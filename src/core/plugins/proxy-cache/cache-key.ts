// proxy-cache's cache key: who asks (consumer and route), method, path, query and the configured headers.
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface CacheKeyInput {
  consumerId: string | null;
  routeId: string | null;
  /** `METHOD /path`, lowercased when ignore_uri_case is on. */
  uri: string;
  method: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  varyQueryParams: readonly string[] | null | undefined;
  varyHeaders: readonly string[] | null | undefined;
}

/** `name=value` parts joined by `:`; several values are sorted and joined by `,` (Kong's generate_key_from). */
function keyFrom(lookup: (name: string) => string | string[] | undefined, names: readonly string[]): string {
  const parts: string[] = [];
  for (const name of names) {
    const value = lookup(name);
    if (value === undefined) continue;
    parts.push(Array.isArray(value) ? `${name}=${[...value].sort().join(',')}` : `${name}=${value}`);
  }
  return parts.join(':');
}

/** Kong's prefix: `consumer:route` for an authenticated request on a route, the route alone, else `default`. */
export function keyPrefix(consumerId: string | null, routeId: string | null): string {
  if (consumerId && routeId) return `${consumerId}:${routeId}`;
  return routeId ?? 'default';
}

export function buildCacheKey(input: CacheKeyInput): string {
  const query = (name: string): string | string[] | undefined => {
    const values = input.query.getAll(name);
    if (values.length === 0) return undefined;
    return values.length === 1 ? values[0] : values;
  };
  // Without vary_query_params every argument counts, in name order; with it, those names in its order.
  const paramNames = input.varyQueryParams?.length
    ? input.varyQueryParams
    : [...new Set(input.query.keys())].sort();
  const params = keyFrom(query, paramNames);
  // Headers count only when vary_headers names them; a name matches whatever its case, `_` standing for `-`.
  const headers = input.varyHeaders?.length
    ? keyFrom((name) => input.headers[name.toLowerCase().replace(/_/g, '-')], input.varyHeaders)
    : '';
  const text = `${keyPrefix(input.consumerId, input.routeId)}|${input.method}|${input.uri}|${params}|${headers}`;
  return createHash('sha256').update(text).digest('hex');
}
