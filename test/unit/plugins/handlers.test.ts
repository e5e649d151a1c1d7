// Which plugins a node runs: bundled handlers, custom plugins from plugins_path (schema registered, real
// version announced), and clear errors for a listed plugin that is missing or malformed.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import {
  BUNDLED_HANDLERS,
  PluginLoadError,
  definitionProblem,
  loadPlugins,
} from '../../../src/core/plugins/handlers.js';
import { BUNDLED_PLUGINS, pluginSchema } from '../../../src/core/plugins/registry.js';
import { PACKAGE_VERSION } from '../../../src/core/version.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/plugins', import.meta.url));
/** A node with a database of its own (the schemas as written). */
const NODE = { role: 'traditional', database: 'sqlite' } as const;

describe('plugin handlers', () => {
  it('bundled handlers carry the names, priorities and schemas Kong gives them', () => {
    const expected: Record<string, number> = {
      'key-auth': 1250,
      'correlation-id': 100001,
      'request-size-limiting': 951,
    };
    for (const [name, priority] of Object.entries(expected)) {
      const definition = BUNDLED_HANDLERS.get(name)!;
      assert.equal(definition.priority, priority);
      assert.equal(definition.schema, pluginSchema(name));
      assert.equal(definitionProblem(definition, name), null);
    }
    for (const name of BUNDLED_HANDLERS.keys()) assert.ok(BUNDLED_PLUGINS.includes(name));
  });

  it('`bundled` announces every bundled plugin; off announces none', async () => {
    const all = await loadPlugins({ ...NODE, plugins: ['bundled'], plugins_path: [] });
    assert.deepEqual(
      all.announced.map((p) => p.name),
      [...BUNDLED_PLUGINS],
    );
    assert.ok(all.announced.every((p) => p.version === PACKAGE_VERSION));
    assert.equal(all.definitions.get('key-auth'), BUNDLED_HANDLERS.get('key-auth'));
    const none = await loadPlugins({ ...NODE, plugins: ['off'], plugins_path: [] });
    assert.equal(none.announced.length, 0);
    assert.equal(none.definitions.size, 0);
  });

  it("validates with the node's schemas: a control plane or a DB-less node offers no rate-limiting 'cluster'", async () => {
    const policies = () => ({
      registry: pluginSchema('rate-limiting')!.config.policy!.one_of,
      runner: loaded.definitions.get('rate-limiting')!.schema.config.policy!.one_of,
    });
    let loaded = await loadPlugins({
      role: 'control_plane',
      database: 'sqlite',
      plugins: ['bundled'],
      plugins_path: [],
    });
    assert.deepEqual(policies(), { registry: ['local', 'redis'], runner: ['local', 'redis'] });
    loaded = await loadPlugins({
      role: 'data_plane',
      database: 'off',
      plugins: ['bundled'],
      plugins_path: [],
    });
    assert.deepEqual(policies(), { registry: ['local', 'redis'], runner: ['local', 'redis'] });
    loaded = await loadPlugins({
      role: 'traditional',
      database: 'off',
      plugins: ['bundled'],
      plugins_path: [],
    });
    assert.deepEqual(policies(), { registry: ['local', 'redis'], runner: ['local', 'redis'] });
    loaded = await loadPlugins({ ...NODE, plugins: ['bundled'], plugins_path: [] });
    assert.deepEqual(policies(), {
      registry: ['local', 'cluster', 'redis'],
      runner: ['local', 'cluster', 'redis'],
    });
    assert.equal(loaded.definitions.get('rate-limiting'), BUNDLED_HANDLERS.get('rate-limiting'));
  });

  it('loads a custom plugin from plugins_path, registers its schema and announces its own version', async () => {
    const loaded = await loadPlugins({
      ...NODE,
      plugins: ['key-auth', 'my-plugin'],
      plugins_path: ['/nonexistent', FIXTURES],
    });
    assert.deepEqual(loaded.announced, [
      { name: 'key-auth', version: PACKAGE_VERSION },
      { name: 'my-plugin', version: '1.2.3' },
    ]);
    const custom = loaded.definitions.get('my-plugin')!;
    assert.equal(custom.priority, 800);
    assert.equal(pluginSchema('my-plugin'), custom.schema);
  });

  it('refuses a listed plugin that is not found, naming it and the paths tried', async () => {
    await assert.rejects(
      loadPlugins({ ...NODE, plugins: ['bundled', 'ghost'], plugins_path: [FIXTURES] }),
      (err: PluginLoadError) => {
        assert.ok(err instanceof PluginLoadError);
        assert.equal(err.code, 'plugin_load_failed');
        assert.match(err.message, /plugin 'ghost' is listed in plugins but was not found/);
        assert.ok(err.message.includes(`${FIXTURES}/ghost/handler.js`));
        return true;
      },
    );
    await assert.rejects(
      loadPlugins({ ...NODE, plugins: ['ghost'], plugins_path: [] }),
      /plugins_path is not set/,
    );
  });

  it('refuses a malformed plugin and one whose module throws, naming the file', async () => {
    await assert.rejects(
      loadPlugins({ ...NODE, plugins: ['no-version'], plugins_path: [FIXTURES] }),
      new RegExp(`plugin 'no-version' at ${FIXTURES}/no-version/index.js is malformed: .version. must be`),
    );
    await assert.rejects(
      loadPlugins({ ...NODE, plugins: ['throws-on-import'], plugins_path: [FIXTURES] }),
      /plugin 'throws-on-import' could not be loaded from .*handler\.mjs: cannot load me/,
    );
  });

  it('names what is wrong with a definition', () => {
    const good = { name: 'x', version: '1', priority: 1, schema: { name: 'x', config: {} } };
    assert.equal(definitionProblem(good, 'x'), null);
    assert.match(definitionProblem(null, 'x')!, /not a plugin object/);
    assert.match(definitionProblem({ ...good, name: 'y' }, 'x')!, /its name is "y"/);
    assert.match(definitionProblem({ ...good, priority: 'high' }, 'x')!, /priority/);
    assert.match(definitionProblem({ ...good, schema: { name: 'x' } }, 'x')!, /schema.config/);
    assert.match(definitionProblem({ ...good, access: 'nope' }, 'x')!, /`access` must be a function/);
    assert.match(
      definitionProblem({ ...good, schema: { ...good.schema, forNode: 'dbless' } }, 'x')!,
      /`schema.forNode` must be a function/,
    );
  });
});
