// proxy-cache: cache upstream responses in memory by method, status and content type.
import { httpStatus } from '../../schema/typedefs.js';
import { stringArray, type PluginSchema } from '../plugin-schema.js';

export const schema: PluginSchema = {
  name: 'proxy-cache',
  config: {
    response_code: {
      type: 'array',
      len_min: 1,
      required: true,
      default: [200, 301, 404],
      elements: httpStatus,
    },
    request_method: {
      ...stringArray(['GET', 'HEAD'], { type: 'string', one_of: ['HEAD', 'GET', 'POST', 'PATCH', 'PUT'] }),
      required: true,
      len_min: 1,
    },
    content_type: { ...stringArray(['text/plain', 'application/json']), required: true, len_min: 1 },
    cache_ttl: { type: 'integer', gt: 0, default: 300 },
    strategy: { type: 'string', required: true, one_of: ['memory'] },
    cache_control: { type: 'boolean', required: true, default: false },
    ignore_uri_case: { type: 'boolean', default: false },
    storage_ttl: { type: 'integer' },
    memory: {
      type: 'record',
      required: true,
      fields: {
        dictionary_name: { type: 'string', required: true, default: 'kong_db_cache' },
        // Not in Kong, whose memory strategy is an nginx shared dict sized in nginx.conf (kong_db_cache: 128m).
        dictionary_size_mb: {
          type: 'integer',
          default: 128,
          between: [1, 65536],
          description:
            'Bound of the in-memory cache named by dictionary_name, in MiB; least recently used entries are dropped to stay under it.',
        },
      },
    },
    vary_query_params: stringArray(),
    vary_headers: stringArray(),
    response_headers: {
      type: 'record',
      required: true,
      fields: {
        age: { type: 'boolean', default: true },
        'X-Cache-Status': { type: 'boolean', default: true },
        'X-Cache-Key': { type: 'boolean', default: true },
      },
    },
  },
};
