// A custom plugin end to end through real processes: a control plane and a data plane started by the CLI with
// `plugins = bundled,my-plugin` and plugins_path; the CP's Admin API validates the plugin's config, the DP runs it.
// A plugin listed but not found refuses the start with a clear message. A data plane whose release of the
// plugin has another major (or a newer minor) gets no configuration: plugin_version_incompatible.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../helpers/cli.js';
import {
  adminCreate,
  ClusterNodes,
  cpHash,
  dpStatus,
  nodeLog,
  proxyPort,
  type ControlPlane,
  type DataPlane,
} from '../../helpers/cluster-nodes.js';
import { send, startEchoUpstream, type Echo, type Upstream } from '../../helpers/proxy.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/plugins', import.meta.url));
/** my-plugin re-exported with other versions: major-2 (2.0.0), minor-newer (1.3.0), minor-older (1.1.0). */
const VERSIONED = fileURLToPath(new URL('../../fixtures/plugins-versions', import.meta.url));
const EMPTY_HASH = '0'.repeat(32);

interface DataPlaneItem {
  id: string;
  status: string;
  sync_status: string;
  config_hash: string | null;
}

describe('custom plugins (real CP and DP processes)', function () {
  this.timeout(90_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let nodes: ClusterNodes;
  let upstream: Upstream;
  let shared: string[];

  before(async () => {
    ({ dir, cleanup } = await makeTempDir('hybrid-custom-plugin-'));
    nodes = new ClusterNodes(dir);
    assert.equal((await runCli(['gen_cert', 'shared.crt', 'shared.key'], { cwd: dir })).exitCode, 0);
    shared = ['cluster_cert = shared.crt', 'cluster_cert_key = shared.key'];
    upstream = await startEchoUpstream();
  });
  afterEach(async () => nodes.stopAll());
  after(async () => {
    await upstream.close();
    await cleanup();
  });

  it('is validated by the control plane and run by the data plane', async () => {
    const pluginLines = ['plugins = bundled,my-plugin', `plugins_path = ${FIXTURES}`];
    const cp = await nodes.controlPlane('cp', [...shared, ...pluginLines]);
    await nodes.start(cp);
    const dp = await nodes.dataPlane('dp', cp.cluster, [...shared, ...pluginLines]);
    await nodes.start(dp);

    const admin = `http://127.0.0.1:${cp.admin}`;
    const info = (await (await fetch(`${admin}/`)).json()) as {
      plugins: { available_on_server: Record<string, { version: string }> };
    };
    assert.deepEqual(info.plugins.available_on_server['my-plugin'], { version: '1.2.3' });

    await adminCreate(cp, '/services', { name: 'echo', url: `http://127.0.0.1:${upstream.port}` });
    await adminCreate(cp, '/services/echo/routes', { name: 'custom', paths: ['/custom'] });
    // The CP checks the config against the plugin's own schema.
    const refused = await fetch(`${admin}/plugins`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'my-plugin', config: { block_status: 200 } }),
    });
    assert.equal(refused.status, 400);
    assert.deepEqual(((await refused.json()) as { fields: unknown }).fields, {
      config: { block_status: 'value should be between 400 and 599' },
    });
    const created = await fetch(`${admin}/plugins`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'my-plugin', config: { greeting: 'hi from the plugin' } }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const plugin = (await created.json()) as { id: string; config: Record<string, unknown> };
    assert.equal(plugin.config.block_status, 403);

    const port = proxyPort(dp);
    const reply = await waitUntil(
      async () => {
        const r = await send(port, { path: '/custom/x' });
        return r.status === 200 && r.headers['x-my-plugin'] ? r : null;
      },
      { timeoutMs: 30_000, message: 'the data plane running my-plugin' },
    );
    assert.equal(reply.headers['x-my-plugin'], plugin.id);
    assert.equal((JSON.parse(reply.text) as Echo).headers['x-greeting'], 'hi from the plugin');
    const blocked = await send(port, { path: '/custom/x', headers: { 'x-block': 'yes' } });
    assert.equal(blocked.status, 403);
    assert.deepEqual(JSON.parse(blocked.text), { message: 'blocked by my-plugin' });
    assert.equal(blocked.headers['x-my-plugin'], plugin.id);
    assert.doesNotMatch(nodeLog(cp), /plugin_set_incompatible/);
  });

  it('gives no configuration to a data plane whose plugin has another major or a newer minor (plugin_version_incompatible)', async () => {
    const cp = await nodes.controlPlane('cp-versions', [
      ...shared,
      'plugins = bundled,my-plugin',
      `plugins_path = ${FIXTURES}`,
    ]);
    await nodes.start(cp);
    const empty = await waitUntil(() => cpHash(cp), { message: 'first config version' });
    await adminCreate(cp, '/services', { name: 'echo', url: `http://127.0.0.1:${upstream.port}` });
    await adminCreate(cp, '/services/echo/routes', { name: 'custom', paths: ['/custom'] });
    await adminCreate(cp, '/plugins', { name: 'my-plugin', config: { greeting: 'versioned' } });
    await waitUntil(() => cpHash(cp) !== empty, { message: 'my-plugin is in the configuration' });

    const variant = (release: string) => [
      ...shared,
      'plugins = bundled,my-plugin',
      `plugins_path = ${join(VERSIONED, release)}`,
    ];
    const major = await nodes.dataPlane('dp-major-2', cp.cluster, variant('major-2'));
    const newer = await nodes.dataPlane('dp-minor-newer', cp.cluster, variant('minor-newer'));
    const older = await nodes.dataPlane('dp-minor-older', cp.cluster, variant('minor-older'));
    await Promise.all([nodes.start(major), nodes.start(newer), nodes.start(older)]);

    // An older minor is configured; the CP only notes the difference.
    await waitUntil(async () => (await dpStatus(older)).hash === cpHash(cp), {
      timeoutMs: 30_000,
      message: 'the DP with my-plugin 1.1.0 synced',
    });
    const reply = await send(proxyPort(older), { path: '/custom/x' });
    assert.equal((JSON.parse(reply.text) as Echo).headers['x-greeting'], 'versioned');
    assert.match(
      nodeLog(cp),
      /\[info\].*data plane my-plugin plugin version 1\.1\.0 is different to control plane plugin version 1\.2\.3/,
    );

    const rows = await waitUntil(
      async () => {
        const page = (await (await fetch(`http://127.0.0.1:${cp.admin}/clustering/data-planes`)).json()) as {
          data: DataPlaneItem[];
        };
        const byId = new Map(page.data.map((row) => [row.id, row]));
        const [m, n, o] = [major, newer, older].map((dp) => byId.get(nodeId(dp)));
        return m?.sync_status === 'plugin_version_incompatible' &&
          n?.sync_status === 'plugin_version_incompatible' &&
          o?.sync_status === 'normal'
          ? { m: m, n: n }
          : null;
      },
      { timeoutMs: 30_000, message: 'sync_status of the three data planes in /clustering/data-planes' },
    );
    assert.equal(rows.m.status, 'connected', 'the connection stays');
    assert.equal(rows.n.status, 'connected');
    await logged(
      cp,
      new RegExp(
        `data plane ${nodeId(major)}: plugin_version_incompatible: configured plugin my-plugin 2\\.0\\.0 \\(control plane has 1\\.2\\.3\\)`,
      ),
    );
    await logged(
      cp,
      new RegExp(
        `data plane ${nodeId(newer)}: plugin_version_incompatible: configured plugin my-plugin 1\\.3\\.0 \\(control plane has 1\\.2\\.3\\)`,
      ),
    );
    assert.match(
      nodeLog(cp),
      /\[warn\].*data plane my-plugin plugin version 2\.0\.0 is different to control plane/,
    );
    for (const dp of [major, newer]) {
      assert.equal((await dpStatus(dp)).hash, EMPTY_HASH, 'no configuration was pushed');
      assert.equal((await send(proxyPort(dp), { path: '/custom/x' })).status, 404);
      assert.doesNotMatch(nodeLog(dp), /disconnected/);
    }

    // Once the plugin is no longer configured, its version no longer matters.
    const plugins = (await (await fetch(`http://127.0.0.1:${cp.admin}/plugins`)).json()) as {
      data: { id: string }[];
    };
    const removed = await fetch(`http://127.0.0.1:${cp.admin}/plugins/${plugins.data[0]!.id}`, {
      method: 'DELETE',
    });
    assert.equal(removed.status, 204);
    await waitUntil(
      async () => (await dpStatus(major)).hash !== EMPTY_HASH && (await dpStatus(major)).hash === cpHash(cp),
      { timeoutMs: 30_000, message: 'the DP with my-plugin 2.0.0 configured once my-plugin is not' },
    );
  });

  it('refuses to start when a listed plugin is not found, naming it and where it was looked for', async () => {
    const dp = await nodes.dataPlane('dp-ghost', 1, [
      ...shared,
      'plugins = bundled,ghost-plugin',
      `plugins_path = ${FIXTURES}`,
    ]);
    const result = await nodes.tryStart(dp);
    assert.notEqual(result.exitCode, 0);
    const output = result.stderr + result.stdout;
    assert.match(output, /plugin 'ghost-plugin' is listed in plugins but was not found/);
    assert.ok(output.includes(join(FIXTURES, 'ghost-plugin', 'handler.js')), output);
  });
});

/** A node's id, as it persisted it in its prefix. */
function nodeId(dp: DataPlane): string {
  return readFileSync(join(dp.prefix, 'node.id'), 'utf8').trim();
}

function logged(cp: ControlPlane, pattern: RegExp): Promise<unknown> {
  return waitUntil(() => pattern.test(nodeLog(cp)), {
    timeoutMs: 30_000,
    message: `CP log matching ${pattern}`,
  });
}
