// Plugins: a plugin instance, global or scoped to a service, route and/or consumer; config checked by its plugin's schema.
import { validate, type ErrorTree } from '../../schema/schema.js';
import { name, protocol } from '../../schema/typedefs.js';
import { pluginSchema } from '../../plugins/registry.js';
import { baseFields, foreign, type EntityDefinition } from './definition.js';

const idOf = (v: unknown) => (v as { id?: string } | null)?.id ?? null;

function refinePlugin(row: Record<string, unknown>): { row: Record<string, unknown>; errors?: ErrorTree } {
  const schema = pluginSchema(row.name as string);
  if (!schema)
    return {
      row,
      errors: {
        name: `plugin '${String(row.name)}' not enabled; add it to the 'plugins' configuration property`,
      },
    };
  const errors: ErrorTree = {};
  if (schema.noConsumer && row.consumer !== null) errors.consumer = 'value must be null';
  if (schema.noRoute && row.route !== null) errors.route = 'value must be null';
  if (schema.noService && row.service !== null) errors.service = 'value must be null';
  const rawConfig = (row.config ?? {}) as Record<string, unknown>;
  const result = validate(
    { name: schema.name, fields: schema.config, checks: schema.checks },
    schema.prepare && typeof rawConfig === 'object' && !Array.isArray(rawConfig)
      ? schema.prepare(rawConfig)
      : rawConfig,
  );
  if (!result.ok) return { row, errors: { ...errors, config: result.errors } };
  if (Object.keys(errors).length > 0) return { row, errors };
  const protocols = row.protocols ?? schema.protocols ?? ['grpc', 'grpcs', 'http', 'https'];
  return { row: { ...row, config: result.value, protocols } };
}

export const plugins: EntityDefinition = {
  name: 'plugins',
  unique: ['instance_name'],
  endpointKey: 'instance_name',
  foreign: [
    { field: 'route', reference: 'routes', onDelete: 'cascade' },
    { field: 'service', reference: 'services', onDelete: 'cascade' },
    { field: 'consumer', reference: 'consumers', onDelete: 'cascade' },
  ],
  cacheKey: (row) =>
    `plugins:${String(row.name)}:${idOf(row.route) ?? ''}:${idOf(row.service) ?? ''}:${idOf(row.consumer) ?? ''}`,
  cacheKeyFields: ['consumer', 'name', 'route', 'service'],
  refine: refinePlugin,
  schema: {
    name: 'plugins',
    fields: baseFields({
      name: { type: 'string', required: true },
      instance_name: name,
      route: foreign('routes'),
      service: foreign('services'),
      consumer: foreign('consumers'),
      config: { type: 'record' },
      protocols: { type: 'set', len_min: 1, elements: protocol },
      enabled: { type: 'boolean', required: true, default: true },
    }),
  },
};
