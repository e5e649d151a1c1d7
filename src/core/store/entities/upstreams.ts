// Upstreams: a virtual hostname balanced over targets, with Kong's hashing and health-check settings.
import type { ErrorTree, Field } from '../../schema/schema.js';
import { headerName, host, httpStatus } from '../../schema/typedefs.js';
import { baseFields, foreign, type EntityDefinition } from './definition.js';

const HASH_ON = ['none', 'consumer', 'ip', 'header', 'cookie', 'path', 'query_arg', 'uri_capture'];
const int = (def: number, between: [number, number]): Field => ({ type: 'integer', default: def, between });
const statuses = (def: number[]): Field => ({ type: 'array', default: def, elements: httpStatus });
const counter = (def = 0): Field => int(def, [0, 255]);
const seconds: Field = { type: 'number', default: 0, between: [0, 65535] };

const healthchecks: Field = {
  type: 'record',
  fields: {
    active: {
      type: 'record',
      fields: {
        type: { type: 'string', default: 'http', one_of: ['tcp', 'http', 'https', 'grpc', 'grpcs'] },
        timeout: { type: 'number', default: 1, between: [0, 65535] },
        concurrency: int(10, [1, 2 ** 31 - 1]),
        http_path: { type: 'string', default: '/', match: /^\//, match_err: 'should start with: /' },
        https_sni: host,
        https_verify_certificate: { type: 'boolean', default: true },
        headers: { type: 'map', keys: headerName, values: { type: 'array', elements: { type: 'string' } } },
        healthy: {
          type: 'record',
          fields: { interval: seconds, http_statuses: statuses([200, 302]), successes: counter() },
        },
        unhealthy: {
          type: 'record',
          fields: {
            interval: seconds,
            http_statuses: statuses([429, 404, 500, 501, 502, 503, 504, 505]),
            tcp_failures: counter(),
            timeouts: counter(),
            http_failures: counter(),
          },
        },
      },
    },
    passive: {
      type: 'record',
      fields: {
        type: { type: 'string', default: 'http', one_of: ['tcp', 'http', 'https', 'grpc', 'grpcs'] },
        healthy: {
          type: 'record',
          fields: {
            http_statuses: statuses([
              200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, 302, 303, 304, 305, 306, 307, 308,
            ]),
            successes: counter(),
          },
        },
        unhealthy: {
          type: 'record',
          fields: {
            http_statuses: statuses([429, 500, 503]),
            tcp_failures: counter(),
            timeouts: counter(),
            http_failures: counter(),
          },
        },
      },
    },
    threshold: { type: 'number', default: 0, between: [0, 100] },
  },
};

/** Kong's hashing rules: the chosen source needs its parameter; fallback only with a primary. */
function hashRules(row: Record<string, unknown>): ErrorTree | null {
  const errors: ErrorTree = {};
  const need: Record<string, string> = {
    header: 'header',
    cookie: 'cookie',
    query_arg: 'query_arg',
    uri_capture: 'uri_capture',
  };
  const on = row.hash_on as string;
  const fallback = row.hash_fallback as string;
  if (need[on] && !row[`hash_on_${need[on]}`]) errors[`hash_on_${need[on]}`] = 'required field missing';
  if (fallback !== 'none') {
    if (on === 'none') errors.hash_fallback = "expected one of: none (when 'hash_on' is 'none')";
    else if (fallback === on && on !== 'header' && on !== 'query_arg' && on !== 'uri_capture')
      errors.hash_fallback = `must not be equal to 'hash_on'`;
    const fb = need[fallback];
    if (fallback === 'cookie')
      errors.hash_fallback = 'expected one of: none, consumer, ip, header, path, query_arg, uri_capture';
    else if (fb && !row[`hash_fallback_${fb}`]) errors[`hash_fallback_${fb}`] = 'required field missing';
  }
  return Object.keys(errors).length > 0 ? errors : null;
}

export const upstreams: EntityDefinition = {
  name: 'upstreams',
  unique: ['name'],
  endpointKey: 'name',
  foreign: [{ field: 'client_certificate', reference: 'certificates', onDelete: 'restrict' }],
  schema: {
    name: 'upstreams',
    fields: baseFields({
      name: { ...host, required: true },
      algorithm: {
        type: 'string',
        default: 'round-robin',
        one_of: ['consistent-hashing', 'least-connections', 'round-robin', 'latency'],
      },
      hash_on: { type: 'string', default: 'none', one_of: HASH_ON },
      hash_fallback: { type: 'string', default: 'none', one_of: HASH_ON },
      hash_on_header: headerName,
      hash_fallback_header: headerName,
      hash_on_cookie: { type: 'string' },
      hash_on_cookie_path: { type: 'string', default: '/', match: /^\//, match_err: 'should start with: /' },
      hash_on_query_arg: { type: 'string', len_min: 1 },
      hash_fallback_query_arg: { type: 'string', len_min: 1 },
      hash_on_uri_capture: { type: 'string', len_min: 1 },
      hash_fallback_uri_capture: { type: 'string', len_min: 1 },
      slots: { type: 'integer', default: 10000, between: [10, 2 ** 16] },
      healthchecks,
      host_header: host,
      client_certificate: foreign('certificates'),
      use_srv_name: { type: 'boolean', default: false },
    }),
    checks: [hashRules],
  },
};
