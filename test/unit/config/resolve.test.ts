// Merging defaults, file and KONG_* (env > file > default), typed defaults, unknown keys, and collecting every error.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig, type ResolvedConfig } from '../../../src/core/config/resolve.js';
import { CONFIG_KEYS, KEY_DEFINITIONS } from '../../../src/core/config/keys.js';
import type { ConfigProblem } from '../../../src/core/config/types.js';
import { writeSharedPair } from '../../helpers/openssl-pki.js';
import { makeTempDir } from '../../helpers/tmp.js';

const brief = (p: ConfigProblem) => [p.severity, p.key, p.message];

describe('config resolve: sources, defaults, unknown keys', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let resolve: (text?: string, env?: Record<string, string>) => ResolvedConfig;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    await writeSharedPair(dir);
    resolve = (text, env = {}) =>
      resolveConfig({
        file: text === undefined ? undefined : { path: join(dir, 'kong.conf'), text },
        env,
        cwd: dir,
        readFile: (p) => readFileSync(p, 'utf8'),
      });
  });
  after(() => cleanup());

  it('gives every key its (Kong) default with no file and no environment, and no problems', () => {
    const { config, problems, origins } = resolve();
    assert.deepEqual(problems, []);
    assert.equal(config.role, 'traditional');
    assert.equal(config.prefix, '/usr/local/hybrid');
    assert.equal(config.database, 'sqlite');
    assert.equal(config.daemon, true);
    assert.deepEqual(
      config.proxy_listen.map((l) => l.listener),
      ['0.0.0.0:8000 reuseport backlog=16384', '0.0.0.0:8443 http2 ssl reuseport backlog=16384'],
    );
    assert.deepEqual(
      config.admin_listen.map((l) => l.listener),
      ['127.0.0.1:8001 reuseport backlog=16384', '127.0.0.1:8444 http2 ssl reuseport backlog=16384'],
    );
    assert.deepEqual(config.status_listen, []);
    assert.deepEqual(
      config.cluster_listen.map((l) => l.listener),
      ['0.0.0.0:8005'],
    );
    assert.deepEqual(
      config.cluster_telemetry_listen.map((l) => l.listener),
      ['0.0.0.0:8006'],
    );
    assert.deepEqual(config.cluster_control_plane, [{ host: '127.0.0.1', port: 8005 }]);
    assert.deepEqual(config.cluster_telemetry_endpoint, { host: '127.0.0.1', port: 8006 });
    assert.equal(config.cluster_server_name, null);
    assert.equal(config.cluster_mtls, 'shared');
    assert.equal(config.cluster_ocsp, 'off');
    assert.equal(config.cluster_max_payload, 16777216);
    assert.equal(config.cluster_data_plane_purge_delay, 1209600);
    assert.deepEqual(config.cluster_dp_labels, {});
    assert.equal(config.cluster_use_proxy, false);
    assert.equal(config.proxy_server, null);
    assert.equal(config.proxy_server_ssl_verify, true);
    assert.equal(config.data_plane_config_cache_mode, 'unencrypted');
    assert.equal(config.cluster_cert, null);
    assert.equal(config.cluster_cert_key, null);
    assert.equal(config.cluster_ca_cert, null);
    assert.deepEqual([config.ssl_cert, config.ssl_cert_key], [[], []]);
    assert.deepEqual(config.lua_ssl_trusted_certificate, ['system']);
    assert.equal(config.lua_ssl_verify_depth, 1);
    assert.deepEqual(
      [
        config.pg_host,
        config.pg_port,
        config.pg_timeout,
        config.pg_user,
        config.pg_password,
        config.pg_database,
      ],
      ['127.0.0.1', 5432, 5000, 'kong', null, 'kong'],
    );
    assert.deepEqual([config.pg_schema, config.pg_ssl, config.pg_ssl_verify], [null, false, false]);
    assert.deepEqual(
      [config.db_update_frequency, config.db_update_propagation, config.db_cache_ttl],
      [5, 0, 0],
    );
    assert.equal(config.declarative_config, null);
    assert.equal(config.lmdb_environment_path, 'dbless.lmdb');
    assert.equal(config.lmdb_map_size, 2048 * 1024 * 1024);
    assert.equal(config.log_level, 'notice');
    assert.deepEqual(
      [config.proxy_access_log, config.proxy_error_log, config.admin_access_log, config.admin_error_log],
      ['logs/access.log', 'logs/error.log', 'logs/admin_access.log', 'logs/error.log'],
    );
    assert.deepEqual(config.plugins, ['bundled']);
    assert.deepEqual(
      [
        config.upstream_keepalive_pool_size,
        config.upstream_keepalive_max_requests,
        config.upstream_keepalive_idle_timeout,
      ],
      [512, 1000, 60],
    );
    assert.deepEqual(config.headers, ['server_tokens', 'latency_tokens', 'x-kong-request-id']);
    assert.deepEqual(config.trusted_ips, []);
    assert.equal(config.real_ip_header, 'X-Real-IP');
    for (const k of CONFIG_KEYS) assert.equal(origins[k].source, 'default', k);
  });

  it('every default in the key table parses (the table cannot hold a broken default)', () => {
    for (const k of CONFIG_KEYS) {
      const def = KEY_DEFINITIONS[k] as {
        default: string;
        type: { parse: (r: string, c: never) => { ok: boolean } };
      };
      if (def.default === '') continue;
      assert.ok(def.type.parse(def.default, { baseDir: dir, readFile: () => '' } as never).ok, k);
    }
  });

  it('precedence is env > file > default, with provenance for each', () => {
    const text = '# header\nlog_level = info\n';
    const fromFile = resolve(text);
    assert.equal(fromFile.config.log_level, 'info');
    assert.deepEqual(fromFile.origins.log_level, {
      source: 'file',
      raw: 'info',
      file: join(dir, 'kong.conf'),
      line: 2,
    });

    const fromEnv = resolve(text, { KONG_LOG_LEVEL: ' debug ' });
    assert.equal(fromEnv.config.log_level, 'debug');
    assert.deepEqual(fromEnv.origins.log_level, { source: 'env', raw: 'debug', env: 'KONG_LOG_LEVEL' });

    const fromCli = resolveConfig({
      file: { path: join(dir, 'kong.conf'), text: 'prefix = /srv/from-file\n' },
      env: { KONG_PREFIX: '/srv/from-env' },
      overrides: { prefix: 'run' },
      cwd: dir,
      readFile: (p) => readFileSync(p, 'utf8'),
    });
    assert.equal(
      fromCli.config.prefix,
      join(dir, 'run'),
      'a command flag beats env and file; relative to cwd',
    );
    assert.deepEqual(fromCli.origins.prefix, { source: 'cli', raw: 'run' });

    const envOnly = resolve(undefined, { KONG_PG_PORT: '6543' });
    assert.equal(envOnly.config.pg_port, 6543);
    assert.equal(envOnly.config.log_level, 'notice');
    assert.equal(envOnly.origins.log_level.source, 'default');
  });

  it('an empty environment variable or file value unsets a key', () => {
    const fromEnv = resolve('cluster_server_name = cp.example.com\n', { KONG_CLUSTER_SERVER_NAME: '' });
    assert.equal(fromEnv.config.cluster_server_name, null);
    const status = resolve('status_listen = 0.0.0.0:8100\nstatus_listen =\n');
    assert.deepEqual(status.config.status_listen, []);
  });

  it('an empty value for a key that needs one is an error', () => {
    const { problems } = resolve('cluster_max_payload =\nprefix =\n');
    assert.deepEqual(
      problems.map((p) => [p.code, p.key, p.message, p.line]),
      [
        ['config_missing_value', 'prefix', 'must not be empty', 2],
        ['config_missing_value', 'cluster_max_payload', 'must not be empty', 1],
      ],
    );
  });

  it('unknown keys are warnings (with line and a suggestion) and the config still loads', () => {
    const text = 'role = traditional\nclustr_cert = x\nnginx_worker_processes = 4\nmy_own_setting = 1\n';
    const { problems, config } = resolve(text, { KONG_LOG_LEVELL: 'debug', PATH: '/bin' });
    assert.equal(config.role, 'traditional');
    assert.ok(problems.every((p) => p.severity === 'warning' && p.code === 'config_unknown_key'));
    const byKey = Object.fromEntries(problems.map((p) => [p.key, p]));
    assert.equal(byKey.clustr_cert!.line, 2);
    assert.equal(byKey.clustr_cert!.hint, 'Did you mean cluster_cert?');
    assert.equal(byKey.nginx_worker_processes!.message, 'is a Kong setting Hybrid does not use; ignored');
    assert.equal(byKey.my_own_setting!.message, 'unknown key, ignored');
    assert.equal(byKey.log_levell!.env, 'KONG_LOG_LEVELL');
    assert.equal(byKey.log_levell!.message, 'unknown key (from KONG_LOG_LEVELL), ignored');
    assert.equal(byKey.log_levell!.hint, 'Did you mean log_level?');
    assert.equal(problems.length, 4);
  });

  it('a real-world Kong configuration loads: Kong-only settings are warnings, never errors', () => {
    const text = [
      '# kong.conf from an existing Kong deployment',
      'role = data_plane',
      'database = off',
      'proxy_listen = 0.0.0.0:8000, 0.0.0.0:8443 ssl http2',
      'cluster_control_plane = cp.internal:8005',
      'cluster_cert = cluster.crt',
      'cluster_cert_key = cluster.key',
      'nginx_worker_processes = auto',
      'nginx_http_client_max_body_size = 10m',
      'mem_cache_size = 256m',
      'lua_socket_pool_size = 30',
      'dns_resolver = 10.0.0.2',
      'admin_gui_listen = off',
      'stream_listen = off',
      'pg_ro_host = replica.internal',
      'anonymous_reports = off',
      'vaults = bundled',
      'ssl_cipher_suite = intermediate',
      'router_flavor = traditional_compatible',
      'real_ip_recursive = on',
    ].join('\n');
    const { problems, config } = resolve(text);
    assert.deepEqual(
      problems.filter((p) => p.severity === 'error'),
      [],
    );
    assert.equal(problems.length, 13);
    assert.ok(
      problems.every((p) => p.message === 'is a Kong setting Hybrid does not use; ignored'),
      JSON.stringify(problems),
    );
    assert.equal(config.role, 'data_plane');
  });

  it('lua_ssl_trusted_certificate lists `system` and CA files (or PEM); unset trusts none; a bad entry is named', () => {
    const { config, problems } = resolve('lua_ssl_trusted_certificate = system, cluster.crt\n');
    assert.deepEqual(problems, []);
    const pem = readFileSync(join(dir, 'cluster.crt'), 'utf8');
    assert.deepEqual(config.lua_ssl_trusted_certificate, ['system', { path: join(dir, 'cluster.crt'), pem }]);
    assert.deepEqual(
      resolve('lua_ssl_trusted_certificate = cluster.crt\n').config.lua_ssl_trusted_certificate,
      [{ path: join(dir, 'cluster.crt'), pem }],
    );
    assert.deepEqual(resolve('lua_ssl_trusted_certificate =\n').config.lua_ssl_trusted_certificate, []);
    const bad = resolve('lua_ssl_trusted_certificate = system, missing.crt, cluster.key\n');
    assert.deepEqual(bad.problems.map(brief), [
      [
        'error',
        'lua_ssl_trusted_certificate',
        `failed loading certificate from ${join(dir, 'missing.crt')}: no such file; ` +
          `failed loading certificate from ${join(dir, 'cluster.key')}: no PEM CERTIFICATE block found`,
      ],
    ]);
  });

  it('lua_ssl_verify_depth is an integer of 0 or more', () => {
    assert.equal(resolve('lua_ssl_verify_depth = 3\n').config.lua_ssl_verify_depth, 3);
    assert.deepEqual(resolve('lua_ssl_verify_depth = -1\n').problems.map(brief), [
      ['error', 'lua_ssl_verify_depth', 'must be 0 or greater'],
    ]);
    assert.deepEqual(resolve('lua_ssl_verify_depth = two\n').problems.map(brief), [
      ['error', 'lua_ssl_verify_depth', "is not an integer: 'two'"],
    ]);
  });

  it('a key set twice warns and the last one wins', () => {
    const { problems, config } = resolve('log_level = info\nlog_level = warn\n');
    assert.equal(config.log_level, 'warn');
    assert.deepEqual(problems.map(brief), [
      ['warning', 'log_level', 'is set twice (lines 1 and 2); line 2 wins'],
    ]);
  });

  it("accepts Kong's alias names (nginx_daemon, nginx_main_daemon → daemon); the canonical env name wins", () => {
    assert.equal(resolve('nginx_daemon = off\n').config.daemon, false);
    assert.equal(resolve(undefined, { KONG_NGINX_MAIN_DAEMON: 'off' }).config.daemon, false);
    assert.equal(resolve(undefined, { KONG_NGINX_DAEMON: 'off', KONG_DAEMON: 'on' }).config.daemon, true);
  });

  it('collects every error at once, each with key, source and line; invalid keys fall back to defaults', () => {
    const text = [
      'role = dataplane', // 1
      'log_level = loud', // 2
      'cluster_max_payload = 1024', // 3
      'proxy_listen = 0.0.0.0', // 4
      'cluster_dp_labels = kong:x', // 5
      'this line is wrong', // 6
      'pg_ssl = maybe', // 7
      'cluster_cert = nope.crt', // 8
    ].join('\n');
    const { problems, config } = resolve(text, { KONG_CLUSTER_DATA_PLANE_PURGE_DELAY: '10' });
    const errors = problems.filter((p) => p.severity === 'error');
    assert.deepEqual(
      errors.map((p) => [p.key, p.source, p.line ?? p.env]).sort(),
      [
        ['cluster_cert', 'file', 8],
        ['cluster_data_plane_purge_delay', 'env', 'KONG_CLUSTER_DATA_PLANE_PURGE_DELAY'],
        ['cluster_dp_labels', 'file', 5],
        ['cluster_max_payload', 'file', 3],
        ['log_level', 'file', 2],
        ['pg_ssl', 'file', 7],
        ['proxy_listen', 'file', 4],
        ['role', 'file', 1],
        ['this', 'file', 6],
      ].sort(),
    );
    const msg = Object.fromEntries(errors.map((p) => [p.key, p.message]));
    assert.equal(msg.role, "has an invalid value: 'dataplane' (traditional, control_plane, data_plane)");
    assert.equal(msg.cluster_data_plane_purge_delay, 'must be 60 or greater');
    assert.equal(msg.cluster_max_payload, 'must be 4194304 (4MB) or greater');
    assert.match(msg.cluster_cert!, /failed loading certificate from .*nope\.crt: no such file/);
    assert.equal(config.role, 'traditional', 'a bad role falls back to the default');
    assert.equal(config.cluster_max_payload, 16777216);
  });

  it('relative paths from the file start at its directory; from the environment, at cwd', async () => {
    const other = await makeTempDir();
    try {
      await writeSharedPair(other.dir);
      const fromFile = resolveConfig({
        file: {
          path: join(other.dir, 'kong.conf'),
          text: 'cluster_cert = cluster.crt\ndeclarative_config = kong.yml\n',
        },
        env: { KONG_CLUSTER_CERT_KEY: 'cluster.key' },
        cwd: dir,
        readFile: (p) => readFileSync(p, 'utf8'),
      });
      assert.equal(fromFile.config.cluster_cert?.path, join(other.dir, 'cluster.crt'));
      assert.equal(fromFile.config.cluster_cert_key?.path, join(dir, 'cluster.key'));
      assert.equal(fromFile.config.declarative_config, join(other.dir, 'kong.yml'));
    } finally {
      await other.cleanup();
    }
  });

  it('parses headers, trusted_ips and plugins lists and reports bad entries', () => {
    const ok = resolve('headers = off\ntrusted_ips = 10.0.0.0/8, ::1, unix:\nplugins = bundled, my-plugin\n');
    assert.deepEqual(ok.problems, []);
    assert.deepEqual(ok.config.trusted_ips, ['10.0.0.0/8', '::1', 'unix:']);
    assert.deepEqual(ok.config.plugins, ['bundled', 'my-plugin']);
    const bad = resolve('headers = server_tokens, X-Nope\ntrusted_ips = example.com\nplugins = bad plugin\n');
    assert.deepEqual(
      bad.problems.map((p) => [p.key, p.message]),
      [
        ['plugins', "invalid plugin name 'bad plugin'"],
        ['headers', "invalid entry 'X-Nope'"],
        [
          'trusted_ips',
          "must be a comma separated list in the form of IPv4 or IPv6 address or CIDR block or 'unix:', got 'example.com'",
        ],
      ],
    );
  });
});
