// cors: answer preflights and add Access-Control-* headers.
import { stringArray, type PluginSchema } from '../plugin-schema.js';

const METHODS = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'];

export const schema: PluginSchema = {
  name: 'cors',
  noConsumer: true,
  config: {
    origins: stringArray(),
    headers: stringArray(),
    exposed_headers: stringArray(),
    methods: stringArray(METHODS, { type: 'string', one_of: METHODS }),
    max_age: { type: 'number' },
    credentials: { type: 'boolean', required: true, default: false },
    private_network: { type: 'boolean', required: true, default: false },
    preflight_continue: { type: 'boolean', required: true, default: false },
  },
};
