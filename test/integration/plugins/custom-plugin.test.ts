// A custom plugin end to end through real processes: a control plane and a data plane started by the CLI with
// `plugins = bundled,my-plugin` and plugins_path; the CP's Admin API validates the plugin's config, the DP runs it.
// A plugin listed but not found refuses the start with a clear message.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../helpers/cli.js';
import { adminCreate, ClusterNodes, nodeLog, proxyPort } from '../../helpers/cluster-nodes.js';
import { send, startEchoUpstream, type Echo, type Upstream } from '../../helpers/proxy.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/plugins', import.meta.url));

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

  it('refuses to start when a listed plugin is not found, naming it and where it was looked for', async () => {
    const dp = await nodes.dataPlane('dp-ghost', 1, [
      ...shared,
      'plugins = bundled,ghost-plugin',
      `plugins_path = ${FIXTURES}`,
    ]);
    const result = await runCli(['start', '-c', dp.conf, '-p', dp.prefix], { cwd: dir });
    assert.notEqual(result.exitCode, 0);
    const output = result.stderr + result.stdout;
    assert.match(output, /plugin 'ghost-plugin' is listed in plugins but was not found/);
    assert.ok(output.includes(join(FIXTURES, 'ghost-plugin', 'handler.js')), output);
  });
});
