// A data plane's start through the CLI: cached config → declarative_config → empty, with the control plane up or down.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli.js';
import {
  adminCreate,
  ClusterNodes,
  cpHash,
  nodeLog,
  type ClusterNode,
  type ControlPlane,
  type DataPlane,
} from '../../helpers/cluster-nodes.js';
import { freePort, makeTempDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';
import { configHash } from '../../../src/core/cluster/hash.js';
import { openConfigCache } from '../../../src/core/dataplane/config-cache.js';
import { KNOWN_CREDENTIAL, largeConfig } from './large-config.js';

const EMPTY_HASH = '0'.repeat(32);

describe('data plane start sequence (CLI)', function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let certLines: string[];
  let nodes: ClusterNodes;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    nodes = new ClusterNodes(dir);
    assert.equal((await runCli(['gen_cert', 'cluster.crt', 'cluster.key'], { cwd: dir })).exitCode, 0);
    certLines = ['cluster_cert = cluster.crt', 'cluster_cert_key = cluster.key'];
  });
  afterEach(async () => nodes.stopAll());
  after(async () => cleanup());

  const controlPlane = (name: string) => nodes.controlPlane(name, certLines);
  /** A data plane of `cluster` (a port nobody may be listening on). */
  const dataPlane = (name: string, cluster: number, extra: string[] = []) =>
    nodes.dataPlane(name, cluster, [...certLines, ...extra]);

  /** Like dpStatus, with the readiness status code (200, 503) the tests tell apart. */
  async function status(dp: DataPlane): Promise<{ ready: number; hash: string }> {
    const ready = await fetch(`http://127.0.0.1:${dp.status}/status/ready`);
    const body = (await (await fetch(`http://127.0.0.1:${dp.status}/status`)).json()) as {
      configuration_hash: string;
    };
    return { ready: ready.status, hash: body.configuration_hash };
  }

  /** POSTs, then waits until the control plane has exported a version after it (so `cpHash` is the new one). */
  async function admin(cp: ControlPlane, path: string, body: Record<string, unknown>): Promise<void> {
    const before = lastVersion(cp);
    await adminCreate(cp, path, body);
    await waitUntil(() => lastVersion(cp) > before, { message: `the control plane exported ${path}` });
  }
  const lastVersion = (cp: ClusterNode): number =>
    Number([...nodeLog(cp).matchAll(/config version (\d+) \(hash/g)].at(-1)?.[1] ?? -1);
  const synced = (dp: DataPlane, cp: ControlPlane) => async () =>
    cpHash(cp) !== undefined && (await status(dp)).hash === cpHash(cp);

  it('restarted while the CP is down, serves its cached config (over declarative_config); resyncs when the CP returns', async () => {
    const file = join(dir, 'local.yml');
    writeFileSync(file, '_format_version: "3.0"\nservices:\n  - name: local\n    url: http://127.0.0.1:9/\n');
    const cp = await controlPlane('cp-a');
    await nodes.start(cp);
    const dp = await dataPlane('dp-a', cp.cluster, [`declarative_config = ${file}`]);
    await nodes.start(dp);
    assert.match(
      nodeLog(dp),
      /loaded configuration [0-9a-f]{32} from declarative_config .*local\.yml \(1 entities\)/,
    );
    await admin(cp, '/services', { name: 'from-cp', url: 'http://127.0.0.1:9/' });
    await waitUntil(synced(dp, cp), { timeoutMs: 20_000, message: 'the DP on the CP hash' });
    const cached = cpHash(cp);

    const cache = join(dp.prefix, 'dbless.lmdb');
    assert.equal(statSync(cache).mode & 0o777, 0o700);
    assert.equal(statSync(join(cache, 'data.mdb')).mode & 0o777, 0o600);

    await nodes.stop(cp);
    await nodes.stop(dp);
    await nodes.start(dp);
    assert.deepEqual(await status(dp), { ready: 200, hash: cached }, 'ready on the cached config at once');
    assert.match(nodeLog(dp), new RegExp(`loaded configuration ${cached} from the cache \\(1 entities`));
    await waitUntil(() => /cannot connect to control plane/.test(nodeLog(dp)), { message: 'the CP is down' });
    assert.deepEqual(await status(dp), { ready: 200, hash: cached }, 'still serving with the CP down');

    await nodes.start(cp);
    await admin(cp, '/services', { name: 'after-restart', url: 'http://127.0.0.1:9/' });
    await waitUntil(async () => cpHash(cp) !== cached && (await synced(dp, cp)()), {
      timeoutMs: 20_000,
      message: 'resynced once the CP returned',
    });
  });

  it('encrypted: the cache never shows a credential, and a restart with the CP down serves it', async () => {
    const cp = await controlPlane('cp-enc');
    await nodes.start(cp);
    const dp = await dataPlane('dp-enc', cp.cluster, ['data_plane_config_cache_mode = encrypted']);
    await nodes.start(dp);
    await admin(cp, '/consumers', { username: 'alice' });
    await admin(cp, '/consumers/alice/key-auth', { key: KNOWN_CREDENTIAL });
    await waitUntil(synced(dp, cp), { timeoutMs: 20_000, message: 'the DP on the CP hash' });
    const cached = cpHash(cp);
    await nodes.stop(cp);
    await nodes.stop(dp);
    for (const file of ['data.mdb', 'lock.mdb']) {
      const bytes = readFileSync(join(dp.prefix, 'dbless.lmdb', file));
      assert.equal(bytes.includes(Buffer.from(KNOWN_CREDENTIAL)), false, `${file} holds the credential`);
    }
    await nodes.start(dp);
    assert.deepEqual(await status(dp), { ready: 200, hash: cached });
  });

  it('declarative_config and no cache: serves the file, with the hash the CP computes for the same (exported) content', async () => {
    const source = join(dir, 'kong.yml');
    writeFileSync(
      source,
      [
        '_format_version: "3.0"',
        'services:',
        '  - name: billing',
        '    url: http://127.0.0.1:9/billing',
        '    routes:',
        '      - name: billing-route',
        '        paths: [/billing]',
        'consumers:',
        '  - username: bob',
        '    keyauth_credentials:',
        `      - key: ${KNOWN_CREDENTIAL}`,
        '',
      ].join('\n'),
    );
    const cp = await controlPlane('cp-file');
    const imported = await runCli(['config', 'db_import', source, '-c', cp.conf, '-p', cp.prefix]);
    assert.equal(imported.exitCode, 0, imported.stderr);
    const exported = join(dir, 'exported.yml');
    assert.equal(
      (await runCli(['config', 'db_export', exported, '-c', cp.conf, '-p', cp.prefix])).exitCode,
      0,
    );
    await nodes.start(cp);
    await waitUntil(() => cpHash(cp), { message: 'the CP hash' });
    const hash = cpHash(cp);
    await nodes.stop(cp);

    const dp = await dataPlane('dp-file', cp.cluster, [`declarative_config = ${exported}`]);
    await nodes.start(dp);
    assert.deepEqual(await status(dp), { ready: 200, hash });
    assert.match(
      nodeLog(dp),
      new RegExp(`loaded configuration ${hash} from declarative_config .*exported\\.yml \\(4 entities\\)`),
    );
    assert.equal(
      existsSync(join(dp.prefix, 'dbless.lmdb', 'data.mdb')),
      false,
      'a file config is not cached',
    );
  });

  it('an invalid declarative_config: the data plane refuses to start and lists every problem', async () => {
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, '_format_version: "3.0"\nservices:\n  - name: x\n    url: not a url\n  - host: 5\n');
    const dp = await dataPlane('dp-bad', await freePort(), [`declarative_config = ${bad}`]);
    const result = await nodes.tryStart(dp);
    assert.notEqual(result.exitCode, 0);
    assert.match(result.stderr, /declarative_config: invalid declarative config .*bad\.yml \(\d+ errors\)/);
    assert.match(result.stderr, /services\[0\]\.url/);
    assert.match(result.stderr, /services\[1\]/);
    assert.equal(existsSync(join(dp.prefix, 'pids', 'hybrid.pid')), false, 'not running');

    const missing = await dataPlane('dp-missing', await freePort(), [
      `declarative_config = ${join(dir, 'nope.yml')}`,
    ]);
    const refused = await nodes.tryStart(missing);
    assert.notEqual(refused.exitCode, 0);
    assert.match(refused.stderr, /declarative config file not found: .*nope\.yml/);
  });

  it('cache off or unwritable: configs still apply; with it off a restart with the CP down is empty (503)', async () => {
    const cp = await controlPlane('cp-off');
    await nodes.start(cp);
    const dp = await dataPlane('dp-off', cp.cluster, ['data_plane_config_cache_mode = off']);
    await nodes.start(dp);
    const notADirectory = join(dir, 'not-a-directory');
    writeFileSync(notADirectory, '');
    const blocked = await dataPlane('dp-blocked', cp.cluster, [
      `lmdb_environment_path = ${join(notADirectory, 'dbless.lmdb')}`,
    ]);
    await nodes.start(blocked);
    await admin(cp, '/services', { name: 'only-in-memory', url: 'http://127.0.0.1:9/' });
    await waitUntil(synced(dp, cp), { timeoutMs: 20_000, message: 'the DP on the CP hash' });
    await waitUntil(synced(blocked, cp), { timeoutMs: 20_000, message: 'the blocked DP on the CP hash' });
    assert.equal((await status(dp)).ready, 200);
    // The log is written asynchronously: wait for the line rather than expect it at once.
    await waitUntil(
      () =>
        /\[warn\].*config cache .*cannot be opened, configs will not be cached: ENOTDIR/.test(
          nodeLog(blocked),
        ),
      { message: 'the blocked cache reported' },
    );
    await nodes.stop(cp);
    await nodes.stop(dp);
    assert.equal(existsSync(join(dp.prefix, 'dbless.lmdb')), false, 'no cache directory');
    await nodes.start(dp);
    assert.deepEqual(await status(dp), { ready: 503, hash: EMPTY_HASH });
    assert.match(
      nodeLog(dp),
      /no cached configuration and no declarative_config: serving an empty configuration/,
    );
  });

  it('cold start from a 10k-route cache: ready on the cached hash (time printed)', async () => {
    const dp = await dataPlane('dp-10k', await freePort());
    const table = largeConfig(10_000, 'cold');
    const { hash } = configHash(table);
    const cache = openConfigCache({
      path: join(dp.prefix, 'dbless.lmdb'),
      mapSize: 2048 * 1024 * 1024,
      mode: 'unencrypted',
      log: { warn: (m) => assert.fail(m), info: () => undefined },
    });
    assert.equal(await cache.save({ hash, table }), true);
    await cache.close();

    const t = performance.now();
    await nodes.start(dp);
    const started = performance.now() - t;
    assert.deepEqual(await status(dp), { ready: 200, hash });
    const ready = performance.now() - t;
    const loadedAt = /loaded configuration [0-9a-f]{32} from the cache \(11002 entities/.test(nodeLog(dp));
    assert.ok(loadedAt, 'the cache was the source');
    console.log(
      `      \`hybrid start\` with a 10k-route cache: returned after ${started.toFixed(0)} ms, /status/ready 200 after ${ready.toFixed(0)} ms`,
    );
  });
});
