// key-auth: authenticate consumers by an API key in a header, query string or body.
import { headerName } from '../../schema/typedefs.js';
import { stringArray, type PluginSchema } from '../plugin-schema.js';

export const schema: PluginSchema = {
  name: 'key-auth',
  noConsumer: true,
  config: {
    key_names: { ...stringArray(['apikey'], headerName), required: true, len_min: 1 },
    hide_credentials: { type: 'boolean', required: true, default: false },
    anonymous: { type: 'string' },
    key_in_header: { type: 'boolean', required: true, default: true },
    key_in_query: { type: 'boolean', required: true, default: true },
    key_in_body: { type: 'boolean', required: true, default: false },
    run_on_preflight: { type: 'boolean', required: true, default: true },
    realm: { type: 'string' },
  },
};
