// The shape of a plugin's schema: its `config` fields plus where it may be applied.
import type { EntityCheck, Field } from '../schema/schema.js';

/**
 * What a schema may depend on about the node that validates with it, as Kong's schemas read
 * kong.configuration when they load: a node without a database of its own (`database = off`, or a control
 * plane, whose data planes have none) is `dbless`.
 */
export interface SchemaNode {
  dbless: boolean;
}

export interface PluginSchema {
  name: string;
  /** Kong's `config` record fields, names and defaults as in Kong. */
  config: Record<string, Field>;
  /** Checks across config fields; errors are reported under `config`. */
  checks?: EntityCheck[];
  /** Rewrites legacy field names (e.g. rate-limiting's `redis_host`) before validation. */
  prepare?: (config: Record<string, unknown>) => Record<string, unknown>;
  /** Kong's typedefs.no_consumer / no_route / no_service. */
  noConsumer?: boolean;
  noRoute?: boolean;
  noService?: boolean;
  /** Default `protocols` of plugins of this kind. */
  protocols?: string[];
  /** The schema as `node` validates it, when that differs (this schema is a node with a database's). */
  forNode?: (node: SchemaNode) => PluginSchema;
}

export const stringArray = (defaultValue?: string[], elements: Field = { type: 'string' }): Field => ({
  type: 'array',
  elements,
  ...(defaultValue ? { default: defaultValue } : {}),
});

/** "at least one of" inside a plugin config; Kong names the fields with their `config.` path. */
export function configAtLeastOneOf(...fields: string[]): EntityCheck {
  return (config) =>
    fields.some(
      (f) =>
        config[f] !== null &&
        config[f] !== undefined &&
        !(Array.isArray(config[f]) && (config[f] as unknown[]).length === 0),
    )
      ? null
      : {
          '@entity': [
            `at least one of these fields must be non-empty: ${fields.map((f) => `'config.${f}'`).join(', ')}`,
          ],
        };
}
