// Routes: which requests match (Kong's traditional router fields) and the service they go to.
import type { ErrorTree } from '../../schema/schema.js';
import {
  cidr,
  headerName,
  method,
  name,
  port,
  protocol,
  routerPath,
  sni,
  wildcardHost,
} from '../../schema/typedefs.js';
import { baseFields, foreign, type EntityDefinition } from './definition.js';

const isSet = (v: unknown) =>
  v !== null &&
  v !== undefined &&
  !(Array.isArray(v) && v.length === 0) &&
  !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);
const quoteList = (names: string[]) => names.map((n) => `'${n}'`).join(', ');

const endpoint = { type: 'record' as const, fields: { ip: cidr, port } };

/** Kong's per-protocol "must set one of …" rule and the SNI/protocol rule. */
function routeMatchRule(row: Record<string, unknown>): ErrorTree | null {
  const protocols = (row.protocols as string[]) ?? [];
  const tlsLike = ['grpcs', 'https', 'tls', 'tls_passthrough', 'wss'];
  if (isSet(row.snis) && !protocols.some((p) => tlsLike.includes(p)))
    return {
      snis: "'snis' can only be set when 'protocols' is 'grpcs', 'https', 'tls', 'tls_passthrough', or 'wss'",
    };
  let fields: string[];
  let label: string;
  if (protocols.includes('https') || protocols.includes('http')) {
    label = protocols.includes('https') ? 'https' : 'http';
    fields = ['methods', 'hosts', 'headers', 'paths', ...(label === 'https' ? ['snis'] : [])];
  } else if (protocols.includes('grpc') || protocols.includes('grpcs')) {
    label = protocols.includes('grpcs') ? 'grpcs' : 'grpc';
    fields = ['hosts', 'headers', 'paths', ...(label === 'grpcs' ? ['snis'] : [])];
  } else if (protocols.includes('ws') || protocols.includes('wss')) {
    label = protocols.includes('wss') ? 'wss' : 'ws';
    fields = ['hosts', 'headers', 'paths', ...(label === 'wss' ? ['snis'] : [])];
  } else {
    label = protocols.join("', '");
    fields = ['sources', 'destinations', 'snis'];
  }
  if (fields.some((f) => isSet(row[f]))) return null;
  return { '@entity': [`must set one of ${quoteList(fields)} when 'protocols' is '${label}'`] };
}

function protocolFamilies(row: Record<string, unknown>): ErrorTree | null {
  const families = [
    ['http', 'https'],
    ['tcp', 'tls', 'udp'],
    ['tls_passthrough'],
    ['grpc', 'grpcs'],
    ['ws', 'wss'],
  ];
  const protocols = (row.protocols as string[]) ?? [];
  const used = families.filter((family) => family.some((p) => protocols.includes(p)));
  return used.length > 1
    ? {
        protocols: `these sets are mutually exclusive: ${used.map((f) => `('${f.join("', '")}')`).join(', ')}`,
      }
    : null;
}

export const routes: EntityDefinition = {
  name: 'routes',
  unique: ['name'],
  endpointKey: 'name',
  foreign: [{ field: 'service', reference: 'services', onDelete: 'restrict' }],
  schema: {
    name: 'routes',
    fields: baseFields({
      name,
      protocols: { type: 'set', required: true, len_min: 1, elements: protocol, default: ['http', 'https'] },
      methods: { type: 'set', elements: method },
      hosts: { type: 'array', elements: wildcardHost },
      paths: { type: 'array', elements: routerPath },
      headers: {
        type: 'map',
        keys: {
          ...headerName,
          custom: (v: string) =>
            v.toLowerCase() === 'host'
              ? "cannot contain 'host' header, which must be specified in the 'hosts' attribute"
              : null,
        },
        values: { type: 'array', len_min: 1, elements: { type: 'string' } },
      },
      https_redirect_status_code: {
        type: 'integer',
        required: true,
        default: 426,
        one_of: [426, 301, 302, 307, 308],
      },
      regex_priority: { type: 'integer', default: 0 },
      strip_path: { type: 'boolean', required: true, default: true },
      path_handling: { type: 'string', default: 'v0', one_of: ['v0', 'v1'] },
      preserve_host: { type: 'boolean', required: true, default: false },
      request_buffering: { type: 'boolean', required: true, default: true },
      response_buffering: { type: 'boolean', required: true, default: true },
      snis: { type: 'set', elements: sni },
      sources: { type: 'set', elements: endpoint },
      destinations: { type: 'set', elements: endpoint },
      service: foreign('services'),
    }),
    checks: [protocolFamilies, routeMatchRule],
  },
};
