// `hybrid quickstart` is the README's first command: it must work end to end and clean up after itself.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { BIN, runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

describe('hybrid quickstart', function () {
  this.timeout(120_000);

  it('starts a control plane and a data plane, proxies a request through them, shows the cluster, stops both', async () => {
    const result = await runCli(['quickstart']);
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /control plane started \(pid \d+\)/);
    assert.match(result.stdout, /data plane started \(pid \d+\)/);
    assert.match(result.stdout, /created route[\s\S]*HTTP 201/);
    // The sample upstream echoes what it received: the data plane routed, stripped /example and added headers.
    assert.match(result.stdout, /proxied through the data plane[\s\S]*HTTP 200/);
    assert.match(result.stdout, /"url": "\/hello\?from=quickstart"/);
    assert.match(result.stdout, /"x-forwarded-for": "127\.0\.0\.1"/);
    assert.match(result.stdout, /"via": "1\.1 hybrid\//);
    assert.match(result.stdout, /connected\s+in sync/);
    assert.match(result.stdout, /healthy: 1 of 1 data plane\(s\) connected/);
    assert.match(result.stdout, /Quickstart finished: both nodes stopped, files removed/);
    const dir = /working directory (\S+) \(temporary/.exec(result.stdout)![1]!;
    assert.equal(existsSync(dir), false, 'temporary directory removed');
  });

  it('--json: the endpoints, the proxied answer and the cluster report', async () => {
    const { dir, cleanup } = await makeTempDir();
    try {
      const result = await runCli(['quickstart', '--dir', join(dir, 'qs'), '--json']);
      assert.equal(result.exitCode, 0, result.stderr);
      const report = JSON.parse(result.stdout) as {
        dir: string;
        temporary: boolean;
        request: { status: number; body: string; propagationMs: number };
        cluster: { healthy: boolean; data_planes: unknown[] };
      };
      assert.equal(report.temporary, false);
      assert.equal(report.request.status, 200);
      assert.match(report.request.body, /"method": "GET"/);
      assert.ok(report.request.propagationMs < 10_000);
      assert.equal(report.cluster.healthy, true);
      assert.equal(report.cluster.data_planes.length, 1);
      // A given directory is kept, with the certificates, configurations and both prefixes.
      for (const name of ['cluster.crt', 'cluster.key', 'cp.conf', 'dp.conf', 'cp', 'dp'])
        assert.ok(existsSync(join(dir, 'qs', name)), name);
    } finally {
      await cleanup();
    }
  });

  it('refuses a directory that is not empty, and changes nothing in it', async () => {
    const { dir, cleanup } = await makeTempDir();
    try {
      writeFileSync(join(dir, 'keep.txt'), 'mine');
      const result = await runCli(['quickstart', '--dir', dir]);
      assert.equal(result.exitCode, 3);
      assert.match(result.stderr, /is not empty/);
      assert.deepEqual(readdirSync(dir), ['keep.txt']);
    } finally {
      await cleanup();
    }
  });

  it('--keep: both nodes run until Ctrl-C, then stop', async () => {
    const { dir, cleanup } = await makeTempDir();
    const qs = join(dir, 'qs');
    const child = execa('node', [BIN, 'quickstart', '--dir', qs, '--keep'], {
      reject: false,
      env: { FORCE_COLOR: '0' },
    });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitUntil(() => /Press Ctrl-C to stop/.test(output), { timeoutMs: 60_000 });
      const proxyUrl = /proxy (http:\/\/127\.0\.0\.1:\d+)\. Press/.exec(output)![1]!;
      const res = await fetch(`${proxyUrl}/example/again`);
      assert.equal(res.status, 200, 'still proxying while kept');
      child.kill('SIGINT');
      const done = await child;
      assert.equal(done.exitCode, 0, done.stderr);
      assert.match(output, /both nodes stopped/);
      for (const prefix of ['cp', 'dp'])
        assert.equal(existsSync(join(qs, prefix, 'pids', 'hybrid.pid')), false, `${prefix} pid file`);
    } finally {
      child.kill('SIGKILL');
      await cleanup();
    }
  });
});
