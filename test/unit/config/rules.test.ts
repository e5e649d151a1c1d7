// Role rules: every message for control planes, data planes, pki/shared, OCSP, proxies, labels and TLS pairs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig, type ResolvedConfig } from '../../../src/core/config/resolve.js';
import type { ConfigProblem } from '../../../src/core/config/types.js';
import { writePkiSet, writeSharedPair } from '../../helpers/openssl-pki.js';
import { makeTempDir } from '../../helpers/tmp.js';

const brief = (p: ConfigProblem) => [p.severity, p.key, p.message];

describe('config role rules', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let resolve: (lines: string[], env?: Record<string, string>) => ResolvedConfig;
  const SHARED = ['cluster_cert = cluster.crt', 'cluster_cert_key = cluster.key'];
  const PKI_DP = [
    'role = data_plane',
    'database = off',
    'cluster_mtls = pki',
    'cluster_server_name = control-plane.kong.yourcorp.tld',
    'cluster_cert = data-plane.crt',
    'cluster_cert_key = data-plane.key',
    'cluster_ca_cert = ca-cert.pem',
  ];
  const PKI_CP = [
    'role = control_plane',
    'cluster_mtls = pki',
    'cluster_cert = control-plane.crt',
    'cluster_cert_key = control-plane.key',
    'cluster_ca_cert = ca-cert.pem',
  ];

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    await writeSharedPair(dir);
    await writePkiSet(dir);
    resolve = (lines, env = {}) =>
      resolveConfig({
        file: { path: join(dir, 'kong.conf'), text: lines.join('\n') },
        env,
        cwd: dir,
        readFile: (p) => readFileSync(p, 'utf8'),
      });
  });
  after(() => cleanup());

  describe('hybrid roles', () => {
    it('need a cluster certificate and key (one error per missing key, with a hint)', () => {
      for (const role of ['control_plane', 'data_plane']) {
        const extra = role === 'data_plane' ? ['database = off'] : [];
        const { problems } = resolve([`role = ${role}`, ...extra]);
        assert.deepEqual(problems.map(brief), [
          [
            'error',
            'cluster_cert',
            'cluster certificate and key must be provided to use Hybrid mode (cluster_cert is not set)',
          ],
          [
            'error',
            'cluster_cert_key',
            'cluster certificate and key must be provided to use Hybrid mode (cluster_cert_key is not set)',
          ],
        ]);
        assert.match(problems[0]!.hint!, /hybrid gen_cert/);
        assert.equal(problems[0]!.source, 'default');
      }
    });

    it('pki needs cluster_ca_cert on both roles', () => {
      const cp = resolve(PKI_CP.filter((l) => !l.startsWith('cluster_ca_cert')));
      assert.deepEqual(cp.problems.map(brief), [
        ['error', 'cluster_ca_cert', 'must be specified when cluster_mtls = "pki"'],
      ]);
      const dp = resolve(PKI_DP.filter((l) => !l.startsWith('cluster_ca_cert')));
      assert.deepEqual(dp.problems.map(brief), [
        ['error', 'cluster_ca_cert', 'must be specified when cluster_mtls = "pki"'],
      ]);
      assert.ok(dp.problems[0]!.hint);
    });

    it('shared mode needs no CA on a data plane, and warns that a given one is ignored', () => {
      const dp = resolve(['role = data_plane', 'database = off', ...SHARED]);
      assert.deepEqual(dp.problems, []);
      const withCa = resolve([
        'role = data_plane',
        'database = off',
        ...SHARED,
        'cluster_ca_cert = ca-cert.pem',
      ]);
      assert.deepEqual(withCa.problems.map(brief), [
        ['warning', 'cluster_ca_cert', 'is ignored when cluster_mtls = "shared"'],
      ]);
    });

    it('valid pki control plane and data plane have no problems; certificates are read', () => {
      const cp = resolve(PKI_CP);
      assert.deepEqual(cp.problems, []);
      assert.equal(cp.config.cluster_cert?.path, join(dir, 'control-plane.crt'));
      assert.match(cp.config.cluster_ca_cert!.pem, /BEGIN CERTIFICATE/);
      assert.deepEqual(resolve(PKI_DP).problems, []);
    });
  });

  describe('cluster_ocsp', () => {
    it('is silent on a pki control plane', () => {
      assert.deepEqual(resolve([...PKI_CP, 'cluster_ocsp = on']).problems, []);
    });
    it('warns when not in pki mode', () => {
      const { problems } = resolve(['role = control_plane', ...SHARED, 'cluster_ocsp = optional']);
      assert.deepEqual(problems.map(brief), [
        ['warning', 'cluster_ocsp', 'is only used when cluster_mtls = "pki"; ignored'],
      ]);
    });
    it('warns on a data plane or traditional node', () => {
      const dp = resolve([...PKI_DP, 'cluster_ocsp = on']);
      assert.deepEqual(dp.problems.map(brief), [
        ['warning', 'cluster_ocsp', 'is only used by a control plane; ignored with role = "data_plane"'],
      ]);
      const trad = resolve(['cluster_ocsp = on']);
      assert.deepEqual(trad.problems.map(brief), [
        ['warning', 'cluster_ocsp', 'is only used by a control plane; ignored with role = "traditional"'],
      ]);
    });
  });

  describe('control plane', () => {
    const CP = ['role = control_plane', ...SHARED];

    it('is valid with the defaults, and never proxies even with the default proxy_listen', () => {
      const { problems, config } = resolve(CP);
      assert.deepEqual(problems, []);
      assert.deepEqual(config.proxy_listen, []);
      assert.equal(config.database, 'sqlite');
    });

    it('an explicit proxy_listen is ignored with a warning', () => {
      const { problems, config } = resolve([...CP, 'proxy_listen = 0.0.0.0:8000']);
      assert.deepEqual(problems.map(brief), [
        [
          'warning',
          'proxy_listen',
          'is ignored when role = "control_plane": control planes do not proxy traffic',
        ],
      ]);
      assert.equal(problems[0]!.line, 4);
      assert.deepEqual(config.proxy_listen, []);
      assert.deepEqual(resolve([...CP, 'proxy_listen = off']).problems, []);
    });

    it('needs admin_listen, cluster_listen and a database; refuses cluster_use_proxy and labels — all at once', () => {
      const { problems } = resolve([
        ...CP,
        'admin_listen = off',
        'cluster_listen = off',
        'database = off',
        'cluster_use_proxy = on',
        'proxy_server = http://proxy:3128',
        'cluster_dp_labels = region:eu',
      ]);
      assert.deepEqual(problems.map(brief), [
        ['error', 'admin_listen', 'must be specified when role = "control_plane"'],
        ['error', 'cluster_listen', 'must be specified when role = "control_plane"'],
        ['error', 'database', 'in-memory storage can not be used when role = "control_plane"'],
        ['error', 'cluster_use_proxy', 'can not be used when role = "control_plane"'],
        ['error', 'cluster_dp_labels', 'can not be used when role = "control_plane"'],
      ]);
      assert.deepEqual(
        problems.map((p) => p.line),
        [4, 5, 6, 7, 9],
      );
      assert.match(problems[2]!.hint!, /database = sqlite/);
    });

    it('accepts postgres with pg_* settings', () => {
      const { problems, config } = resolve([
        ...CP,
        'database = postgres',
        'pg_host = db.internal',
        'pg_port = 6432',
        'pg_user = hybrid',
        'pg_password = s3cr\\#t',
        'pg_database = hybrid',
        'pg_schema = cp',
        'pg_ssl = on',
        'pg_ssl_verify = on',
        'pg_timeout = 2000',
      ]);
      assert.deepEqual(problems, []);
      assert.deepEqual(
        [
          config.database,
          config.pg_host,
          config.pg_port,
          config.pg_user,
          config.pg_password,
          config.pg_database,
        ],
        ['postgres', 'db.internal', 6432, 'hybrid', 's3cr#t', 'hybrid'],
      );
      assert.deepEqual(
        [config.pg_schema, config.pg_ssl, config.pg_ssl_verify, config.pg_timeout],
        ['cp', true, true, 2000],
      );
    });
  });

  describe('data plane', () => {
    const DP = ['role = data_plane', 'database = off', ...SHARED];

    it('needs database = off (also when the database comes from the default) and a proxy_listen', () => {
      const { problems } = resolve(['role = data_plane', ...SHARED, 'proxy_listen = off']);
      assert.deepEqual(problems.map(brief), [
        ['error', 'proxy_listen', 'must be specified when role = "data_plane"'],
        ['error', 'database', 'only in-memory storage can be used when role = "data_plane"'],
      ]);
      assert.equal(problems[1]!.source, 'default');
      assert.equal(problems[1]!.hint, 'Set database = off in your kong.conf (or KONG_DATABASE=off).');
      const fromEnv = resolve(DP, { KONG_DATABASE: 'postgres' });
      assert.equal(fromEnv.problems[0]!.env, 'KONG_DATABASE');
    });

    it('cluster_use_proxy needs proxy_server', () => {
      const { problems } = resolve([...DP, 'cluster_use_proxy = on']);
      assert.deepEqual(problems.map(brief), [
        ['error', 'cluster_use_proxy', 'is turned on but no proxy_server is configured'],
      ]);
      const ok = resolve([...DP, 'cluster_use_proxy = on', 'proxy_server = https://user:pw@proxy:3128']);
      assert.deepEqual(ok.problems, []);
      assert.equal(ok.config.proxy_server, 'https://user:pw@proxy:3128');
    });

    it('a bad proxy_server is reported without echoing its value (it may hold credentials)', () => {
      const { problems } = resolve([...DP, 'proxy_server = user:pw@proxy:3128']);
      assert.deepEqual(problems.map(brief), [['error', 'proxy_server', 'missing scheme']]);
      assert.ok(!JSON.stringify(problems).includes('pw@'));
    });

    it('warns in pki mode without cluster_server_name', () => {
      const { problems } = resolve(PKI_DP.filter((l) => !l.startsWith('cluster_server_name')));
      assert.deepEqual(
        problems.map((p) => [p.severity, p.key]),
        [['warning', 'cluster_server_name']],
      );
      assert.match(problems[0]!.message, /kong_clustering/);
    });

    it('accepts labels and several control plane addresses', () => {
      const { problems, config } = resolve([
        ...DP,
        'cluster_dp_labels = region:eu-west-1,tier:edge',
        'cluster_control_plane = cp1.internal:8005, [fd00::2]:8005',
      ]);
      assert.deepEqual(problems, []);
      assert.deepEqual(config.cluster_dp_labels, { region: 'eu-west-1', tier: 'edge' });
      assert.deepEqual(config.cluster_control_plane, [
        { host: 'cp1.internal', port: 8005 },
        { host: 'fd00::2', port: 8005 },
      ]);
    });
  });

  it('labels on a traditional node are an error', () => {
    const { problems } = resolve(['cluster_dp_labels = region:eu']);
    assert.deepEqual(problems.map(brief), [
      ['error', 'cluster_dp_labels', 'can only be used when role = "data_plane"'],
    ]);
  });

  it('declarative_config with a database is ignored with a warning', () => {
    const { problems } = resolve(['declarative_config = kong.yml']);
    assert.deepEqual(problems.map(brief), [
      ['warning', 'declarative_config', 'is only loaded when database = off; ignored'],
    ]);
  });

  describe('listener port conflicts', () => {
    it('a port opened by two listeners of the role is an error naming both', () => {
      const { problems } = resolve(['admin_listen = 127.0.0.1:8000', 'status_listen = 0.0.0.0:8443']);
      assert.deepEqual(problems.map(brief), [
        [
          'error',
          'admin_listen',
          '127.0.0.1:8000 uses port 8000, already taken by proxy_listen (0.0.0.0:8000 reuseport backlog=16384)',
        ],
        [
          'error',
          'status_listen',
          '0.0.0.0:8443 uses port 8443, already taken by proxy_listen (0.0.0.0:8443 http2 ssl reuseport backlog=16384)',
        ],
      ]);
      assert.equal(problems[0]!.code, 'config_listen_conflict');
      assert.equal(problems[1]!.line, 2);
    });

    it('within one key, and across IPv6 any-address, but not on distinct specific addresses', () => {
      const same = resolve(['status_listen = 127.0.0.1:8100, 127.0.0.1:8100 ssl']);
      assert.deepEqual(
        same.problems.map((p) => p.message),
        ['127.0.0.1:8100 ssl uses port 8100, already taken by another entry of the same key'],
      );
      const v6 = resolve(['status_listen = [::]:8001']);
      assert.deepEqual(
        v6.problems.map((p) => p.key),
        ['status_listen'],
      );
      const distinct = resolve(['admin_listen = 127.0.0.1:9001', 'status_listen = 127.0.0.2:9001']);
      assert.deepEqual(distinct.problems, []);
      const v6v4 = resolve(['admin_listen = [::1]:9001', 'status_listen = 0.0.0.0:9001']);
      assert.deepEqual(v6v4.problems, []);
    });

    it('only the listeners the role opens count (a control plane ignores proxy_listen)', () => {
      const cp = resolve(['role = control_plane', ...SHARED, 'proxy_listen = 0.0.0.0:8005']);
      assert.deepEqual(
        cp.problems.map((p) => [p.severity, p.key]),
        [['warning', 'proxy_listen']],
      );
      const cpClash = resolve(['role = control_plane', ...SHARED, 'cluster_telemetry_listen = 0.0.0.0:8005']);
      assert.deepEqual(
        cpClash.problems.map((p) => [p.severity, p.key]),
        [['error', 'cluster_telemetry_listen']],
      );
      const dp = resolve(['role = data_plane', 'database = off', ...SHARED, 'cluster_listen = 0.0.0.0:8000']);
      assert.deepEqual(dp.problems, []);
    });
  });

  it("pairs listener certificates and keys (Kong's messages)", () => {
    const certOnly = resolve(['ssl_cert = cluster.crt']);
    assert.deepEqual(certOnly.problems.map(brief), [
      ['error', 'ssl_cert_key', 'must be specified (ssl_cert is set)'],
    ]);
    const keyOnly = resolve(['admin_ssl_cert_key = cluster.key']);
    assert.deepEqual(keyOnly.problems.map(brief), [
      ['error', 'admin_ssl_cert', 'must be specified (admin_ssl_cert_key is set)'],
    ]);
    const counts = resolve([
      'status_ssl_cert = cluster.crt, control-plane.crt',
      'status_ssl_cert_key = cluster.key',
    ]);
    assert.deepEqual(counts.problems.map(brief), [
      [
        'error',
        'status_ssl_cert_key',
        'status_ssl_cert was specified 2 times while status_ssl_cert_key was specified 1 times',
      ],
    ]);
    const good = resolve([
      'ssl_cert = cluster.crt, control-plane.crt',
      'ssl_cert_key = cluster.key, control-plane.key',
    ]);
    assert.deepEqual(good.problems, []);
    assert.deepEqual(
      good.config.ssl_cert.map((c) => c.path),
      [join(dir, 'cluster.crt'), join(dir, 'control-plane.crt')],
    );
  });
});
