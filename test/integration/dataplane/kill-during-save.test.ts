// kill -9 of a process writing its config cache, at random moments: the cache always loads, old or new, never damaged.
// (The cache module alone, many saves a second; kill-during-apply.test.ts kills whole data planes.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigCacheMode } from '../../../src/core/dataplane/config-cache.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';
import { largeConfig } from './large-config.js';

const SAVE_LOOP = fileURLToPath(new URL('./fixtures/save-loop.mjs', import.meta.url));
/** The built module (as the CLI runs it): its cache probe starts as plain node, so 20 kills fit in seconds. */
const BUILT = new URL('../../../dist/core/dataplane/config-cache.js', import.meta.url).href;
const KILLS_PER_MODE = 10;

describe('config cache under kill -9', function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  const clusterKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    format: 'pem',
    type: 'pkcs8',
  }) as string;

  let configsFile: string;
  let openConfigCache: typeof import('../../../src/core/dataplane/config-cache.js').openConfigCache;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    ({ openConfigCache } = (await import(
      BUILT
    )) as typeof import('../../../src/core/dataplane/config-cache.js'));
    // Different sizes, so each save reuses and grows lmdb pages differently.
    configsFile = join(dir, 'configs.json');
    writeFileSync(
      configsFile,
      JSON.stringify([
        { hash: 'a'.repeat(32), table: largeConfig(2_000, 'a') },
        { hash: 'b'.repeat(32), table: largeConfig(1_000, 'b') },
      ]),
    );
  });
  after(async () => cleanup());

  /** Starts the save loop, kills it at a random moment after its first committed save; returns the saves seen. */
  async function killDuringSaves(path: string, mode: ConfigCacheMode): Promise<number> {
    const child = spawn(process.execPath, [SAVE_LOOP, BUILT, path, mode, configsFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CLUSTER_KEY_PEM: clusterKeyPem },
    });
    const exited = once(child, 'exit');
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    try {
      await waitUntil(() => out.includes('saved') || child.exitCode !== null, {
        timeoutMs: 20_000,
        intervalMs: 5,
        message: 'the first committed save',
      });
      assert.equal(child.exitCode, null, `the save loop ended by itself: ${err}`);
      // The moment of the kill is the point of the test: anywhere in the next few saves.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 250));
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    assert.equal(child.signalCode, 'SIGKILL');
    return out.split('\n').filter((line) => line.startsWith('saved')).length;
  }

  for (const mode of ['unencrypted', 'encrypted'] as const) {
    it(`${mode}: ${KILLS_PER_MODE} kills, and after each one the cache loads one of the two configs whole`, async () => {
      const path = join(dir, mode, 'dbless.lmdb');
      const seen = new Set<string>();
      let saves = 0;
      for (let kill = 1; kill <= KILLS_PER_MODE; kill++) {
        saves += await killDuringSaves(path, mode);
        const warnings: string[] = [];
        const cache = openConfigCache({
          path,
          mapSize: 256 * 1024 * 1024,
          mode,
          clusterKeyPem,
          log: { warn: (m) => warnings.push(m), info: () => undefined },
        });
        const loaded = cache.load();
        await cache.close();
        assert.deepEqual(warnings, [], `kill ${kill}: no warning`);
        assert.ok(loaded, `kill ${kill}: a config loads`);
        const tag = loaded.hash[0]!;
        assert.ok(loaded.hash === tag.repeat(32) && 'ab'.includes(tag), `kill ${kill}: hash ${loaded.hash}`);
        const routes = loaded.table.routes as { name: string }[];
        assert.equal(routes.length, tag === 'a' ? 2_000 : 1_000, `kill ${kill}: the whole table`);
        assert.ok(
          routes.every((r) => r.name.startsWith(`${tag}-`)),
          `kill ${kill}: the table of its hash`,
        );
        seen.add(tag);
      }
      console.log(
        `      ${mode}: ${KILLS_PER_MODE} kills after ${saves} committed saves; loaded: ${[...seen].join(', ')}`,
      );
    });
  }
});
