// A plugin's config as the control plane stores it: validated by the plugin's schema, defaults filled.
import { validate } from '../../src/core/schema/schema.js';
import type { PluginSchema } from '../../src/core/plugins/plugin-schema.js';

export function pluginConfig<Config>(schema: PluginSchema, input: Record<string, unknown>): Config {
  const result = validate(
    { name: schema.name, fields: schema.config, checks: schema.checks },
    schema.prepare ? schema.prepare(input) : input,
  );
  if (!result.ok) throw new Error(`invalid ${schema.name} config: ${JSON.stringify(result.errors)}`);
  return result.value as Config;
}
