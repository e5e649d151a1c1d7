// Config tables of the shape a control plane sends (flat rows with ids and defaults), as large as a test needs.
import { createHash } from 'node:crypto';

/** A credential that must never appear in an encrypted cache's bytes. */
export const KNOWN_CREDENTIAL = 's3cr3t-cred-0001';

function id(name: string): string {
  const hex = createHash('md5').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** `routes` routes over `routes / 10` services, plus one consumer with a key-auth credential; `tag` marks every service. */
export function largeConfig(routes: number, tag = 'a'): Record<string, unknown> {
  const at = 1_700_000_000;
  const services = Array.from({ length: Math.max(1, Math.ceil(routes / 10)) }, (_, s) => ({
    id: id(`${tag}-service-${s}`),
    created_at: at,
    updated_at: at,
    name: `${tag}-service-${s}`,
    protocol: 'http',
    host: '127.0.0.1',
    port: 9000 + (s % 100),
    path: '/base',
    retries: 5,
    connect_timeout: 60000,
    write_timeout: 60000,
    read_timeout: 60000,
    enabled: true,
    tags: [tag],
  }));
  const routeRows = Array.from({ length: routes }, (_, r) => ({
    id: id(`${tag}-route-${r}`),
    created_at: at,
    updated_at: at,
    name: `${tag}-route-${r}`,
    protocols: ['http', 'https'],
    methods: ['GET', 'POST'],
    hosts: [`h${Math.floor(r / 10)}.example.com`],
    paths: [`/s${Math.floor(r / 10)}/r${r % 10}`],
    https_redirect_status_code: 426,
    regex_priority: 0,
    strip_path: true,
    path_handling: 'v0',
    preserve_host: false,
    request_buffering: true,
    response_buffering: true,
    service: { id: services[Math.floor(r / 10)]!.id },
  }));
  const consumer = { id: id(`${tag}-consumer`), created_at: at, username: `${tag}-consumer` };
  return {
    _format_version: '3.0',
    services,
    routes: routeRows,
    consumers: [consumer],
    keyauth_credentials: [
      { id: id(`${tag}-key`), created_at: at, key: KNOWN_CREDENTIAL, consumer: { id: consumer.id } },
    ],
  };
}
