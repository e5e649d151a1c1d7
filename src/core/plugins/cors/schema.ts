// cors: answer preflights and add Access-Control-* headers.
import { stringArray, type PluginSchema } from '../plugin-schema.js';

const METHODS = ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'];

/** Kong's validate_asterisk_or_regex: an origin is `*`, a literal or a regular expression. */
function asteriskOrRegex(value: string): string | null {
  if (value === '*') return null;
  try {
    new RegExp(value);
    return null;
  } catch {
    return `'${value}' is not a valid regex`;
  }
}

export const schema: PluginSchema = {
  name: 'cors',
  noConsumer: true,
  config: {
    origins: stringArray(undefined, { type: 'string', custom: asteriskOrRegex }),
    headers: stringArray(),
    exposed_headers: stringArray(),
    methods: stringArray(METHODS, { type: 'string', one_of: METHODS }),
    max_age: { type: 'number' },
    credentials: { type: 'boolean', required: true, default: false },
    private_network: { type: 'boolean', required: true, default: false },
    preflight_continue: { type: 'boolean', required: true, default: false },
    allow_origin_absent: { type: 'boolean', required: true, default: true },
  },
};
