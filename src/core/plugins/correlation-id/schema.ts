// correlation-id: tag each request with a unique id header, optionally echoed to the client.
import { headerName } from '../../schema/typedefs.js';
import type { PluginSchema } from '../plugin-schema.js';

export const schema: PluginSchema = {
  name: 'correlation-id',
  config: {
    header_name: { ...headerName, default: 'Kong-Request-ID' },
    generator: {
      type: 'string',
      required: true,
      default: 'uuid#counter',
      one_of: ['uuid', 'uuid#counter', 'tracker'],
    },
    echo_downstream: { type: 'boolean', required: true, default: false },
  },
};
