// key-auth credentials: a consumer's API keys; a key is generated when none is given.
import { randomBytes } from 'node:crypto';
import { baseFields, foreign, type EntityDefinition } from './definition.js';

export const keyauthCredentials: EntityDefinition = {
  name: 'keyauth_credentials',
  unique: ['key'],
  endpointKey: 'key',
  foreign: [{ field: 'consumer', reference: 'consumers', onDelete: 'cascade' }],
  prepare: (input) =>
    input.key === undefined || input.key === null
      ? { input: { ...input, key: randomBytes(16).toString('hex') } }
      : { input },
  schema: {
    name: 'keyauth_credentials',
    fields: baseFields(
      {
        consumer: foreign('consumers', true),
        key: { type: 'string', required: true, len_min: 1 },
        ttl: { type: 'integer' },
      },
      { updatedAt: false },
    ),
  },
};
