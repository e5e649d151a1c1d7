// loadConfig on real files: search paths, unreadable files, loadValidConfig, the examples and the seed's env-only forms.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ConfigInvalidError,
  findConfigFile,
  formatProblem,
  loadConfig,
  loadValidConfig,
  renderConfigReference,
} from '../../../src/core/config/index.js';
import { ExitCode, FileError } from '../../../src/core/errors.js';
import { writePkiSet, writeSharedPair } from '../../helpers/openssl-pki.js';
import { makeTempDir } from '../../helpers/tmp.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));
const DOCS = fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url));

describe('config load', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    await writeSharedPair(dir);
    await writePkiSet(dir);
  });
  after(() => cleanup());

  it('reads the given file relative to cwd and reports its absolute path', () => {
    writeFileSync(join(dir, 'a.conf'), 'log_level = debug\n');
    const loaded = loadConfig({ path: 'a.conf', cwd: dir, env: {} });
    assert.equal(loaded.path, join(dir, 'a.conf'));
    assert.equal(loaded.config.log_level, 'debug');
    assert.equal(loaded.valid, true);
    assert.deepEqual([loaded.errors, loaded.warnings], [[], []]);
  });

  it('a given file that cannot be read is a FileError (exit 3) naming the file', () => {
    assert.throws(
      () => loadConfig({ path: 'missing.conf', cwd: dir, env: {} }),
      (err: unknown) =>
        err instanceof FileError &&
        err.exitCode === ExitCode.environment &&
        err.code === 'config_file_unreadable' &&
        err.path === join(dir, 'missing.conf') &&
        err.message === `cannot read configuration file ${join(dir, 'missing.conf')}: no such file`,
    );
    assert.throws(() => loadConfig({ path: dir, env: {} }), /is a directory/);
  });

  it('without a path, uses the first existing search path, else only env and defaults', async () => {
    const empty = await makeTempDir();
    try {
      assert.equal(findConfigFile(empty.dir, ['kong.conf', join(dir, 'a.conf')]), join(dir, 'a.conf'));
      writeFileSync(join(empty.dir, 'kong.conf'), 'log_level = warn\n');
      const found = loadConfig({ cwd: empty.dir, env: {} });
      assert.equal(found.path, join(empty.dir, 'kong.conf'));
      assert.equal(found.config.log_level, 'warn');
      const none = loadConfig({ cwd: empty.dir, env: { KONG_LOG_LEVEL: 'error' }, searchPaths: [] });
      assert.equal(none.path, null);
      assert.equal(none.config.log_level, 'error');
    } finally {
      await empty.cleanup();
    }
  });

  it('sorts problems: file lines in order, then environment, then defaults', () => {
    writeFileSync(join(dir, 'b.conf'), 'role = data_plane\nproxy_listen = off\nlog_level = x\n');
    const { errors } = loadConfig({ path: join(dir, 'b.conf'), env: { KONG_PG_PORT: 'abc' } });
    assert.deepEqual(
      errors.map((p) => [p.key, p.source]),
      [
        ['proxy_listen', 'file'],
        ['log_level', 'file'],
        ['pg_port', 'env'],
        ['cluster_cert', 'default'],
        ['cluster_cert_key', 'default'],
        ['database', 'default'],
      ],
    );
  });

  it('loadValidConfig throws ConfigInvalidError (exit 1) listing every error; returns warnings when valid', () => {
    writeFileSync(join(dir, 'c.conf'), 'role = control_plane\ncluster_listen = off\n');
    try {
      loadValidConfig({ path: join(dir, 'c.conf'), env: {} });
      assert.fail('expected a throw');
    } catch (err) {
      assert.ok(err instanceof ConfigInvalidError);
      assert.equal(err.exitCode, ExitCode.invalid);
      assert.equal(err.code, 'config_invalid');
      assert.equal(err.problems.length, 3);
      assert.match(err.message, /^invalid configuration at .*c\.conf \(3 errors\):\n/);
      assert.match(
        err.message,
        /- cluster_listen \(.*c\.conf:2\): must be specified when role = "control_plane"/,
      );
      assert.match(err.message, /- cluster_cert \(default\): cluster certificate and key must be provided/);
      assert.match(err.hint!, /hybrid check .*c\.conf/);
    }
    writeFileSync(join(dir, 'd.conf'), 'nginx_worker_processes = 2\n');
    const ok = loadValidConfig({ path: join(dir, 'd.conf'), env: {} });
    assert.equal(ok.warnings.length, 1);
  });

  it('formatProblem prints key, location, message and hint', () => {
    assert.equal(
      formatProblem({
        severity: 'error',
        code: 'config_rule',
        key: 'database',
        message: 'only in-memory storage can be used when role = "data_plane"',
        hint: 'Set database = off.',
        source: 'file',
        file: '/etc/kong/kong.conf',
        line: 7,
      }),
      'Error: database (/etc/kong/kong.conf:7): only in-memory storage can be used when role = "data_plane"\n  Hint: Set database = off.',
    );
    assert.equal(
      formatProblem({
        severity: 'warning',
        code: 'x',
        key: 'foo',
        message: 'unknown key, ignored',
        source: 'env',
        env: 'KONG_FOO',
      }),
      'Warning: foo (env KONG_FOO): unknown key, ignored',
    );
  });

  describe('the examples (seed configs) load', () => {
    for (const name of ['cp-shared.conf', 'dp-shared.conf', 'cp-pki.conf', 'dp-pki.conf']) {
      it(`examples/${name} is valid next to its certificates`, () => {
        copyFileSync(join(EXAMPLES, name), join(dir, name));
        const loaded = loadConfig({ path: join(dir, name), env: {} });
        assert.deepEqual(loaded.problems, []);
        assert.equal(loaded.config.role, name.startsWith('cp') ? 'control_plane' : 'data_plane');
        assert.equal(loaded.config.cluster_mtls, name.includes('pki') ? 'pki' : 'shared');
        assert.match(loaded.config.cluster_cert!.pem, /BEGIN CERTIFICATE/);
        assert.match(loaded.config.cluster_cert_key!.pem, /PRIVATE KEY/);
      });
    }

    it('an example without its certificates reports the missing files', () => {
      const loaded = loadConfig({ path: join(EXAMPLES, 'dp-pki.conf'), env: {} });
      assert.deepEqual(
        loaded.errors.map((p) => p.key),
        ['cluster_cert', 'cluster_cert_key', 'cluster_ca_cert'],
      );
      assert.ok(loaded.errors.every((p) => /no such file/.test(p.message) && p.line !== undefined));
    });
  });

  describe("the seed's KONG_* environment forms load without a file", () => {
    const load = (env: Record<string, string>) => loadConfig({ env, cwd: dir, searchPaths: [] });

    it('control plane, shared', () => {
      const l = load({
        KONG_ROLE: 'control_plane',
        KONG_CLUSTER_CERT: join(dir, 'cluster.crt'),
        KONG_CLUSTER_CERT_KEY: join(dir, 'cluster.key'),
      });
      assert.deepEqual(l.problems, []);
      assert.deepEqual(
        l.config.cluster_listen.map((x) => x.port),
        [8005],
      );
      assert.deepEqual(
        l.config.cluster_telemetry_listen.map((x) => x.port),
        [8006],
      );
    });

    it('control plane, pki, with custom cluster ports', () => {
      const l = load({
        KONG_ROLE: 'control_plane',
        KONG_CLUSTER_MTLS: 'pki',
        KONG_CLUSTER_CA_CERT: join(dir, 'ca-cert.pem'),
        KONG_CLUSTER_CERT: join(dir, 'control-plane.crt'),
        KONG_CLUSTER_CERT_KEY: join(dir, 'control-plane.key'),
        KONG_CLUSTER_LISTEN: '0.0.0.0:9005',
        KONG_CLUSTER_TELEMETRY_LISTEN: '0.0.0.0:9006',
      });
      assert.deepEqual(l.problems, []);
      assert.deepEqual(
        l.config.cluster_listen.map((x) => x.port),
        [9005],
      );
      assert.deepEqual(
        l.config.cluster_telemetry_listen.map((x) => x.port),
        [9006],
      );
    });

    it('data plane, shared', () => {
      const l = load({
        KONG_ROLE: 'data_plane',
        KONG_DATABASE: 'off',
        KONG_PROXY_LISTEN: '0.0.0.0:8000',
        KONG_CLUSTER_CONTROL_PLANE: 'control-plane.example.com:8005',
        KONG_CLUSTER_TELEMETRY_ENDPOINT: 'control-plane.example.com:8006',
        KONG_CLUSTER_CERT: join(dir, 'cluster.crt'),
        KONG_CLUSTER_CERT_KEY: join(dir, 'cluster.key'),
      });
      assert.deepEqual(l.problems, []);
      assert.deepEqual(l.config.cluster_control_plane, [{ host: 'control-plane.example.com', port: 8005 }]);
      assert.deepEqual(
        l.config.proxy_listen.map((x) => x.listener),
        ['0.0.0.0:8000'],
      );
    });

    it('data plane, pki (the seed writes a relative cert path; it starts at the working directory)', () => {
      const l = load({
        KONG_ROLE: 'data_plane',
        KONG_DATABASE: 'off',
        KONG_PROXY_LISTEN: '0.0.0.0:8000',
        KONG_CLUSTER_CONTROL_PLANE: 'control-plane.example.com:8005',
        KONG_CLUSTER_TELEMETRY_ENDPOINT: 'control-plane.example.com:8006',
        KONG_CLUSTER_MTLS: 'pki',
        KONG_CLUSTER_SERVER_NAME: 'control-plane.kong.yourcorp.tld',
        KONG_CLUSTER_CERT: 'data-plane.crt',
        KONG_CLUSTER_CERT_KEY: join(dir, 'data-plane.key'),
        KONG_CLUSTER_CA_CERT: join(dir, 'ca-cert.pem'),
      });
      assert.deepEqual(l.problems, []);
      assert.equal(l.config.cluster_cert!.path, join(dir, 'data-plane.crt'));
    });

    it('inline PEM in the environment (real newlines) works for all three certificate keys', () => {
      const l = load({
        KONG_ROLE: 'data_plane',
        KONG_DATABASE: 'off',
        KONG_CLUSTER_MTLS: 'pki',
        KONG_CLUSTER_SERVER_NAME: 'control-plane.kong.yourcorp.tld',
        KONG_CLUSTER_CERT: readFileSync(join(dir, 'data-plane.crt'), 'utf8'),
        KONG_CLUSTER_CERT_KEY: readFileSync(join(dir, 'data-plane.key'), 'utf8'),
        KONG_CLUSTER_CA_CERT: readFileSync(join(dir, 'ca-cert.pem'), 'utf8'),
      });
      assert.deepEqual(l.problems, []);
      assert.equal(l.config.cluster_ca_cert!.path, undefined);
    });
  });

  it('docs/configuration.md is the rendering of the key table (regenerate with scripts/config-reference.ts)', () => {
    assert.equal(
      readFileSync(DOCS, 'utf8'),
      renderConfigReference(),
      'docs/configuration.md is stale: run `node --import tsx scripts/config-reference.ts`',
    );
  });
});
