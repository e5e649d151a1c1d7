// A control plane started through the CLI: its store (SQLite, PostgreSQL) behind the Admin API on admin_listen.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { PG_BASE, tempSchema } from '../helpers/postgres.js';
import { freePort, makeTempDir } from '../helpers/tmp.js';

describe('control plane node', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let prefix: string;
  let adminPort: number;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    assert.equal((await runCli(['gen_cert'], { cwd: dir })).exitCode, 0);
  });

  beforeEach(async () => {
    prefix = join(dir, `cp-${Math.random().toString(36).slice(2, 8)}`);
    adminPort = await freePort();
  });

  afterEach(async () => {
    if (existsSync(join(prefix, 'pids', 'hybrid.pid'))) await runCli(['stop', '-p', prefix]);
  });

  after(async () => cleanup());

  async function writeConf(extra: string[] = []): Promise<string> {
    const conf = join(dir, 'cp.conf');
    writeFileSync(
      conf,
      [
        'role = control_plane',
        'cluster_cert = cluster.crt',
        'cluster_cert_key = cluster.key',
        `admin_listen = 127.0.0.1:${adminPort}`,
        `cluster_listen = 127.0.0.1:${await freePort()}`,
        `cluster_telemetry_listen = 127.0.0.1:${await freePort()}`,
        ...extra,
        '',
      ].join('\n'),
    );
    return conf;
  }

  it('serves the Admin API on its embedded SQLite store, which survives a restart', async () => {
    const conf = await writeConf();
    const started = await runCli(['start', '-c', conf, '-p', prefix], { cwd: dir });
    assert.equal(started.exitCode, 0, started.stderr);
    assert.match(started.stdout, new RegExp(`admin http://127\\.0\\.0\\.1:${adminPort}`));
    const admin = `http://127.0.0.1:${adminPort}`;
    const created = await fetch(`${admin}/services`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=example_service&url=http://127.0.0.1:9/anything',
    });
    assert.equal(created.status, 201);
    const info = (await (await fetch(`${admin}/`)).json()) as { node_id: string };
    assert.equal(existsSync(join(prefix, 'hybrid.sqlite')), true);

    assert.equal((await runCli(['restart', '-c', conf, '-p', prefix], { cwd: dir })).exitCode, 0);
    const again = await fetch(`${admin}/services/example_service`);
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { host: string }).host, '127.0.0.1');
    assert.equal(((await (await fetch(`${admin}/`)).json()) as { node_id: string }).node_id, info.node_id);
  });

  describe('on PostgreSQL', () => {
    let db: ReturnType<typeof tempSchema>;
    beforeEach(() => (db = tempSchema()));
    afterEach(async () => db.drop());

    const pgKeys = () => [
      'database = postgres',
      `pg_host = ${PG_BASE.host}`,
      `pg_port = ${PG_BASE.port}`,
      `pg_user = ${PG_BASE.user}`,
      `pg_database = ${PG_BASE.database}`,
      `pg_schema = ${db.schema}`,
    ];

    it('refuses to start on a database that was never bootstrapped, saying what to run', async () => {
      const conf = await writeConf(pgKeys());
      const result = await runCli(['start', '-c', conf, '-p', prefix], { cwd: dir });
      assert.notEqual(result.exitCode, 0);
      assert.match(result.stderr, /has not been bootstrapped/);
      assert.match(result.stderr, /migrations bootstrap/);
      assert.equal(existsSync(join(prefix, 'pids', 'hybrid.pid')), false);
    });

    it('starts with --run-migrations and serves writes from the shared database', async () => {
      const conf = await writeConf(pgKeys());
      const result = await runCli(['start', '-c', conf, '-p', prefix, '--run-migrations'], { cwd: dir });
      assert.equal(result.exitCode, 0, result.stderr);
      const created = await fetch(`http://127.0.0.1:${adminPort}/consumers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice' }),
      });
      assert.equal(created.status, 201);
      const status = await runCli(['migrations', 'status', '-c', conf, '--json'], { cwd: dir });
      assert.equal(status.exitCode, 0, status.stderr);
      assert.equal(JSON.parse(status.stdout).bootstrapped, true);
    });
  });
});
