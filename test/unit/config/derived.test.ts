// Values derived from the typed config: cluster SNI fallbacks, the enabled plugin list, prefix-relative paths.
import assert from 'node:assert/strict';
import {
  clusterServerName,
  DEFAULT_CLUSTER_SERVER_NAME,
  enabledPlugins,
  prefixPath,
  telemetryServerName,
} from '../../../src/core/config/derived.js';

describe('config derived values', () => {
  it('cluster SNI: always kong_clustering in shared mode; cluster_server_name (else kong_clustering) in pki', () => {
    assert.equal(DEFAULT_CLUSTER_SERVER_NAME, 'kong_clustering');
    assert.equal(
      clusterServerName({ cluster_mtls: 'shared', cluster_server_name: 'cp.example.com' }),
      'kong_clustering',
    );
    assert.equal(
      clusterServerName({ cluster_mtls: 'pki', cluster_server_name: 'cp.example.com' }),
      'cp.example.com',
    );
    assert.equal(clusterServerName({ cluster_mtls: 'pki', cluster_server_name: null }), 'kong_clustering');
  });

  it('telemetry SNI falls back to the cluster SNI', () => {
    const base = { cluster_mtls: 'pki' as const, cluster_server_name: 'cp.example.com' };
    assert.equal(telemetryServerName({ ...base, cluster_telemetry_server_name: null }), 'cp.example.com');
    assert.equal(
      telemetryServerName({ ...base, cluster_telemetry_server_name: 'tel.example.com' }),
      'tel.example.com',
    );
    assert.equal(
      telemetryServerName({
        ...base,
        cluster_mtls: 'shared',
        cluster_telemetry_server_name: 'tel.example.com',
      }),
      'kong_clustering',
    );
  });

  it('plugins: bundled expands, custom names are kept once, off disables everything', () => {
    const bundled = ['key-auth', 'cors'];
    assert.deepEqual(enabledPlugins({ plugins: ['bundled'] }, bundled), ['key-auth', 'cors']);
    assert.deepEqual(enabledPlugins({ plugins: ['my-plugin', 'bundled', 'cors'] }, bundled), [
      'my-plugin',
      'key-auth',
      'cors',
    ]);
    assert.deepEqual(enabledPlugins({ plugins: ['off'] }, bundled), []);
    assert.deepEqual(enabledPlugins({ plugins: [] }, bundled), []);
  });

  it('prefixPath joins relative paths to the prefix and keeps absolute ones', () => {
    assert.equal(prefixPath({ prefix: '/usr/local/hybrid' }, 'dbless.lmdb'), '/usr/local/hybrid/dbless.lmdb');
    assert.equal(
      prefixPath({ prefix: '/usr/local/hybrid' }, 'logs/error.log'),
      '/usr/local/hybrid/logs/error.log',
    );
    assert.equal(prefixPath({ prefix: '/usr/local/hybrid' }, '/var/log/hybrid.log'), '/var/log/hybrid.log');
  });
});
