// The node runtime through the CLI: start (daemon and foreground), stop, quit, restart, health, reload.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { execa } from 'execa';
import { isAlive } from '../../src/core/process/pid-file.js';
import { BIN, runCli } from '../helpers/cli.js';
import { freePort, makeTempDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text() };
}

function getInsecure(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const pidOf = (prefix: string): number => Number(readFileSync(join(prefix, 'pids', 'hybrid.pid'), 'utf8'));
/** Running, not merely a zombie waiting for the reaper. */
const alive = isAlive;

describe('node runtime (start / stop / quit / restart / health / reload)', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let prefix: string;
  let conf: string;
  let ports: { proxy: number; proxySsl: number; status: number };

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    const gen = await runCli(['gen_cert'], { cwd: dir });
    assert.equal(gen.exitCode, 0, gen.stderr);
  });

  beforeEach(async () => {
    prefix = join(dir, `prefix-${Math.random().toString(36).slice(2, 8)}`);
    ports = { proxy: await freePort(), proxySsl: await freePort(), status: await freePort() };
    conf = join(dir, 'dp.conf');
    writeFileSync(
      conf,
      [
        'role = data_plane',
        'database = off',
        'cluster_cert = cluster.crt',
        'cluster_cert_key = cluster.key',
        `proxy_listen = 127.0.0.1:${ports.proxy}, 127.0.0.1:${ports.proxySsl} ssl http2`,
        `status_listen = 127.0.0.1:${ports.status}`,
        '',
      ].join('\n'),
    );
  });

  afterEach(async () => {
    // Whatever a test left running in its prefix is stopped.
    if (existsSync(join(prefix, 'pids', 'hybrid.pid'))) await runCli(['stop', '-p', prefix]);
  });

  after(async () => cleanup());

  it('starts a data plane as a daemon, returning once it listens', async () => {
    const started = await runCli(['start', '-c', conf, '-p', prefix], { cwd: dir });
    assert.equal(started.exitCode, 0, started.stderr);
    assert.match(started.stdout, /Hybrid started \(data_plane, pid \d+/);
    assert.match(started.stdout, new RegExp(`proxy http://127\\.0\\.0\\.1:${ports.proxy}`));
    // No polling needed: start returned only once the listeners were bound.
    const proxied = await get(`http://127.0.0.1:${ports.proxy}/anything`);
    assert.equal(proxied.status, 404);
    assert.deepEqual(JSON.parse(proxied.body), { message: 'no Route matched with those values' });
    const tls = await getInsecure(`https://127.0.0.1:${ports.proxySsl}/x`);
    assert.equal(tls.status, 404);
    const ready = await get(`http://127.0.0.1:${ports.status}/status/ready`);
    assert.equal(ready.status, 503, 'not ready until a configuration is loaded');
    const status = JSON.parse((await get(`http://127.0.0.1:${ports.status}/status`)).body);
    assert.equal(status.configuration_hash, '0'.repeat(32));
    assert.match(readFileSync(join(prefix, 'node.id'), 'utf8'), /^[0-9a-f-]{36}\n$/);
    assert.match(
      readFileSync(join(prefix, 'logs', 'error.log'), 'utf8'),
      /\[notice\] \d+#0: listening: proxy/,
    );
  });

  it('/status counts connections (open and accepted, every listener, its own included) and proxy requests', async () => {
    assert.equal((await runCli(['start', '-c', conf, '-p', prefix], { cwd: dir })).exitCode, 0);
    type Server = {
      connections_active: number;
      connections_accepted: number;
      connections_handled: number;
      total_requests: number;
    };
    const server = () =>
      new Promise<Server>((resolve, reject) => {
        const req = httpGet(
          { host: '127.0.0.1', port: ports.status, path: '/status', agent: false },
          (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () => resolve((JSON.parse(body) as { server: Server }).server));
          },
        );
        req.on('error', reject);
      });
    const before = await server();
    assert.equal(before.connections_active, 1, 'the status request itself');
    assert.equal(before.connections_handled, before.connections_accepted);
    const opened = [
      netConnect(ports.proxy, '127.0.0.1'),
      netConnect(ports.proxy, '127.0.0.1'),
      tlsConnect({ port: ports.proxySsl, host: '127.0.0.1', rejectUnauthorized: false }),
    ];
    for (const socket of opened) socket.on('error', () => {});
    await waitUntil(async () => (await server()).connections_active === 4, {
      message: 'three client connections and the status one',
    });
    // Two requests on one of them (keep-alive): both counted, and no new connection.
    opened[0]!.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitUntil(async () => (await server()).total_requests === before.total_requests + 2, {
      message: 'two proxy requests counted',
    });
    for (const socket of opened) socket.destroy();
    await waitUntil(async () => (await server()).connections_active === 1, {
      message: 'only the status connection',
    });
    const after = await server();
    // The three client connections, and each status request's own (one per call, agent: false).
    assert.ok(
      after.connections_accepted >= before.connections_accepted + 4,
      JSON.stringify({ before, after }),
    );
  });

  it('refuses to start twice in one prefix, and the first node keeps running', async () => {
    assert.equal((await runCli(['start', '-c', conf, '-p', prefix], { cwd: dir })).exitCode, 0);
    const pid = pidOf(prefix);
    const second = await runCli(['start', '-c', conf, '-p', prefix], { cwd: dir });
    assert.equal(second.exitCode, 3);
    assert.match(second.stderr, new RegExp(`already running in this prefix \\(pid ${pid}\\)`));
    assert.equal(pidOf(prefix), pid);
    assert.equal((await get(`http://127.0.0.1:${ports.proxy}/`)).status, 404);
  });

  it('reports health by exit code and stops cleanly', async () => {
    const notYet = await runCli(['health', '-p', prefix]);
    assert.equal(notYet.exitCode, 1);
    assert.match(notYet.stderr, /not running/);
    await runCli(['start', '-c', conf, '-p', prefix], { cwd: dir });
    const pid = pidOf(prefix);
    const healthy = await runCli(['health', '-p', prefix, '--json']);
    assert.equal(healthy.exitCode, 0);
    assert.deepEqual(JSON.parse(healthy.stdout), { healthy: true, pid, prefix });
    const stopped = await runCli(['stop', '-p', prefix]);
    assert.equal(stopped.exitCode, 0, stopped.stderr);
    assert.equal(alive(pid), false);
    assert.equal(existsSync(join(prefix, 'pids', 'hybrid.pid')), false);
    await assert.rejects(fetch(`http://127.0.0.1:${ports.proxy}/`));
    assert.match(readFileSync(join(prefix, 'logs', 'error.log'), 'utf8'), /received SIGTERM, stopping/);
    assert.equal((await runCli(['health', '-p', prefix])).exitCode, 1);
  });

  it('says so when there is nothing to stop', async () => {
    const result = await runCli(['stop', '-p', prefix]);
    assert.equal(result.exitCode, 3);
    assert.match(result.stderr, /no node is running in prefix/);
  });

  it('quits gracefully', async () => {
    await runCli(['start', '-c', conf, '-p', prefix], { cwd: dir });
    const pid = pidOf(prefix);
    const result = await runCli(['quit', '-p', prefix, '--timeout', '5']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.match(result.stdout, /stopped gracefully/);
    assert.equal(alive(pid), false);
    assert.match(
      readFileSync(join(prefix, 'logs', 'error.log'), 'utf8'),
      /received SIGQUIT, draining connections/,
    );
  });

  it('restarts with a new pid and the same node id', async () => {
    await runCli(['start', '-c', conf, '-p', prefix], { cwd: dir });
    const [pid, id] = [pidOf(prefix), readFileSync(join(prefix, 'node.id'), 'utf8')];
    const result = await runCli(['restart', '-c', conf, '-p', prefix], { cwd: dir });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.notEqual(pidOf(prefix), pid);
    assert.equal(alive(pid), false);
    assert.equal(readFileSync(join(prefix, 'node.id'), 'utf8'), id);
    assert.equal((await get(`http://127.0.0.1:${ports.proxy}/`)).status, 404);
  });

  it('reloads: applies log_level, names what needs a restart, keeps connections', async () => {
    await runCli(['start', '-c', conf, '-p', prefix], { cwd: dir });
    const pid = pidOf(prefix);
    appendFileSync(conf, 'log_level = debug\n');
    const applied = await runCli(['reload', '-c', conf, '-p', prefix, '--json'], { cwd: dir });
    assert.equal(applied.exitCode, 0, applied.stderr);
    const ack = JSON.parse(applied.stdout);
    assert.deepEqual([ack.ok, ack.applied, ack.needsRestart], [true, ['log_level'], []]);

    const other = await freePort();
    appendFileSync(conf, `proxy_listen = 127.0.0.1:${other}\n`);
    const partly = await runCli(['reload', '-c', conf, '-p', prefix], { cwd: dir });
    assert.equal(partly.exitCode, 0, partly.stderr);
    assert.match(partly.stdout, /take effect after a restart: proxy_listen/);
    assert.equal(pidOf(prefix), pid);
    assert.equal((await get(`http://127.0.0.1:${ports.proxy}/`)).status, 404, 'the running listener stays');
  });

  it('reload with KONG_* from the reloading shell: the environment is re-read too', async () => {
    await runCli(['start', '-c', conf, '-p', prefix], { cwd: dir });
    const result = await runCli(['reload', '-c', conf, '-p', prefix, '--json'], {
      cwd: dir,
      env: { KONG_LOG_LEVEL: 'warn' },
    });
    assert.equal(result.exitCode, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout).applied, ['log_level']);
  });

  it('refuses to reload an invalid configuration and the node keeps running', async () => {
    await runCli(['start', '-c', conf, '-p', prefix], { cwd: dir });
    const pid = pidOf(prefix);
    appendFileSync(conf, 'log_level = loud\ncluster_max_payload = 12\n');
    const result = await runCli(['reload', '-c', conf, '-p', prefix], { cwd: dir });
    assert.equal(result.exitCode, 1);
    assert.match(result.stderr, /log_level/);
    assert.match(result.stderr, /cluster_max_payload/);
    assert.equal(alive(pid), true);
    assert.equal((await get(`http://127.0.0.1:${ports.proxy}/`)).status, 404);
  });

  it('does not start with an invalid configuration, printing every error', async () => {
    writeFileSync(conf, 'role = data_plane\ndatabase = postgres\nlog_level = loud\n');
    const result = await runCli(['start', '-c', conf, '-p', prefix], { cwd: dir });
    assert.equal(result.exitCode, 1);
    for (const key of ['database', 'log_level', 'cluster_cert']) assert.match(result.stderr, new RegExp(key));
    assert.equal(existsSync(join(prefix, 'pids', 'hybrid.pid')), false);
  });

  it('reports a port in use and leaves no pid file behind', async () => {
    const blocker = (await import('node:net')).createServer().listen(ports.status, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    try {
      const result = await runCli(['start', '-c', conf, '-p', prefix], { cwd: dir });
      assert.notEqual(result.exitCode, 0);
      assert.match(
        result.stderr,
        new RegExp(`status could not listen on 127\\.0\\.0\\.1:${ports.status}: address already in use`),
      );
      assert.equal(existsSync(join(prefix, 'pids', 'hybrid.pid')), false);
      await assert.rejects(
        fetch(`http://127.0.0.1:${ports.proxy}/`),
        'listeners bound before the failure are closed',
      );
    } finally {
      blocker.close();
    }
  });

  it('runs in the foreground until SIGTERM', async () => {
    const child = execa('node', [BIN, 'start', '--foreground', '-c', conf, '-p', prefix], {
      cwd: dir,
      reject: false,
    });
    await waitUntil(() => get(`http://127.0.0.1:${ports.proxy}/`).then((r) => r.status === 404), {
      timeoutMs: 20_000,
      message: 'foreground node to listen',
    });
    assert.equal(existsSync(join(prefix, 'pids', 'hybrid.pid')), true);
    child.kill('SIGTERM');
    const result = await child;
    assert.equal(result.exitCode, 0, String(result.stderr));
    assert.match(String(result.stderr), /Hybrid started/);
    assert.match(String(result.stderr), /\[notice\] \d+#0: stopped/);
    assert.equal(existsSync(join(prefix, 'pids', 'hybrid.pid')), false);
  });
});
