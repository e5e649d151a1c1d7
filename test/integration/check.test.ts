// `hybrid check` as an operator runs it: valid, invalid (every error, exit 1), unreadable (exit 3), usage (exit 2), --json.
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';
import { writeSharedPair } from '../helpers/openssl-pki.js';
import { makeTempDir } from '../helpers/tmp.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
/** A clean environment: no KONG_* from the developer's shell leaks into the checks. */
const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };

describe('hybrid check', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    await writeSharedPair(dir);
    copyFileSync(join(EXAMPLES, 'dp-shared.conf'), join(dir, 'dp-shared.conf'));
  });
  after(() => cleanup());

  it('prints "configuration at <path> is valid" and exits 0, with warnings on stderr', async () => {
    writeFileSync(join(dir, 'warn.conf'), 'nginx_worker_processes = 4\n');
    const valid = await runCli(['check', join(dir, 'dp-shared.conf')], {
      env: ENV,
      extendEnv: false,
      cwd: dir,
    });
    assert.equal(valid.exitCode, 0, valid.stderr);
    assert.equal(valid.stdout.trim(), `configuration at ${join(dir, 'dp-shared.conf')} is valid`);
    assert.equal(valid.stderr, '');
    const warned = await runCli(['check', 'warn.conf'], { env: ENV, extendEnv: false, cwd: dir });
    assert.equal(warned.exitCode, 0);
    assert.match(warned.stdout, /is valid/);
    assert.match(
      warned.stderr,
      /Warning: nginx_worker_processes \(.*warn\.conf:1\): is a Kong setting Hybrid does not use/,
    );
  });

  it('prints every error with key, line and hint and exits 1', async () => {
    writeFileSync(
      join(dir, 'bad.conf'),
      [
        'role = data_plane',
        'proxy_listen = off',
        'cluster_max_payload = 100',
        'cluster_cert = nope.crt',
        'cluster_dp_labels = kong:x',
      ].join('\n'),
    );
    const r = await runCli(['check', 'bad.conf'], { env: ENV, extendEnv: false, cwd: dir });
    assert.equal(r.exitCode, 1);
    const file = join(dir, 'bad.conf');
    for (const line of [
      `Error: proxy_listen (${file}:2): must be specified when role = "data_plane"`,
      `Error: cluster_max_payload (${file}:3): must be 4194304 (4MB) or greater`,
      `Error: cluster_cert (${file}:4): failed loading certificate from ${join(dir, 'nope.crt')}: no such file`,
      `Error: cluster_dp_labels (${file}:5): label key validation failed: 'kong' uses the reserved prefix 'kong'`,
      'Error: cluster_cert_key (default): cluster certificate and key must be provided to use Hybrid mode (cluster_cert_key is not set)',
      'Error: database (default): only in-memory storage can be used when role = "data_plane"',
      '  Hint: Set database = off in your kong.conf (or KONG_DATABASE=off).',
      `configuration at ${file} is invalid (6 errors)`,
    ]) {
      assert.ok(r.stderr.includes(line), `missing line: ${line}\n--- stderr:\n${r.stderr}`);
    }
    assert.equal(r.stdout, '');
  });

  it('KONG_* variables override the file', async () => {
    const r = await runCli(['check', 'dp-shared.conf'], {
      env: { ...ENV, KONG_DATABASE: 'postgres' },
      extendEnv: false,
      cwd: dir,
    });
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /Error: database \(env KONG_DATABASE\): only in-memory storage can be used/);
  });

  it('--v also lists the settings that are not defaults, with their source, secrets masked', async () => {
    const r = await runCli(['check', 'dp-shared.conf', '--v'], {
      env: { ...ENV, KONG_PG_PASSWORD: 'hunter2' },
      extendEnv: false,
      cwd: dir,
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /is valid\nsettings \(not defaults\):\n/);
    assert.ok(r.stdout.includes(`  role = data_plane  (${join(dir, 'dp-shared.conf')}:4)`), r.stdout);
    assert.ok(r.stdout.includes('  pg_password = ******  (env KONG_PG_PASSWORD)'), r.stdout);
    assert.ok(!r.stdout.includes('hunter2'));
  });

  it('a missing file exits 3 and names it', async () => {
    const r = await runCli(['check', 'no-such.conf'], { env: ENV, extendEnv: false, cwd: dir });
    assert.equal(r.exitCode, 3);
    assert.match(
      r.stderr,
      new RegExp(`cannot read configuration file ${join(dir, 'no-such.conf')}: no such file`),
    );
  });

  it('without CONF and without ./kong.conf, checks the KONG_* environment and defaults', async () => {
    const empty = await makeTempDir();
    try {
      const r = await runCli(['check'], {
        env: {
          ...ENV,
          KONG_ROLE: 'control_plane',
          KONG_CLUSTER_CERT: join(dir, 'cluster.crt'),
          KONG_CLUSTER_CERT_KEY: join(dir, 'cluster.key'),
        },
        extendEnv: false,
        cwd: empty.dir,
      });
      // /etc/hybrid/kong.conf or /etc/kong/kong.conf would be read if present on this machine.
      if (!/configuration at \/etc\//.test(r.stdout + r.stderr)) {
        assert.equal(r.exitCode, 0, r.stderr);
        assert.equal(r.stdout.trim(), 'configuration at KONG_* environment and defaults is valid');
      }
    } finally {
      await empty.cleanup();
    }
  });

  it('an unknown flag or extra argument is a usage error (exit 2)', async () => {
    const flag = await runCli(['check', '--nope'], { env: ENV, extendEnv: false, cwd: dir });
    assert.equal(flag.exitCode, 2);
    const extra = await runCli(['check', 'a.conf', 'b.conf'], { env: ENV, extendEnv: false, cwd: dir });
    assert.equal(extra.exitCode, 2);
  });

  it('--json prints {valid, path, errors, warnings} on stdout with the same exit codes', async () => {
    const good = await runCli(['check', 'dp-shared.conf', '--json'], {
      env: ENV,
      extendEnv: false,
      cwd: dir,
    });
    assert.equal(good.exitCode, 0);
    assert.deepEqual(JSON.parse(good.stdout), {
      valid: true,
      path: join(dir, 'dp-shared.conf'),
      errors: [],
      warnings: [],
    });
    const bad = await runCli(['check', 'bad.conf', '--json'], { env: ENV, extendEnv: false, cwd: dir });
    assert.equal(bad.exitCode, 1);
    const body = JSON.parse(bad.stdout) as {
      valid: boolean;
      errors: { key: string; line?: number; source: string }[];
    };
    assert.equal(body.valid, false);
    assert.equal(body.errors.length, 6);
    assert.deepEqual(body.errors[0], {
      severity: 'error',
      code: 'config_rule',
      key: 'proxy_listen',
      message: 'must be specified when role = "data_plane"',
      hint: 'Set proxy_listen = 0.0.0.0:8000.',
      source: 'file',
      file: join(dir, 'bad.conf'),
      line: 2,
    });
    assert.equal(bad.stderr, '');
    const missing = await runCli(['check', 'no-such.conf', '--json'], {
      env: ENV,
      extendEnv: false,
      cwd: dir,
    });
    assert.equal(missing.exitCode, 3);
    assert.equal(JSON.parse(missing.stderr).error.code, 'config_file_unreadable');
  });
});
