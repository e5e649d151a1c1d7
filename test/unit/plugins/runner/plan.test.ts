// The plugin plan of a configuration version: handlers by phase, entries worked out per route ahead of
// requests, and entities without any handler left off a route's plugins.
import assert from 'node:assert/strict';
import { definePlugin, type PluginDefinition } from '../../../../src/core/plugins/api.js';
import {
  PHASE_ACCESS,
  PHASE_LOG,
  PROTOCOL_HTTP,
  PROTOCOL_HTTPS,
  buildPluginPlan,
  handles,
  type PluginPlan,
} from '../../../../src/core/plugins/runner/plan.js';
import type { DeclarativeConfig } from '../../../../src/core/proxy/types.js';
import { pluginRow } from '../../../helpers/plugin-config.js';

type AnyDefinition = PluginDefinition<Record<string, unknown>>;

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const schema = (name: string) => ({ name, config: { on: { type: 'boolean' as const, default: true } } });

/** A plugin with an access handler. */
const gate = definePlugin<Record<string, unknown>>({
  name: 'gate',
  version: '1.0.0',
  priority: 20,
  schema: schema('gate'),
  access() {},
});

/** A plugin whose instance logs only when its config says so (as prometheus with nothing to record). */
const meter = definePlugin<Record<string, unknown>>({
  name: 'meter',
  version: '1.0.0',
  priority: 10,
  schema: schema('meter'),
  init: ({ config }) => (config.on ? { log() {}, close() {} } : { close() {} }),
});

const row = pluginRow;

function config(
  plugins: Record<string, unknown>[],
  extra: Partial<DeclarativeConfig> = {},
): DeclarativeConfig {
  return {
    _format_version: '3.0',
    services: [{ id: 'svc-1', protocol: 'http', host: '127.0.0.1', port: 9 }],
    routes: [
      { id: 'route-1', protocols: ['http', 'https'], paths: ['/one'], service: { id: 'svc-1' } },
      { id: 'route-2', protocols: ['http', 'https'], paths: ['/two'], service: { id: 'svc-1' } },
    ],
    plugins,
    ...extra,
  } as DeclarativeConfig;
}

const plan = (doc: DeclarativeConfig): Promise<PluginPlan> =>
  buildPluginPlan(doc, {
    definitions: new Map<string, AnyDefinition>([
      ['gate', gate],
      ['meter', meter],
    ]),
    log: quiet,
    node: { id: 'n', version: '0' },
  });

describe('plugin plan', () => {
  it("reads each entry's handlers once, from its instance when init made one, with their phase bits", async () => {
    const p = await plan(config([row('gate'), row('meter')]));
    const [gateEntry, meterEntry] = p.entries;
    assert.equal(gateEntry!.on.access, gate.access);
    assert.equal(gateEntry!.phases, PHASE_ACCESS);
    assert.ok(handles(gateEntry!, 'access') && !handles(gateEntry!, 'log'));
    assert.equal(meterEntry!.on.log, (meterEntry!.instance as { log: unknown }).log);
    assert.equal(meterEntry!.phases, PHASE_LOG);
    assert.equal(meterEntry!.on.access, null);
    await p.close();
  });

  it('works out the entries of a route per request protocol when no consumer can change them', async () => {
    const p = await plan(config([row('gate', { protocols: ['https'] }), row('meter')]));
    const fixed = p.forRoute('route-1')!.fixed!;
    assert.deepEqual(
      fixed[PROTOCOL_HTTP]!.map((e) => e.name),
      ['meter'],
    );
    assert.deepEqual(
      fixed[PROTOCOL_HTTPS]!.map((e) => e.name),
      ['gate', 'meter'],
    );
    await p.close();
  });

  it('leaves them to each request when a plugin has a consumer scope', async () => {
    const p = await plan(
      config([row('gate'), row('meter', { consumer: { id: 'c-1' } })], {
        consumers: [{ id: 'c-1', username: 'alice' }],
      }),
    );
    const plugins = p.forRoute('route-1')!;
    assert.equal(plugins.fixed, null);
    assert.deepEqual(
      plugins.slots.map((s) => s.name),
      ['gate', 'meter'],
    );
    await p.close();
  });

  it('a route whose only plugin has no handler at all takes the plugin-free path', async () => {
    const p = await plan(config([row('meter', { config: { on: false } })]));
    assert.equal(p.forRoute('route-1'), null);
    assert.equal(p.unrouted, null);
    // The entity still exists: its instance is closed with the version.
    assert.equal(p.entries.length, 1);
    await p.close();
  });

  it('an entity without handlers still overrides a less specific one of its plugin on its route', async () => {
    const p = await plan(
      config([
        row('meter', { config: { on: true } }),
        row('meter', { route: { id: 'route-1' }, config: { on: false } }),
      ]),
    );
    // Route 1's own meter records nothing, so nothing runs there; the global one does not step in.
    assert.equal(p.forRoute('route-1'), null);
    const other = p.forRoute('route-2')!;
    assert.deepEqual(
      other.fixed![PROTOCOL_HTTP]!.map((e) => e.config.on),
      [true],
    );
    await p.close();
  });
});
