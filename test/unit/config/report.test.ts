// The check report and the effective-settings listing: verdict lines, masking of secrets and inline PEM.
import assert from 'node:assert/strict';
import { checkReport, effectiveSettings, resolveConfig } from '../../../src/core/config/index.js';

const PEM = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';

function resolved(text: string, env: Record<string, string> = {}) {
  return resolveConfig({
    file: { path: '/etc/kong/kong.conf', text },
    env,
    cwd: '/',
    readFile: () => PEM,
  });
}

describe('config report', () => {
  it('lists only non-default settings with their source; masks passwords, proxy URLs and inline PEM', () => {
    const { origins } = resolved('log_level = info\nproxy_server = http://u:pw@proxy:3128\n', {
      KONG_PG_PASSWORD: 'secret',
      KONG_CLUSTER_CA_CERT: PEM,
    });
    assert.deepEqual(effectiveSettings(origins), [
      { key: 'log_level', value: 'info', source: 'file', where: '/etc/kong/kong.conf:1' },
      { key: 'proxy_server', value: '******', source: 'file', where: '/etc/kong/kong.conf:2' },
      { key: 'cluster_ca_cert', value: '<inline PEM>', source: 'env', where: 'env KONG_CLUSTER_CA_CERT' },
      { key: 'pg_password', value: '******', source: 'env', where: 'env KONG_PG_PASSWORD' },
    ]);
    const all = effectiveSettings(origins, true);
    assert.equal(all.find((s) => s.key === 'role')?.where, 'default');
  });

  it('valid: the verdict on stdout, warnings on stderr; verbose adds the settings', () => {
    const r = resolved('log_level = info\nnginx_user = kong\n');
    const loaded = {
      ...r,
      valid: true,
      errors: [],
      warnings: r.problems,
      path: '/etc/kong/kong.conf',
    };
    const plain = checkReport(loaded);
    assert.deepEqual(plain.stdout, ['configuration at /etc/kong/kong.conf is valid']);
    assert.deepEqual(plain.stderr, [
      'Warning: nginx_user (/etc/kong/kong.conf:2): is a Kong setting Hybrid does not use; ignored',
    ]);
    const verbose = checkReport(loaded, { verbose: true, paint: (s, l) => `<${s}>${l}` });
    assert.deepEqual(verbose.stdout, [
      'configuration at /etc/kong/kong.conf is valid',
      'settings (not defaults):',
      '  log_level = info  (/etc/kong/kong.conf:1)',
    ]);
    assert.match(verbose.stderr[0]!, /^<warning>Warning: nginx_user/);
  });

  it('invalid: errors then the verdict with the count, all on stderr; no file means environment and defaults', () => {
    const r = resolved('role = data_plane\n');
    const errors = r.problems.filter((p) => p.severity === 'error');
    const report = checkReport({ ...r, valid: false, errors, warnings: [], path: null });
    assert.deepEqual(report.stdout, []);
    assert.equal(report.stderr.length, errors.length + 1);
    assert.equal(
      report.stderr.at(-1),
      `configuration at KONG_* environment and defaults is invalid (${errors.length} errors)`,
    );
  });
});
