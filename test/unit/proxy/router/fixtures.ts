// Small builders for router tests: routes, services and requests with Kong's defaults filled in.
import type { IncomingHttpHeaders } from 'node:http';
import type { RouteEntity, RouteRequest, ServiceEntity } from '../../../../src/core/proxy/types.js';

let sequence = 0;

/** A route with Kong's defaults (protocols http+https, strip_path true, preserve_host false). */
export function route(fields: Partial<RouteEntity> & { id?: string } = {}): RouteEntity {
  sequence += 1;
  return {
    id: `route-${sequence}`,
    protocols: ['http', 'https'],
    strip_path: true,
    preserve_host: false,
    path_handling: 'v0',
    ...fields,
  };
}

export function service(fields: Partial<ServiceEntity> & { id: string }): ServiceEntity {
  return { protocol: 'http', host: 'upstream.test', port: 80, ...fields };
}

/**
 * A request as the proxy hands it over. `host` may carry a port (`a.test:8000`), which then also becomes the
 * raw Host header; otherwise the port defaults to the protocol's.
 */
export function request(
  fields: Partial<Omit<RouteRequest, 'host' | 'headers'>> & {
    host?: string;
    /** Repeated headers as arrays, as a client may send them. */
    headers?: Record<string, string | string[]>;
  } = {},
): RouteRequest {
  const protocol = fields.protocol ?? 'http';
  const hostHeader = fields.host ?? 'example.test';
  const colon = hostHeader.lastIndexOf(':');
  const hasPort = colon > 0 && /^\d+$/.test(hostHeader.slice(colon + 1)) && !hostHeader.endsWith(']');
  return {
    method: 'GET',
    path: '/',
    sni: protocol === 'https' ? hostHeader.replace(/:\d+$/, '') : undefined,
    ...fields,
    protocol,
    host: (hasPort ? hostHeader.slice(0, colon) : hostHeader).toLowerCase(),
    port: fields.port ?? (hasPort ? Number(hostHeader.slice(colon + 1)) : protocol === 'https' ? 443 : 80),
    headers: { host: hostHeader, ...fields.headers } as IncomingHttpHeaders,
  };
}
