// ip-restriction: allow or deny clients by IP address or CIDR range.
import { cidr } from '../../schema/typedefs.js';
import { configAtLeastOneOf, stringArray, type PluginSchema } from '../plugin-schema.js';

export const schema: PluginSchema = {
  name: 'ip-restriction',
  protocols: ['http', 'https', 'tcp', 'tls', 'grpc', 'grpcs'],
  config: {
    allow: stringArray(undefined, cidr),
    deny: stringArray(undefined, cidr),
    status: { type: 'number' },
    message: { type: 'string' },
  },
  checks: [configAtLeastOneOf('allow', 'deny')],
};
