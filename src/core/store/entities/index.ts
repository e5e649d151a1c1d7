// The entity catalogue, in dependency order (parents before children) — the order of import and export.
import type { EntityName } from '../types.js';
import { caCertificates, certificates, snis } from './certificates.js';
import { consumers } from './consumers.js';
import type { EntityDefinition } from './definition.js';
import { keyauthCredentials } from './keyauth-credentials.js';
import { plugins } from './plugins.js';
import { routes } from './routes.js';
import { services } from './services.js';
import { targets } from './targets.js';
import { upstreams } from './upstreams.js';

export type { EntityDefinition, ForeignKey } from './definition.js';

/** Parents first: creating in this order never references a missing row; delete in reverse. */
export const ENTITY_ORDER: readonly EntityName[] = [
  'certificates',
  'ca_certificates',
  'snis',
  'services',
  'routes',
  'consumers',
  'keyauth_credentials',
  'upstreams',
  'targets',
  'plugins',
];

export const ENTITIES: Readonly<Record<EntityName, EntityDefinition>> = {
  services,
  routes,
  consumers,
  plugins,
  upstreams,
  targets,
  certificates,
  snis,
  ca_certificates: caCertificates,
  keyauth_credentials: keyauthCredentials,
};

/** Entities whose foreign keys point at `parent`, with the rule that applies on delete. */
export function referencesTo(
  parent: EntityName,
): { entity: EntityName; field: string; onDelete: 'cascade' | 'restrict' }[] {
  const out: { entity: EntityName; field: string; onDelete: 'cascade' | 'restrict' }[] = [];
  for (const name of ENTITY_ORDER) {
    for (const fk of ENTITIES[name].foreign) {
      if (fk.reference === parent) out.push({ entity: name, field: fk.field, onDelete: fk.onDelete });
    }
  }
  return out;
}
