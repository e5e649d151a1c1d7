// Active health checks against real servers on 127.0.0.1: failing, refusing, hanging and TLS targets.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { createBalancers, type Balancers } from '../../../src/core/proxy/balancer/index.js';
import type { Balancer, UpstreamEntity } from '../../../src/core/proxy/types.js';
import { caAndLeafPem } from '../../helpers/openssl-pki.js';
import { freePort, makeTempDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';
import { recordingLog, request, upstreamConfig } from '../../unit/proxy/balancer/fixtures.js';

interface Backend {
  port: number;
  status: number;
  probes: { path: string; headers: IncomingHttpHeaders }[];
  server: Server;
}

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function backend(status = 200): Promise<Backend> {
  const b = { status, probes: [] } as unknown as Backend;
  b.server = createServer((req, res) => {
    b.probes.push({ path: req.url ?? '', headers: req.headers });
    res.writeHead(b.status).end();
  });
  b.port = await listen(b.server);
  return b;
}

const active = (over: Record<string, unknown>, healthy = {}, unhealthy = {}): Partial<UpstreamEntity> => ({
  healthchecks: {
    active: {
      timeout: 1,
      http_path: '/status',
      ...over,
      healthy: { interval: 0.05, successes: 2, ...healthy },
      unhealthy: { interval: 0.05, http_failures: 2, tcp_failures: 2, timeouts: 1, ...unhealthy },
    },
  },
});

const stateOf = (balancer: Balancer, key: string) =>
  balancer.health().find((h) => h.target.key === key)?.state;

describe('balancer: active health checks (real servers)', function () {
  this.timeout(20_000);
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  function start(upstream: Partial<UpstreamEntity>, targets: [string, number?][]) {
    const log = recordingLog();
    const balancers: Balancers = createBalancers(upstreamConfig(upstream, targets), { log });
    cleanups.push(() => balancers.close());
    return { log, balancers, balancer: balancers.forHost('service.upstream')! };
  }
  function track<T extends { close(cb?: () => void): unknown }>(server: T): T {
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve(undefined))));
    return server;
  }

  it('takes a target that answers 500 out and brings it back when it answers 200 again', async () => {
    const sick = await backend();
    const well = await backend();
    track(sick.server);
    track(well.server);
    const sickKey = `127.0.0.1:${sick.port}`;
    const { balancer, log } = start(active({ headers: { 'x-probe': ['yes'] } }), [
      [sickKey],
      [`127.0.0.1:${well.port}`],
    ]);

    await waitUntil(() => sick.probes.length >= 2, { message: 'probes of the target' });
    assert.equal(sick.probes[0]!.path, '/status');
    assert.equal(sick.probes[0]!.headers.host, '127.0.0.1');
    assert.equal(sick.probes[0]!.headers['x-probe'], 'yes');
    assert.equal(stateOf(balancer, sickKey), 'healthy');

    sick.status = 500;
    await waitUntil(() => stateOf(balancer, sickKey) === 'unhealthy', { message: 'target unhealthy' });
    assert.ok(
      log.lines.includes(
        `warn [healthcheck] upstream service.upstream target ${sickKey} unhealthy: 2 http failures (active check)`,
      ),
      log.lines.join('\n'),
    );
    for (let i = 0; i < 10; i++) assert.equal(balancer.pick(request())!.target.port, well.port);

    sick.status = 200;
    await waitUntil(() => stateOf(balancer, sickKey) === 'healthy', { message: 'target healthy again' });
    assert.ok(log.lines.some((l) => l.includes(`${sickKey} healthy: 2 successes (active check)`)));
    const ports = new Set(Array.from({ length: 10 }, () => balancer.pick(request())!.target.port));
    assert.deepEqual([...ports].sort(), [sick.port, well.port].sort());
  });

  it('marks a target whose port refuses connections unhealthy with tcp failures; pick answers null', async () => {
    const closed = await freePort();
    const key = `127.0.0.1:${closed}`;
    const { balancer, log } = start(active({}), [[key]]);
    await waitUntil(() => stateOf(balancer, key) === 'unhealthy', { message: 'refusing target unhealthy' });
    assert.ok(log.lines.some((l) => l.endsWith(`target ${key} unhealthy: 2 tcp failures (active check)`)));
    assert.equal(balancer.pick(request()), null);
  });

  it('counts a target that accepts but never answers as a timeout', async () => {
    const sockets: Socket[] = [];
    const silent = track(createTcpServer((socket) => sockets.push(socket)));
    cleanups.push(() => sockets.forEach((s) => s.destroy()));
    const key = `127.0.0.1:${await listen(silent)}`;
    const { balancer, log } = start(active({ timeout: 0.2 }), [[key]]);
    await waitUntil(() => stateOf(balancer, key) === 'unhealthy', { message: 'silent target unhealthy' });
    assert.ok(log.lines.some((l) => l.endsWith(`target ${key} unhealthy: 1 timeouts (active check)`)));
  });

  it('probes HTTPS targets, failing the handshake of an unverifiable certificate only when asked to verify', async () => {
    const { dir, cleanup } = await makeTempDir();
    cleanups.push(cleanup);
    const pki = await caAndLeafPem(dir);
    let probes = 0;
    const tls = track(
      createHttpsServer({ cert: pki.leafCert, key: pki.leafKey }, (_req, res) => {
        probes++;
        res.writeHead(200).end();
      }),
    );
    const key = `127.0.0.1:${await listen(tls)}`;
    const lenient = start(active({ type: 'https', https_verify_certificate: false }), [[key]]);
    await waitUntil(() => probes >= 3, { message: 'https probes' });
    assert.equal(stateOf(lenient.balancer, key), 'healthy');
    lenient.balancers.close();

    const strict = start(active({ type: 'https' }), [[key]]);
    await waitUntil(() => stateOf(strict.balancer, key) === 'unhealthy', {
      message: 'unverifiable target unhealthy',
    });
    assert.ok(strict.log.lines.some((l) => l.endsWith(`unhealthy: 2 tcp failures (active check)`)));
  });

  it('resolves localhost through the system resolver and probes it with tcp checks', async () => {
    const tcp = track(createTcpServer((socket) => socket.destroy()));
    const port = await listen(tcp);
    const { balancer, balancers } = start(active({ type: 'tcp' }), [[`localhost:${port}`]]);
    await balancers.ready();
    const [entry] = balancer.health();
    assert.equal(entry?.target.key, `127.0.0.1:${port}`);
    assert.equal(entry?.target.hostname, 'localhost');
    tcp.close();
    await waitUntil(() => stateOf(balancer, `127.0.0.1:${port}`) === 'unhealthy', {
      message: 'closed tcp target',
    });
  });

  it('stops probing when closed', async () => {
    const target = await backend();
    track(target.server);
    const { balancers } = start(active({}), [[`127.0.0.1:${target.port}`]]);
    await waitUntil(() => target.probes.length >= 1, { message: 'first probe' });
    balancers.close();
    const after = target.probes.length;
    // A probe may have been in flight at close; a second balancer shows time passing meanwhile.
    const witness = await backend();
    track(witness.server);
    start(active({}), [[`127.0.0.1:${witness.port}`]]);
    await waitUntil(() => witness.probes.length >= 5, { message: 'witness probes' });
    assert.ok(target.probes.length <= after + 1, `${target.probes.length - after} probes after close`);
  });
});
