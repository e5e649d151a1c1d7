// The entity lookups plugins use (consumers by id or username, key-auth credentials by key), indexed once
// per configuration version.
import type { DeclarativeConfig } from '../../proxy/types.js';
import type { ConsumerEntity, CredentialEntity, EntityLookup } from '../api.js';

const NONE: readonly Record<string, unknown>[] = [];

export function buildEntityLookup(config: DeclarativeConfig): EntityLookup {
  const consumers = new Map<string, ConsumerEntity>();
  const byUsername = new Map<string, ConsumerEntity>();
  for (const row of (config.consumers ?? []) as unknown as ConsumerEntity[]) {
    consumers.set(row.id, row);
    if (typeof row.username === 'string') byUsername.set(row.username, row);
  }
  const keys = new Map<string, CredentialEntity>();
  for (const row of (config.keyauth_credentials ?? []) as CredentialEntity[]) {
    if (typeof row.key === 'string') keys.set(row.key, row);
  }
  return {
    // Kong's anonymous lookup: an id first, then a username.
    consumer: (idOrUsername) => consumers.get(idOrUsername) ?? byUsername.get(idOrUsername) ?? null,
    keyAuthCredential: (key) => keys.get(key) ?? null,
    all: (entity) => {
      const rows = config[entity];
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : NONE;
    },
  };
}
