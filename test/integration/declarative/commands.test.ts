// The declarative and migrations commands through the real CLI: results, bad inputs, exit codes.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli.js';
import { writeClusterPolicyFile } from '../../helpers/plugin-config.js';
import { PG_BASE, tempSchema } from '../../helpers/postgres.js';
import { makeTempDir } from '../../helpers/tmp.js';

describe('hybrid config / migrations commands', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let conf: string;

  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir());
    conf = join(dir, 'kong.conf');
    writeFileSync(conf, `prefix = ${join(dir, 'prefix')}\ndatabase = sqlite\n`);
  });
  afterEach(async () => cleanup());

  it('config init writes a sample, refuses to overwrite it, --force replaces it', async () => {
    const file = join(dir, 'kong.yml');
    let r = await runCli(['config', 'init', file]);
    assert.equal(r.exitCode, 0, r.stderr);
    const sample = readFileSync(file, 'utf8');
    assert.match(sample, /_format_version: "3.0"/);
    writeFileSync(file, 'mine');
    r = await runCli(['config', 'init', file]);
    assert.equal(r.exitCode, 3);
    assert.match(r.stderr, /already exists/);
    assert.match(r.stderr, /--force/);
    assert.equal(readFileSync(file, 'utf8'), 'mine');
    r = await runCli(['config', 'init', file, '--force']);
    assert.equal(r.exitCode, 0);
    assert.equal(readFileSync(file, 'utf8'), sample);
  });

  it('config parse: valid file exit 0; invalid lists every path, exit 1; missing file exit 3; no file exit 2', async () => {
    const good = join(dir, 'good.yml');
    await runCli(['config', 'init', good]);
    let r = await runCli(['config', 'parse', good, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).entities.services, 1);
    const bad = join(dir, 'bad.yml');
    writeFileSync(
      bad,
      '_format_version: "3.0"\nservices:\n  - name: s\n    port: high\n    routes:\n      - paths: [nope]\n',
    );
    r = await runCli(['config', 'parse', bad]);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /services\[0\]\.port: expected an integer/);
    assert.match(r.stderr, /services\[0\]\.host: required field missing/);
    assert.match(r.stderr, /services\[0\]\.routes\[0\]\.paths\[0\]: should start with/);
    r = await runCli(['config', 'parse', join(dir, 'missing.yml')]);
    assert.equal(r.exitCode, 3);
    assert.match(r.stderr, /not found/);
    r = await runCli(['config', 'parse']);
    assert.equal(r.exitCode, 2);
  });

  it('db_import then db_export (SQLite in the prefix); a bad file changes nothing; re-import is a no-op', async () => {
    const file = join(dir, 'kong.yml');
    await runCli(['config', 'init', file]);
    let r = await runCli(['config', 'db_import', file, '-c', conf, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).created, 8);
    const out = join(dir, 'export.yml');
    r = await runCli(['config', 'db_export', out, '-c', conf]);
    assert.equal(r.exitCode, 0, r.stderr);
    const exported = readFileSync(out, 'utf8');
    assert.match(exported, /name: example-service/);

    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, '_format_version: "3.0"\nconsumers:\n  - username: new-user\n  - {}\n');
    r = await runCli(['config', 'db_import', bad, '-c', conf]);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /consumers\[1\]: at least one of these fields must be non-empty/);
    assert.match(r.stderr, /Nothing was imported/);

    r = await runCli(['config', 'db_import', file, '-c', conf, '--json']);
    assert.deepEqual(
      [JSON.parse(r.stdout).created, JSON.parse(r.stdout).updated, JSON.parse(r.stdout).version],
      [0, 0, 1],
    );
    r = await runCli(['config', 'db_export', out, '-c', conf]);
    assert.equal(r.exitCode, 3, 'refuses to overwrite');
    r = await runCli(['config', 'db_export', out, '-c', conf, '--force']);
    assert.equal(r.exitCode, 0);
    assert.equal(readFileSync(out, 'utf8'), exported, 'export is deterministic');
    r = await runCli(['config', 'db_export', '-c', conf, '--format', 'json']);
    assert.equal(JSON.parse(r.stdout)._format_version, '3.0');
    r = await runCli(['config', 'db_export', '-c', conf, '--format', 'toml']);
    assert.equal(r.exitCode, 2);
  });

  it("db_import validates plugins with the node's schemas: a control plane refuses rate-limiting's cluster policy", async () => {
    const file = writeClusterPolicyFile(dir);
    assert.equal((await runCli(['gen_cert'], { cwd: dir })).exitCode, 0);
    const cpConf = join(dir, 'cp.conf');
    writeFileSync(
      cpConf,
      [
        `prefix = ${join(dir, 'cp-prefix')}`,
        'role = control_plane',
        'database = sqlite',
        'cluster_cert = cluster.crt',
        'cluster_cert_key = cluster.key',
        '',
      ].join('\n'),
    );
    let r = await runCli(['config', 'db_import', file, '-c', cpConf]);
    assert.equal(r.exitCode, 1, r.stdout);
    assert.match(r.stderr, /policy: expected one of: local, redis/);
    assert.match(r.stderr, /Nothing was imported/);
    r = await runCli(['config', 'db_export', '-c', cpConf, '--format', 'json']);
    assert.equal(JSON.parse(r.stdout).plugins, undefined, 'no plugin stored');

    // A traditional node has a database for the counters: there the policy is accepted, as in Kong.
    r = await runCli(['config', 'db_import', file, '-c', conf, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).created, 1);
  });

  it('db_import with a missing config file or a data-plane config fails clearly', async () => {
    const file = join(dir, 'kong.yml');
    await runCli(['config', 'init', file]);
    let r = await runCli(['config', 'db_import', file, '-c', join(dir, 'nope.conf')]);
    assert.notEqual(r.exitCode, 0);
    assert.match(r.stderr, /nope\.conf/);
    r = await runCli(['config', 'db_import', file, '-c', conf], { env: { KONG_DATABASE: 'off' } });
    assert.notEqual(r.exitCode, 0);
    assert.match(r.stderr, /database 'off' has no store/);
  });

  it('migrations on PostgreSQL: status, bootstrap, bootstrap again, up; import needs a bootstrapped database', async () => {
    const { schema, drop } = tempSchema();
    const env = {
      KONG_DATABASE: 'postgres',
      KONG_PG_HOST: PG_BASE.host,
      KONG_PG_PORT: String(PG_BASE.port),
      KONG_PG_USER: PG_BASE.user,
      KONG_PG_DATABASE: PG_BASE.database,
      KONG_PG_SCHEMA: schema,
    };
    try {
      const file = join(dir, 'kong.yml');
      await runCli(['config', 'init', file]);
      let r = await runCli(['config', 'db_import', file, '-c', conf], { env });
      assert.equal(r.exitCode, 3);
      assert.match(r.stderr, /not been bootstrapped/);
      assert.match(r.stderr, /migrations bootstrap/);
      r = await runCli(['migrations', 'status', '-c', conf, '--json'], { env });
      assert.equal(r.exitCode, 1);
      assert.equal(JSON.parse(r.stdout).bootstrapped, false);
      r = await runCli(['migrations', 'up', '-c', conf], { env });
      assert.equal(r.exitCode, 3);
      r = await runCli(['migrations', 'bootstrap', '-c', conf], { env });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stdout, /bootstrapped/);
      r = await runCli(['migrations', 'bootstrap', '-c', conf], { env });
      assert.equal(r.exitCode, 3);
      assert.match(r.stderr, /already bootstrapped/);
      r = await runCli(['migrations', 'status', '-c', conf, '--json'], { env });
      assert.equal(r.exitCode, 0);
      assert.deepEqual(JSON.parse(r.stdout).pending, []);
      r = await runCli(['migrations', 'up', '-c', conf], { env });
      assert.equal(r.exitCode, 0);
      assert.match(r.stdout, /already up to date/);
      r = await runCli(['config', 'db_import', file, '-c', conf, '--json'], { env });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).created, 8);
      r = await runCli(['migrations', 'status', '-c', conf], {
        env: { ...env, KONG_PG_PORT: '1', KONG_PG_TIMEOUT: '2000' },
      });
      assert.equal(r.exitCode, 3);
      assert.match(r.stderr, /cannot open the database \(PostgreSQL at 127\.0\.0\.1:1\)/);
    } finally {
      await drop();
    }
  });
});
