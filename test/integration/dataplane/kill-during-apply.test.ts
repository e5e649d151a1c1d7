// kill -9 of a real data plane (`hybrid start --foreground`) while it applies configs from a real control plane,
// 20 times, both cache modes: each time the node restarts, cut off from the control plane, on a cache that loads
// (the config before the change or after it, served whole), or, killed before its first save, empty and saying so.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { BIN, runCli } from '../../helpers/cli.js';
import {
  ClusterNodes,
  cpHash,
  dpStatus,
  FAST_CLUSTER_ENV,
  nodeLog,
  proxyPort,
  type ControlPlane,
  type DataPlane,
} from '../../helpers/cluster-nodes.js';
import { startTcpRelay, type TcpRelay } from '../../helpers/tcp-relay.js';
import { freePort, makeTempDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';

const EMPTY_HASH = '0'.repeat(32);
/** Control plane log lines: a data plane connected (its config follows at once); a config version sent. */
const CONNECTED = / connected \(version /g;
const ANNOUNCED = /config version \d+ \(hash /g;
/** Enough routes that building, encoding and writing a config takes a window a kill can land in. */
const BULK_SERVICES = 100;
const ROUTES_PER_SERVICE = 10;

type CacheMode = 'unencrypted' | 'encrypted';
interface Round {
  mode: CacheMode;
  /** first: a node with an empty cache killed while it takes its first config; update: killed during a change. */
  kind: 'first' | 'update';
  /** The restart after the kill happens with the control plane stopped (else: its connection held). */
  cpStopped: boolean;
}
const ROUNDS: Round[] = Array.from({ length: 20 }, (_, i) => ({
  mode: i < 10 ? 'unencrypted' : 'encrypted',
  kind: i % 5 === 0 ? 'first' : 'update',
  cpStopped: i % 10 === 7,
}));

/** One `hybrid start --foreground`: that process is the node itself (the pid in its pid file). */
interface NodeProcess {
  child: ChildProcess;
  exited: Promise<unknown>;
  /** Where this run's lines start in the node's error log. */
  logFrom: number;
  stderr: () => string;
}

/** What the restarted node served: the config from before the change, the one being applied, or none. */
type Outcome = 'old' | 'new' | 'empty';

describe('data plane killed (SIGKILL) during config applies', function () {
  this.timeout(180_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let nodes: ClusterNodes;
  let cp: ControlPlane;
  let dp: DataPlane;
  let relay: TcpRelay | undefined;
  let echo: Server | undefined;
  let running: NodeProcess | undefined;
  /** The marker route's path in each configuration the control plane announced. */
  const markOf = new Map<string, string>();

  before(async () => {
    ({ dir, cleanup } = await makeTempDir('hybrid-dpkill-'));
    nodes = new ClusterNodes(dir);
  });
  after(async () => {
    if (running) await kill(running);
    await nodes?.stopAll();
    await relay?.close();
    if (echo) await new Promise((resolve) => echo!.close(resolve));
    await cleanup();
  });

  /** Starts the data plane in the foreground and waits until its status API answers. */
  async function startDataPlane(): Promise<NodeProcess> {
    const logFrom = nodeLog(dp).length;
    const child = spawn(process.execPath, [BIN, 'start', '--foreground', '-c', dp.conf, '-p', dp.prefix], {
      cwd: dir,
      env: { ...process.env, ...FAST_CLUSTER_ENV, FORCE_COLOR: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const node: NodeProcess = { child, exited: once(child, 'exit'), logFrom, stderr: () => stderr };
    running = node;
    await waitUntil(async () => child.exitCode !== null || (await dpStatus(dp)), {
      timeoutMs: 30_000,
      intervalMs: 10,
      message: 'the data plane listening',
    });
    assert.equal(child.exitCode, null, `the data plane exited: ${stderr}`);
    const pid = Number(readFileSync(join(dp.prefix, 'pids', 'hybrid.pid'), 'utf8'));
    assert.equal(pid, child.pid, 'the foreground process is the node (no wrapper in between)');
    return node;
  }

  async function kill(node: NodeProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (node.child.exitCode === null && node.child.signalCode === null) node.child.kill(signal);
    await node.exited;
    if (running === node) running = undefined;
  }

  const logOf = (node: NodeProcess) => nodeLog(dp).slice(node.logFrom);
  /** Lines of the control plane's log matching `pattern` so far. */
  const cpLines = (pattern: RegExp) => nodeLog(cp).match(pattern)?.length ?? 0;
  const synced = async () => cpHash(cp) !== undefined && (await dpStatus(dp)).hash === cpHash(cp);
  const proxied = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${proxyPort(dp)}${path}`);
    return { status: res.status, body: await res.text() };
  };

  async function patchMarker(path: string): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${cp.admin}/routes/marker`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ paths: [path] }),
    });
    assert.equal(res.status, 200, await res.text());
  }

  async function writeDataPlaneConf(mode: CacheMode): Promise<void> {
    dp = await nodes.dataPlane('dp', relay!.port, [
      'cluster_cert = cluster.crt',
      'cluster_cert_key = cluster.key',
      `data_plane_config_cache_mode = ${mode}`,
    ]);
  }

  /**
   * The restarted node serves one of `allowed` from its cache (whole: its marker route answers, the other
   * configuration's does not), or with `emptyAllowed` nothing, saying why; never a cache it cannot use.
   */
  async function checkRestart(
    node: NodeProcess,
    allowed: string[],
    emptyAllowed: boolean,
    round: number,
  ): Promise<Outcome> {
    const at = `round ${round + 1}`;
    const status = await dpStatus(dp);
    let outcome: Outcome;
    if (status.hash === EMPTY_HASH && emptyAllowed) {
      outcome = 'empty';
      assert.equal(status.ready, false, `${at}: not ready without a config`);
      await waitUntil(
        () =>
          /no cached configuration and no declarative_config: serving an empty configuration/.test(
            logOf(node),
          ),
        { message: `${at}: the log says why it starts empty` },
      );
      for (const hash of allowed) assert.equal((await proxied(markOf.get(hash)!)).status, 404, at);
    } else {
      const index = allowed.indexOf(status.hash);
      assert.ok(index >= 0, `${at}: serves ${status.hash}, expected one of ${allowed.join(', ')}`);
      outcome = index === 0 && allowed.length === 2 ? 'old' : 'new';
      assert.equal(status.ready, true, `${at}: ready on the cached config`);
      await waitUntil(
        () => new RegExp(`loaded configuration ${status.hash} from the cache`).test(logOf(node)),
        { message: `${at}: the log names the cached config` },
      );
      const served = await proxied(markOf.get(status.hash)!);
      assert.deepEqual(served, { status: 200, body: 'echo' }, `${at}: the cached marker route is proxied`);
      for (const hash of allowed.filter((h) => h !== status.hash))
        assert.equal((await proxied(markOf.get(hash)!)).status, 404, `${at}: only the cached config`);
    }
    assert.doesNotMatch(
      logOf(node),
      /config cache .*(corrupt|not used|cannot be opened)|could not write configuration/,
      `${at}: the cache loaded without complaint`,
    );
    return outcome;
  }

  it('20 kills at varied moments: every restart loads a usable cache, or starts empty and says why', async () => {
    const t0 = performance.now();
    echo = createServer((_req, res) => res.end('echo'));
    const echoPort = await freePort();
    await new Promise<void>((resolve) => echo!.listen(echoPort, '127.0.0.1', resolve));

    // The control plane: the bulk imported before it starts, one marker route the rounds move.
    assert.equal((await runCli(['gen_cert', 'cluster.crt', 'cluster.key'], { cwd: dir })).exitCode, 0);
    cp = await nodes.controlPlane('cp', ['cluster_cert = cluster.crt', 'cluster_cert_key = cluster.key']);
    const bulk = join(dir, 'bulk.json');
    writeFileSync(bulk, JSON.stringify(bulkConfig(echoPort)));
    const imported = await runCli(['config', 'db_import', bulk, '-c', cp.conf, '-p', cp.prefix], {
      cwd: dir,
    });
    assert.equal(imported.exitCode, 0, imported.stderr);
    await nodes.start(cp);
    await waitUntil(() => cpHash(cp), { message: 'the control plane announced its config' });
    markOf.set(cpHash(cp)!, '/mark-init');
    relay = await startTcpRelay(cp.cluster);

    // How long a data plane takes to apply a config once the control plane has sent it, first and changed:
    // each kill lands somewhere in (a bit more than) that window after the CP sends.
    await writeDataPlaneConf(ROUNDS[0]!.mode);
    const connected = cpLines(CONNECTED);
    running = await startDataPlane();
    await waitUntil(() => cpLines(CONNECTED) > connected, { intervalMs: 2, message: 'the DP connected' });
    let sent = performance.now();
    await waitUntil(synced, { timeoutMs: 30_000, intervalMs: 5, message: 'the first sync' });
    const firstApplyMs = performance.now() - sent;
    const calibration = cpHash(cp)!;
    const announced = cpLines(ANNOUNCED);
    await patchMarker('/mark-calibration');
    await waitUntil(() => cpLines(ANNOUNCED) > announced, {
      intervalMs: 2,
      message: 'the CP sent the change',
    });
    sent = performance.now();
    await waitUntil(async () => (await dpStatus(dp)).hash !== calibration, {
      timeoutMs: 30_000,
      intervalMs: 5,
      message: 'the change applied',
    });
    const changeApplyMs = performance.now() - sent;
    markOf.set(cpHash(cp)!, '/mark-calibration');
    await waitUntil(synced, { timeoutMs: 30_000, message: 'synced after the calibration change' });

    const results: { round: Round; outcome: Outcome }[] = [];
    for (const [i, round] of ROUNDS.entries()) {
      let allowed: string[];
      let target: string;
      // The moment of the kill is the point of the test: anywhere in the measured apply window (and a bit past).
      const delayMs = Math.random() * 1.3 * (round.kind === 'first' ? firstApplyMs : changeApplyMs);
      let killed: NodeProcess;
      if (round.kind === 'first') {
        await kill(running!, 'SIGTERM');
        rmSync(join(dp.prefix, 'dbless.lmdb'), { recursive: true, force: true });
        await writeDataPlaneConf(round.mode);
        await relay.open();
        target = cpHash(cp)!;
        allowed = [target];
        const connected = cpLines(CONNECTED);
        killed = await startDataPlane();
        await waitUntil(() => cpLines(CONNECTED) > connected, {
          intervalMs: 2,
          message: `round ${i + 1}: the DP connected`,
        });
      } else {
        const before = (await dpStatus(dp)).hash;
        assert.equal(before, cpHash(cp), `round ${i + 1}: starts in sync`);
        killed = running!;
        const announced = cpLines(ANNOUNCED);
        await patchMarker(`/mark-${i + 1}`);
        await waitUntil(() => cpLines(ANNOUNCED) > announced, {
          intervalMs: 2,
          message: `round ${i + 1}: the CP sent the change`,
        });
        target = cpHash(cp)!;
        markOf.set(target, `/mark-${i + 1}`);
        allowed = [before, target];
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await kill(killed);
      assert.equal(killed.child.signalCode, 'SIGKILL', `round ${i + 1}: killed by SIGKILL`);

      // The restart, with no control plane to fall back on.
      if (round.cpStopped) {
        await relay.close();
        await nodes.stop(cp);
      } else {
        await relay.hold();
      }
      running = await startDataPlane();
      const outcome = await checkRestart(running, allowed, round.kind === 'first', i);
      results.push({ round, outcome });
      if (round.cpStopped) {
        await waitUntil(() => /cannot connect to control plane/.test(logOf(running!)), {
          message: `round ${i + 1}: the control plane is down`,
        });
        const announced = cpLines(ANNOUNCED);
        await nodes.start(cp);
        await waitUntil(() => cpLines(ANNOUNCED) > announced, { message: 'the restarted CP announced' });
        assert.equal(cpHash(cp), target, 'the restarted CP has the same config');
      }
      await relay.open();
      if (ROUNDS[i + 1]?.kind !== 'first')
        await waitUntil(synced, { timeoutMs: 30_000, message: `round ${i + 1}: resynced` });
    }

    const tally = (kind: Round['kind'], mode: CacheMode) => {
      const mine = results.filter((r) => r.round.kind === kind && r.round.mode === mode);
      const count = (outcome: Outcome) => mine.filter((r) => r.outcome === outcome).length;
      return `${mine.length} ${kind} (${count('old')} old, ${count('new')} new, ${count('empty')} empty)`;
    };
    console.log(
      `      apply windows: first ${firstApplyMs.toFixed(0)} ms, change ${changeApplyMs.toFixed(0)} ms; ` +
        (['unencrypted', 'encrypted'] as const)
          .map((mode) => `${mode}: ${tally('first', mode)}; ${tally('update', mode)}`)
          .join('; ') +
        `; ${((performance.now() - t0) / 1000).toFixed(1)} s in all`,
    );
  });
});

/** A decK file: bulk services and routes (to nowhere), and the marker route to the echo server. */
function bulkConfig(echoPort: number): Record<string, unknown> {
  const services: Record<string, unknown>[] = Array.from({ length: BULK_SERVICES }, (_, s) => ({
    name: `bulk-${s}`,
    url: `http://127.0.0.1:9/bulk/${s}`,
    routes: Array.from({ length: ROUTES_PER_SERVICE }, (_, r) => ({
      name: `bulk-${s}-${r}`,
      hosts: [`h${s}.example.com`],
      paths: [`/bulk/${s}/${r}`],
      methods: ['GET', 'POST'],
    })),
  }));
  services.push({
    name: 'echo',
    url: `http://127.0.0.1:${echoPort}/`,
    routes: [{ name: 'marker', paths: ['/mark-init'] }],
  });
  return { _format_version: '3.0', services };
}
