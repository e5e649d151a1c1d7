// Plugins as tests give them: a config validated by the plugin's schema (as the control plane stores it), and
// plugin entities of a declarative configuration.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

let nextId = 0;

/** A plugin entity of a declarative configuration, each with its own id (in creation order). */
export function pluginRow(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `00000000-0000-4000-8000-${String(++nextId).padStart(12, '0')}`,
    name,
    enabled: true,
    protocols: ['http', 'https'],
    config: {},
    ...extra,
  };
}

/**
 * A declarative file with rate-limiting's `cluster` policy (counters in the node's database), which a node
 * without one (a data plane, a control plane) refuses; returns its path.
 */
export function writeClusterPolicyFile(dir: string): string {
  const file = join(dir, 'cluster-policy.yml');
  writeFileSync(
    file,
    [
      '_format_version: "3.0"',
      'plugins:',
      '  - name: rate-limiting',
      '    config: { minute: 5, policy: cluster }',
      '',
    ].join('\n'),
  );
  return file;
}
