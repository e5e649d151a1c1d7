// The prometheus plugin on real traffic: a global plugin configured on a real control plane, requests through a real
// data plane (started by the CLI) to an upstream with a live and a dead target, and the data plane's /metrics.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { runCli } from '../../helpers/cli.js';
import {
  adminCreate,
  ClusterNodes,
  dpStatus,
  proxyPort,
  type ControlPlane,
  type DataPlane,
} from '../../helpers/cluster-nodes.js';
import { send, startEchoUpstream, type Upstream } from '../../helpers/proxy.js';
import { freePort, makeTempDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';
import {
  parseExposition,
  sampleValue,
  type Exposition,
} from '../../unit/plugins/prometheus/exposition-parser.js';

/** One HTTP/1.1 exchange on its own connection: every byte the client received. */
function exchange(port: number, request: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
  });
}

const PROXIED = 6;
const REFUSED = 2;

describe('prometheus: request, latency, bandwidth and upstream health metrics of real traffic', function () {
  this.timeout(90_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let nodes: ClusterNodes;
  let upstream: Upstream;
  let cp: ControlPlane;
  let dp: DataPlane;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir('hybrid-prometheus-traffic-'));
    nodes = new ClusterNodes(dir);
    upstream = await startEchoUpstream();
    assert.equal((await runCli(['gen_cert', 'shared.crt', 'shared.key'], { cwd: dir })).exitCode, 0);
  });
  after(async () => {
    await nodes?.stopAll();
    await upstream?.close();
    await cleanup?.();
  });

  const scrape = async (): Promise<Exposition> => {
    const res = await fetch(`http://127.0.0.1:${dp.status}/metrics`);
    assert.equal(res.status, 200);
    return parseExposition(await res.text());
  };

  it('counts requests by service, route, code and source, with latency histograms, bandwidth and target health', async () => {
    const shared = ['cluster_cert = shared.crt', 'cluster_cert_key = shared.key'];
    cp = await nodes.controlPlane('cp', shared);
    await nodes.start(cp);
    dp = await nodes.dataPlane('dp', cp.cluster, shared);
    await nodes.start(dp);

    const live = `127.0.0.1:${upstream.port}`;
    const dead = `127.0.0.1:${await freePort()}`;
    const probe = { interval: 0.1, successes: 1 };
    await adminCreate(cp, '/upstreams', {
      name: 'pool',
      healthchecks: {
        active: {
          http_path: '/health',
          timeout: 1,
          healthy: probe,
          unhealthy: { interval: 0.1, tcp_failures: 1, http_failures: 1, timeouts: 1 },
        },
      },
    });
    await adminCreate(cp, '/upstreams/pool/targets', { target: live });
    await adminCreate(cp, '/upstreams/pool/targets', { target: dead });
    await adminCreate(cp, '/services', { name: 'orders', host: 'pool', port: 80 });
    await adminCreate(cp, '/services/orders/routes', { name: 'orders-route', paths: ['/orders'] });
    await adminCreate(cp, '/services/orders/routes', { name: 'blocked', paths: ['/blocked'] });
    await adminCreate(cp, '/routes/blocked/plugins', {
      name: 'ip-restriction',
      config: { deny: ['127.0.0.1'] },
    });
    await adminCreate(cp, '/plugins', {
      name: 'prometheus',
      config: {
        status_code_metrics: true,
        latency_metrics: true,
        bandwidth_metrics: true,
        upstream_health_metrics: true,
      },
    });
    const cpHash = async () =>
      (
        (await (await fetch(`http://127.0.0.1:${cp.admin}/status`)).json()) as {
          configuration_hash?: string;
        }
      ).configuration_hash;
    // The CP coalesces the writes above into pushes, so a matching hash may be an intermediate configuration;
    // the target health series below need the last write (the prometheus plugin), so they wait for the final one.
    await waitUntil(
      async () => {
        const hash = await cpHash();
        return hash !== undefined && (await dpStatus(dp)).hash === hash;
      },
      { timeoutMs: 20_000, message: 'the data plane serving the control plane’s configuration' },
    );

    const health = (target: string, state: string) => ({
      upstream: 'pool',
      target,
      address: target,
      state,
      subsystem: 'http',
    });
    const healthOf = (parsed: Exposition, target: string) =>
      ['healthchecks_off', 'healthy', 'unhealthy', 'dns_error'].filter(
        (state) => sampleValue(parsed, 'kong_upstream_target_health', health(target, state)) === 1,
      );
    await waitUntil(
      async () => {
        const parsed = await scrape();
        return healthOf(parsed, dead).join() === 'unhealthy' && healthOf(parsed, live).join() === 'healthy';
      },
      { timeoutMs: 15_000, message: 'the dead target unhealthy and the live one healthy' },
    );

    const port = proxyPort(dp);
    // Exact byte counts on the wire, both ways, to compare with kong_bandwidth_bytes.
    const request = `GET /orders HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`;
    let received = 0;
    for (let i = 0; i < PROXIED; i++) {
      const reply = await exchange(port, request);
      assert.match(reply.toString('latin1'), /^HTTP\/1\.1 200 OK\r\n/);
      received += reply.length;
    }
    for (let i = 0; i < REFUSED; i++) assert.equal((await send(port, { path: '/blocked' })).status, 403);
    assert.equal((await send(port, { path: '/nowhere' })).status, 404);

    const orders = { service: 'orders', route: 'orders-route', workspace: 'default' };
    const blocked = { service: 'orders', route: 'blocked', workspace: 'default' };
    const requests = (labels: Record<string, string>, code: string, source: string) =>
      sampleValue(parsed, 'kong_http_requests_total', { ...labels, code, source, consumer: '' });
    // The log phase runs after the response is sent: wait until every request is recorded.
    let parsed = await waitUntil(
      async () => {
        const scraped = await scrape();
        return sampleValue(scraped, 'kong_request_latency_ms_count', blocked) === REFUSED ? scraped : null;
      },
      { message: 'every request recorded' },
    );
    parsed = await waitUntil(
      async () => {
        const scraped = await scrape();
        return sampleValue(scraped, 'kong_request_latency_ms_count', orders) === PROXIED ? scraped : null;
      },
      { message: 'every proxied request recorded' },
    );

    assert.equal(requests(orders, '200', 'service'), PROXIED);
    assert.equal(requests(blocked, '403', 'kong'), REFUSED);
    const families = parsed.samples.filter((s) => s.name === 'kong_http_requests_total');
    assert.equal(families.length, 2, 'a request that matched no route is not recorded');

    for (const histogram of ['kong_request_latency_ms', 'kong_upstream_latency_ms', 'kong_kong_latency_ms'])
      assert.equal(sampleValue(parsed, `${histogram}_count`, orders), PROXIED, histogram);
    assert.ok(sampleValue(parsed, 'kong_request_latency_ms_sum', orders)! > 0);
    assert.ok(sampleValue(parsed, 'kong_request_latency_ms_bucket', { ...orders, le: '+Inf' }) === PROXIED);
    assert.equal(sampleValue(parsed, 'kong_kong_latency_ms_count', blocked), REFUSED);
    assert.equal(
      sampleValue(parsed, 'kong_upstream_latency_ms_count', blocked),
      undefined,
      'refused requests never reached an upstream',
    );

    const bandwidth = (labels: Record<string, string>, direction: string) =>
      sampleValue(parsed, 'kong_bandwidth_bytes', { ...labels, direction, consumer: '' }) ?? 0;
    // As Kong's request_length and bytes_sent: heads included.
    assert.equal(bandwidth(orders, 'ingress'), PROXIED * Buffer.byteLength(request));
    assert.equal(bandwidth(orders, 'egress'), received);
    assert.ok(bandwidth(blocked, 'ingress') > 0);
    assert.ok(bandwidth(blocked, 'egress') > '{"message":"Your IP address is not allowed"}'.length);

    // Health is still exported after the traffic; the dead target was never chosen.
    assert.deepEqual(healthOf(parsed, dead), ['unhealthy']);
    assert.deepEqual(healthOf(parsed, live), ['healthy']);
  });
});
