// The store's entity schemas and the plugin registry, seen as the Admin API needs them (forms, /schemas).
import { BUNDLED_PLUGINS, pluginSchema, pluginSchemaJson } from '../plugins/registry.js';
import { schemaToJson } from '../schema/schema.js';
import { ENTITIES } from '../store/entities/index.js';
import type { EntityName } from '../store/types.js';
import type { AdminSchemaSource } from './entities.js';
import type { SchemaDocuments } from './info.js';

const isEntity = (name: string): name is EntityName => Object.prototype.hasOwnProperty.call(ENTITIES, name);

/** Schemas from the store's entity catalogue and the plugin registry (custom plugins included). */
export const storeSchemas: AdminSchemaSource & SchemaDocuments = {
  entityFields: (entity) => ENTITIES[entity]?.schema.fields,
  pluginConfigFields: (plugin) => pluginSchema(plugin)?.config,
  entity: (name) => (isEntity(name) ? schemaToJson(ENTITIES[name].schema) : undefined),
  plugin: (name) => pluginSchemaJson(name),
};

/** The plugins this build can run, for `/` and `/plugins/enabled`. */
export function bundledPlugins(version: string): Record<string, { version: string }> {
  return Object.fromEntries([...BUNDLED_PLUGINS].sort().map((name) => [name, { version }]));
}
