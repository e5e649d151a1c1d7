// The plugins this build knows: their schemas by name, and the JSON for /schemas/plugins/{name}.
import { schemaToJson, type Field } from '../schema/schema.js';
import type { PluginSchema, SchemaNode } from './plugin-schema.js';
import { schema as correlationId } from './correlation-id/schema.js';
import { schema as cors } from './cors/schema.js';
import { schema as ipRestriction } from './ip-restriction/schema.js';
import { schema as keyAuth } from './key-auth/schema.js';
import { schema as prometheus } from './prometheus/schema.js';
import { schema as proxyCache } from './proxy-cache/schema.js';
import { schema as rateLimiting } from './rate-limiting/schema.js';
import { schema as requestSizeLimiting } from './request-size-limiting/schema.js';
import { schema as requestTransformer } from './request-transformer/schema.js';
import { schema as responseTransformer } from './response-transformer/schema.js';

export type { PluginSchema } from './plugin-schema.js';

const schemas = new Map<string, PluginSchema>(
  [
    keyAuth,
    rateLimiting,
    proxyCache,
    cors,
    ipRestriction,
    requestTransformer,
    responseTransformer,
    correlationId,
    requestSizeLimiting,
    prometheus,
  ].map((s) => [s.name, s]),
);

/** Names of the plugins shipped with this build (kong.conf `plugins = bundled`). */
export const BUNDLED_PLUGINS: readonly string[] = [...schemas.keys()];

/** The node schemas are for; a node with a database until the node says otherwise (useSchemasOf). */
let node: SchemaNode = { dbless: false };

/**
 * Makes every schema the one `running` validates with (Kong evaluates its schemas with the node's
 * configuration): the Admin API, declarative files and the plugin runner of this process then agree.
 */
export function useSchemasOf(running: SchemaNode): void {
  node = { ...running };
}

/** A plugin's schema as this node validates with it. */
export function pluginSchema(name: string): PluginSchema | undefined {
  const schema = schemas.get(name);
  return schema?.forNode?.(node) ?? schema;
}

/** Adds a custom plugin's schema (the plugin API); a bundled name cannot be replaced. */
export function registerPluginSchema(schema: PluginSchema): void {
  if (schemas.has(schema.name) && BUNDLED_PLUGINS.includes(schema.name))
    throw new Error(`plugin '${schema.name}' is bundled and cannot be replaced`);
  schemas.set(schema.name, schema);
}

/** Kong's GET /schemas/plugins/{name} body: the whole plugin entity with its config record. */
export function pluginSchemaJson(name: string): { fields: unknown[] } | undefined {
  const schema = pluginSchema(name);
  if (!schema) return undefined;
  const fields: Record<string, Field> = {
    consumer: { type: 'foreign', reference: 'consumers' },
    route: { type: 'foreign', reference: 'routes' },
    service: { type: 'foreign', reference: 'services' },
    protocols: {
      type: 'set',
      required: true,
      default: schema.protocols ?? ['grpc', 'grpcs', 'http', 'https'],
      elements: {
        type: 'string',
        one_of: ['grpc', 'grpcs', 'http', 'https', 'tcp', 'tls', 'tls_passthrough', 'udp', 'ws', 'wss'],
      },
    },
    enabled: { type: 'boolean', required: true, default: true },
    config: { type: 'record', required: true, fields: schema.config },
  };
  return schemaToJson({ fields });
}
