// Consumers: the clients credentials and plugins can be attached to.
import { atLeastOneOf, baseFields, type EntityDefinition } from './definition.js';

export const consumers: EntityDefinition = {
  name: 'consumers',
  unique: ['username', 'custom_id'],
  endpointKey: 'username',
  foreign: [],
  schema: {
    name: 'consumers',
    fields: baseFields({
      username: { type: 'string', len_min: 1 },
      custom_id: { type: 'string', len_min: 1 },
    }),
    checks: [atLeastOneOf('custom_id', 'username')],
  },
};
