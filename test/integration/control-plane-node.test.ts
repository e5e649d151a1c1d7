// A control plane started through the CLI: its store (SQLite, PostgreSQL) behind the Admin API on admin_listen.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { ClusterNodes, type ControlPlane } from '../helpers/cluster-nodes.js';
import { pgConfLines, tempSchema } from '../helpers/postgres.js';
import { makeTempDir } from '../helpers/tmp.js';

describe('control plane node', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let nodes: ClusterNodes;
  let made = 0;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    nodes = new ClusterNodes(dir);
    assert.equal((await runCli(['gen_cert'], { cwd: dir })).exitCode, 0);
  });

  afterEach(async () => nodes.stopAll());

  after(async () => cleanup());

  /** A control plane of its own (prefix and kong.conf) on the gen_cert pair, with `extra` lines. */
  const controlPlane = (extra: string[] = []): Promise<ControlPlane> =>
    nodes.controlPlane(`cp-${++made}`, [
      'cluster_cert = cluster.crt',
      'cluster_cert_key = cluster.key',
      ...extra,
    ]);

  it('serves the Admin API on its embedded SQLite store, which survives a restart', async () => {
    const cp = await controlPlane();
    const started = await nodes.start(cp);
    assert.match(started.stdout, new RegExp(`admin http://127\\.0\\.0\\.1:${cp.admin}`));
    const admin = `http://127.0.0.1:${cp.admin}`;
    const created = await fetch(`${admin}/services`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=example_service&url=http://127.0.0.1:9/anything',
    });
    assert.equal(created.status, 201);
    const info = (await (await fetch(`${admin}/`)).json()) as { node_id: string };
    assert.equal(existsSync(join(cp.prefix, 'hybrid.sqlite')), true);

    assert.equal((await runCli(['restart', '-c', cp.conf, '-p', cp.prefix], { cwd: dir })).exitCode, 0);
    const again = await fetch(`${admin}/services/example_service`);
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { host: string }).host, '127.0.0.1');
    assert.equal(((await (await fetch(`${admin}/`)).json()) as { node_id: string }).node_id, info.node_id);
  });

  describe('on PostgreSQL', () => {
    let db: ReturnType<typeof tempSchema>;
    beforeEach(() => (db = tempSchema()));
    afterEach(async () => db.drop());

    it('refuses to start on a database that was never bootstrapped, saying what to run', async () => {
      const cp = await controlPlane(pgConfLines(db.schema));
      const result = await nodes.tryStart(cp);
      assert.notEqual(result.exitCode, 0);
      assert.match(result.stderr, /has not been bootstrapped/);
      assert.match(result.stderr, /migrations bootstrap/);
      assert.equal(existsSync(join(cp.prefix, 'pids', 'hybrid.pid')), false);
    });

    it('starts with --run-migrations and serves writes from the shared database', async () => {
      const cp = await controlPlane(pgConfLines(db.schema));
      await nodes.start(cp, {}, ['--run-migrations']);
      const created = await fetch(`http://127.0.0.1:${cp.admin}/consumers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice' }),
      });
      assert.equal(created.status, 201);
      const status = await runCli(['migrations', 'status', '-c', cp.conf, '--json'], { cwd: dir });
      assert.equal(status.exitCode, 0, status.stderr);
      assert.equal(JSON.parse(status.stdout).bootstrapped, true);
    });
  });
});
