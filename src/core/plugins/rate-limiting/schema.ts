// rate-limiting: count requests per second…year and refuse beyond the limits (local or Redis counters).
import { headerName, host, port } from '../../schema/typedefs.js';
import type { Field } from '../../schema/schema.js';
import { configAtLeastOneOf, type PluginSchema } from '../plugin-schema.js';

const limit = { type: 'number' as const, gt: 0 };
const PERIODS = ['second', 'minute', 'hour', 'day', 'month', 'year'] as const;
const LEGACY_REDIS = [
  'host',
  'port',
  'password',
  'username',
  'database',
  'timeout',
  'ssl',
  'ssl_verify',
  'server_name',
];

/**
 * `cluster` keeps counters in the node's own database, so, as in Kong, a node without one (a data plane, a
 * DB-less node) and a control plane (whose data planes have none) do not offer it: their Admin API and
 * declarative files refuse it with `expected one of: local, redis`.
 */
const dblessPolicy: Field = { type: 'string', default: 'local', one_of: ['local', 'redis'] };

export const schema: PluginSchema = {
  name: 'rate-limiting',
  config: {
    second: limit,
    minute: limit,
    hour: limit,
    day: limit,
    month: limit,
    year: limit,
    limit_by: {
      type: 'string',
      default: 'consumer',
      one_of: ['consumer', 'credential', 'ip', 'service', 'header', 'path', 'consumer-group'],
    },
    header_name: headerName,
    path: { type: 'string', match: /^\//, match_err: 'should start with: /' },
    policy: { type: 'string', default: 'local', one_of: ['local', 'cluster', 'redis'] },
    fault_tolerant: { type: 'boolean', required: true, default: true },
    redis: {
      type: 'record',
      required: true,
      fields: {
        host,
        port: { ...port, default: 6379 },
        username: { type: 'string' },
        password: { type: 'string' },
        database: { type: 'integer', default: 0 },
        timeout: { type: 'integer', between: [0, 2 ** 31 - 2], default: 2000 },
        ssl: { type: 'boolean', required: true, default: false },
        ssl_verify: { type: 'boolean', required: true, default: false },
        server_name: host,
      },
    },
    hide_client_headers: { type: 'boolean', required: true, default: false },
    error_code: { type: 'number', default: 429, gt: 0 },
    error_message: { type: 'string', default: 'API rate limit exceeded' },
    sync_rate: { type: 'number', required: true, default: -1 },
  },
  // Kong 3.x still accepts the flat `redis_host`-style fields of older guides.
  prepare: (config) => {
    const out = { ...config };
    for (const key of LEGACY_REDIS) {
      const legacy = `redis_${key}`;
      if (legacy in out) {
        const value = out[legacy];
        delete out[legacy];
        if (value === null || value === undefined) continue;
        const redis = (typeof out.redis === 'object' && out.redis !== null ? out.redis : {}) as Record<
          string,
          unknown
        >;
        out.redis = { ...redis, [key]: value };
      }
    }
    return out;
  },
  checks: [
    configAtLeastOneOf(...PERIODS),
    (config) => {
      const set = PERIODS.filter((p) => typeof config[p] === 'number');
      for (let i = 1; i < set.length; i++) {
        const smaller = set[i - 1]!;
        const larger = set[i]!;
        if ((config[smaller] as number) > (config[larger] as number))
          return {
            [larger]: `The limit for ${larger}(${config[larger]}) cannot be lower than the limit for ${smaller}(${config[smaller]})`,
          };
      }
      return null;
    },
    (config) =>
      config.policy === 'redis' && !(config.redis as { host?: unknown }).host
        ? { redis: { host: 'required field missing' } }
        : null,
    (config) =>
      config.limit_by === 'header' && !config.header_name ? { header_name: 'required field missing' } : null,
    (config) => (config.limit_by === 'path' && !config.path ? { path: 'required field missing' } : null),
  ],
  forNode: ({ dbless }) =>
    dbless ? { ...schema, config: { ...schema.config, policy: dblessPolicy } } : schema,
};
