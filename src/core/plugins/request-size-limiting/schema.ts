// request-size-limiting: refuse request bodies above a size.
import type { PluginSchema } from '../plugin-schema.js';

export const schema: PluginSchema = {
  name: 'request-size-limiting',
  config: {
    allowed_payload_size: { type: 'integer', required: true, default: 128 },
    size_unit: {
      type: 'string',
      required: true,
      default: 'megabytes',
      one_of: ['megabytes', 'kilobytes', 'bytes'],
    },
    require_content_length: { type: 'boolean', required: true, default: false },
  },
};
