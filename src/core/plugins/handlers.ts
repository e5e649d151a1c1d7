// The plugins a node runs: bundled handlers by name, and operators' own plugins loaded from `plugins_path`
// (their schemas registered, so a control plane's Admin API validates their config too).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { enabledPlugins, type HybridConfig } from '../config/index.js';
import { HybridError } from '../errors.js';
import { PACKAGE_VERSION } from '../version.js';
import type { PluginDefinition, PluginPhase } from './api.js';
import { BUNDLED_PLUGINS, pluginSchema, registerPluginSchema, useSchemasOf } from './registry.js';
import correlationId from './correlation-id/handler.js';
import cors from './cors/handler.js';
import ipRestriction from './ip-restriction/handler.js';
import keyAuth from './key-auth/handler.js';
import prometheus from './prometheus/handler.js';
import proxyCache from './proxy-cache/handler.js';
import rateLimiting from './rate-limiting/handler.js';
import requestSizeLimiting from './request-size-limiting/handler.js';
import requestTransformer from './request-transformer/handler.js';
import responseTransformer from './response-transformer/handler.js';

export type AnyPluginDefinition = PluginDefinition<Record<string, unknown>>;

const asAny = <C>(definition: PluginDefinition<C>) => definition as unknown as AnyPluginDefinition;

/** Bundled plugins that have a handler, by name. */
export const BUNDLED_HANDLERS: ReadonlyMap<string, AnyPluginDefinition> = new Map(
  [
    asAny(correlationId),
    asAny(cors),
    asAny(ipRestriction),
    asAny(keyAuth),
    asAny(prometheus),
    asAny(proxyCache),
    asAny(rateLimiting),
    asAny(requestSizeLimiting),
    asAny(requestTransformer),
    asAny(responseTransformer),
  ].map((d) => [d.name, d]),
);

/** Files tried, in order, inside `<dir>/<name>/`. */
export const CUSTOM_PLUGIN_FILES = ['handler.js', 'handler.mjs', 'index.js', 'index.mjs'] as const;

const PHASES: readonly PluginPhase[] = ['rewrite', 'access', 'header_filter', 'body_filter', 'log'];

/** A listed plugin that can't be loaded: the node does not start. */
export class PluginLoadError extends HybridError {
  constructor(message: string, hint: string) {
    super('plugin_load_failed', message, { hint });
  }
}

export interface LoadedPlugins {
  /** Every enabled plugin with a handler, by name. */
  definitions: ReadonlyMap<string, AnyPluginDefinition>;
  /** What basic_info announces: every enabled plugin and its version. */
  announced: { name: string; version: string }[];
}

/** What is wrong with a custom plugin module's default export, or null when it is a plugin named `name`. */
export function definitionProblem(value: unknown, name: string): string | null {
  if (typeof value !== 'object' || value === null) return 'its default export is not a plugin object';
  const d = value as Partial<AnyPluginDefinition>;
  if (d.name !== name) return `its name is ${JSON.stringify(d.name)}, not '${name}'`;
  if (typeof d.version !== 'string' || d.version === '') return '`version` must be a non-empty string';
  if (typeof d.priority !== 'number' || !Number.isFinite(d.priority)) return '`priority` must be a number';
  const schema = d.schema as { name?: unknown; config?: unknown; forNode?: unknown } | undefined;
  if (typeof schema !== 'object' || schema === null) return '`schema` is missing';
  if (schema.name !== name) return `schema.name must be '${name}'`;
  if (typeof schema.config !== 'object' || schema.config === null) return '`schema.config` must be an object';
  if (schema.forNode !== undefined && typeof schema.forNode !== 'function')
    return '`schema.forNode` must be a function';
  for (const phase of PHASES) {
    if (d[phase] !== undefined && typeof d[phase] !== 'function') return `\`${phase}\` must be a function`;
  }
  if (d.init !== undefined && typeof d.init !== 'function') return '`init` must be a function';
  return null;
}

async function loadCustomPlugin(name: string, dirs: readonly string[]): Promise<AnyPluginDefinition> {
  const tried: string[] = [];
  for (const dir of dirs) {
    for (const file of CUSTOM_PLUGIN_FILES) {
      const path = join(dir, name, file);
      tried.push(path);
      if (!existsSync(path)) continue;
      let module: { default?: unknown };
      try {
        module = (await import(pathToFileURL(path).href)) as { default?: unknown };
      } catch (err) {
        throw new PluginLoadError(
          `plugin '${name}' could not be loaded from ${path}: ${(err as Error).message}`,
          'Fix the module so that Node can import it.',
        );
      }
      const problem = definitionProblem(module.default, name);
      if (problem) {
        throw new PluginLoadError(
          `plugin '${name}' at ${path} is malformed: ${problem}`,
          'A plugin module default-exports { name, version, priority, schema: { name, config }, handlers } (see docs/plugins.md).',
        );
      }
      return module.default as AnyPluginDefinition;
    }
  }
  throw new PluginLoadError(
    dirs.length === 0
      ? `plugin '${name}' is listed in plugins but is not bundled and plugins_path is not set`
      : `plugin '${name}' is listed in plugins but was not found (tried ${tried.join(', ')})`,
    `Put the plugin in <dir>/${name}/handler.js under a directory of plugins_path, or remove it from plugins.`,
  );
}

/** The definition with the schema this node validates with (the runner checks each entity's config with it). */
function withNodeSchema(definition: AnyPluginDefinition): AnyPluginDefinition {
  const schema = pluginSchema(definition.name) ?? definition.schema;
  return schema === definition.schema ? definition : { ...definition, schema };
}

/** Kong's test for schemas that differ without a database: `database = off`, or a control plane. */
export function isDbless(config: Pick<HybridConfig, 'role' | 'database'>): boolean {
  return config.database === 'off' || config.role === 'control_plane';
}

/**
 * Loads the plugins `plugins` enables: bundled ones from this build, custom ones from `plugins_path` (their
 * schemas registered), with the schemas this node validates with. Throws PluginLoadError naming the plugin
 * and the path when one can't be loaded.
 */
export async function loadPlugins(
  config: Pick<HybridConfig, 'plugins' | 'plugins_path' | 'role' | 'database'>,
): Promise<LoadedPlugins> {
  useSchemasOf({ dbless: isDbless(config) });
  const definitions = new Map<string, AnyPluginDefinition>();
  const announced: { name: string; version: string }[] = [];
  for (const name of enabledPlugins(config, BUNDLED_PLUGINS)) {
    if (BUNDLED_PLUGINS.includes(name)) {
      const bundled = BUNDLED_HANDLERS.get(name);
      if (bundled) definitions.set(name, withNodeSchema(bundled));
      announced.push({ name, version: bundled?.version ?? PACKAGE_VERSION });
      continue;
    }
    const custom = await loadCustomPlugin(name, config.plugins_path);
    registerPluginSchema(custom.schema);
    definitions.set(name, withNodeSchema(custom));
    announced.push({ name, version: custom.version });
  }
  return { definitions, announced };
}
