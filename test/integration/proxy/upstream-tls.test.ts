// TLS toward upstreams through a real proxy and real https servers of a private PKI: ca_certificates and the
// node's trust, client certificates (the service's, else its upstream's), tls_verify_depth, wss tunnels, and
// active health checks of https targets.
import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import WebSocket, { WebSocketServer } from 'ws';
import type { Trust } from '../../../src/core/pki/index.js';
import { createBalancers, type Balancers } from '../../../src/core/proxy/balancer/index.js';
import type { ProxyLog } from '../../../src/core/proxy/runtime.js';
import type { DeclarativeConfig, ServiceEntity } from '../../../src/core/proxy/types.js';
import { buildUpstreamTls } from '../../../src/core/proxy/upstream-tls.js';
import { OpensslPki, type Issued } from '../../helpers/openssl-pki.js';
import { send, serviceConfig, startTestProxy, type TestProxy } from '../../helpers/proxy.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';
import { recordingLog, upstreamConfig } from '../../unit/proxy/balancer/fixtures.js';

const CA_ROOT = '00000000-0000-4000-8000-0000000000a1';
const CA_OTHER = '00000000-0000-4000-8000-0000000000a2';
const UPSTREAM_ID = '00000000-0000-4000-8000-0000000000b1';

interface HttpsUpstream {
  port: number;
  server: Server;
  /** Requests that reached the handler, with the CN of the client certificate (null: none). */
  requests: (string | null)[];
}

function recordingProxyLog(): ProxyLog & { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  return {
    errors,
    warnings,
    debug: () => undefined,
    info: () => undefined,
    warn: (m) => warnings.push(m),
    error: (m) => errors.push(m),
  };
}

describe('proxy: TLS toward upstreams', function () {
  this.timeout(60_000);
  let cleanupDir: () => Promise<void>;
  let root: Issued;
  let otherRoot: Issued;
  let clientRoot: Issued;
  let int1: Issued;
  let int2: Issued;
  /** Issued by root directly (0 intermediates), for 127.0.0.1. */
  let direct: Issued;
  /** Issued by int2 (2 intermediates), for 127.0.0.1. */
  let deep: Issued;
  let serviceClient: Issued;
  let upstreamClient: Issued;

  let proxy: TestProxy | undefined;
  const closers: (() => Promise<unknown> | unknown)[] = [];

  before(async () => {
    const tmp = await makeTempDir('hybrid-upstream-tls-');
    cleanupDir = tmp.cleanup;
    const pki = await OpensslPki.create(tmp.dir);
    root = await pki.root({ name: 'root' });
    otherRoot = await pki.root({ name: 'other-root' });
    clientRoot = await pki.root({ name: 'client-root' });
    int1 = await pki.intermediate(root, { name: 'int1' });
    int2 = await pki.intermediate(int1, { name: 'int2' });
    const san = ['IP:127.0.0.1', 'localhost'];
    direct = await pki.leaf(root, 'cp', { name: 'direct', san });
    deep = await pki.leaf(int2, 'cp', { name: 'deep', san });
    serviceClient = await pki.leaf(clientRoot, 'dp', { name: 'service-client', keySlot: 'service-client' });
    upstreamClient = await pki.leaf(clientRoot, 'dp', {
      name: 'upstream-client',
      keySlot: 'upstream-client',
    });
  });
  after(async () => cleanupDir());
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    for (const close of closers.splice(0).reverse()) await close();
  });

  /** An https upstream presenting `leaf` (with its intermediates); `mtls` requires a client certificate. */
  async function httpsUpstream(leaf: Issued, chain: Issued[] = [], mtls = false): Promise<HttpsUpstream> {
    const requests: (string | null)[] = [];
    const server = createHttpsServer(
      {
        cert: [leaf, ...chain].map((c) => c.certPem).join(''),
        key: leaf.keyPem,
        ...(mtls ? { requestCert: true, rejectUnauthorized: true, ca: clientRoot.certPem } : {}),
      },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        const cn = peer?.subject?.CN ?? null;
        requests.push(typeof cn === 'string' ? cn : null);
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ clientCn: cn ?? null }));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    });
    return { port: (server.address() as AddressInfo).port, server, requests };
  }

  const entities = (): Partial<DeclarativeConfig> => ({
    ca_certificates: [
      { id: CA_ROOT, cert: root.certPem },
      { id: CA_OTHER, cert: otherRoot.certPem },
    ],
    certificates: [
      { id: 'cert-service', cert: serviceClient.certPem, key: serviceClient.keyPem },
      { id: 'cert-upstream', cert: upstreamClient.certPem, key: upstreamClient.keyPem },
    ],
  });

  const https = (port: number, over: Partial<ServiceEntity> = {}): DeclarativeConfig =>
    serviceConfig({ host: '127.0.0.1', port, protocol: 'https', ...over }, [{ paths: ['/'] }], entities());

  const refusal = (port: number, why: string): RegExp =>
    new RegExp(
      `^upstream SSL certificate verify error: ${why} while SSL handshaking to upstream 127\\.0\\.0\\.1:${port}, service svc-1$`,
    );

  describe('verification', () => {
    it('trusts exactly the service’s ca_certificates: 200 with the issuing CA, 502 (logged) with another', async () => {
      const upstream = await httpsUpstream(direct);
      const log = recordingProxyLog();
      proxy = await startTestProxy({
        config: https(upstream.port, { tls_verify: true, ca_certificates: [CA_ROOT] }),
        log,
      });
      assert.equal((await send(proxy.port)).status, 200);
      assert.equal((await send(proxy.port)).status, 200);

      // The verified keep-alive connection is not reused once the service trusts another CA.
      await proxy.proxy.apply(
        https(upstream.port, { tls_verify: true, ca_certificates: [CA_OTHER], retries: 0 }),
      );
      const refused = await send(proxy.port);
      assert.equal(refused.status, 502);
      assert.match(refused.text, /An invalid response was received from the upstream server/);
      assert.equal(upstream.requests.length, 2);
      assert.equal(log.errors.length, 1, log.errors.join('\n'));
      assert.match(
        log.errors[0]!,
        refusal(
          upstream.port,
          'unable to verify the first certificate \\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\\)',
        ),
      );
    });

    it('without ca_certificates trusts the node’s lua_ssl_trusted_certificate: Node’s list alone refuses', async () => {
      const upstream = await httpsUpstream(direct);
      const config = https(upstream.port, { tls_verify: true, retries: 0 });
      const log = recordingProxyLog();
      proxy = await startTestProxy({ config, log });
      assert.equal((await send(proxy.port)).status, 502);
      assert.match(log.errors[0]!, /UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
      await proxy.close();

      // `system` plus the private root, as `lua_ssl_trusted_certificate = system, root.crt` gives.
      proxy = await startTestProxy({ config, trust: { system: true, pems: [root.certPem] } });
      assert.equal((await send(proxy.port)).status, 200);
      await proxy.close();

      // The private root alone (no `system`), and nothing at all.
      proxy = await startTestProxy({ config, trust: { system: false, pems: [root.certPem] } });
      assert.equal((await send(proxy.port)).status, 200);
      await proxy.close();
      proxy = await startTestProxy({ config, trust: { system: false, pems: [] }, log: recordingProxyLog() });
      assert.equal((await send(proxy.port)).status, 502);
      assert.equal(upstream.requests.length, 2);
    });

    it('checks the name too: a certificate of the trusted CA for another name is refused', async () => {
      const upstream = await httpsUpstream(direct);
      const log = recordingProxyLog();
      proxy = await startTestProxy({
        config: serviceConfig(
          { host: '127.0.0.1', port: upstream.port, protocol: 'https', tls_verify: true, retries: 0 },
          [{ paths: ['/'], preserve_host: true }],
          entities(),
        ),
        log,
        trust: { system: false, pems: [root.certPem] },
      });
      const reply = await send(proxy.port, { headers: { host: 'elsewhere.test' } });
      assert.equal(reply.status, 502);
      assert.match(log.errors[0]!, /ERR_TLS_CERT_ALTNAME_INVALID/);
      assert.equal(upstream.requests.length, 0);
    });

    it('with tls_verify off accepts any certificate, whatever ca_certificates says', async () => {
      const upstream = await httpsUpstream(direct);
      proxy = await startTestProxy({ config: https(upstream.port, { ca_certificates: [CA_OTHER] }) });
      assert.equal((await send(proxy.port)).status, 200);
    });
  });

  describe('tls_verify_depth', () => {
    it('refuses a chain with more intermediates than allowed (nginx’s 1 by default), sending nothing', async () => {
      const upstream = await httpsUpstream(deep, [int2, int1]);
      const log = recordingProxyLog();
      proxy = await startTestProxy({
        config: https(upstream.port, { tls_verify: true, ca_certificates: [CA_ROOT], retries: 0 }),
        log,
      });
      const refused = await send(proxy.port);
      assert.equal(refused.status, 502);
      assert.equal(upstream.requests.length, 0);
      assert.deepEqual(log.errors.length, 1);
      assert.match(
        log.errors[0]!,
        refusal(
          upstream.port,
          'certificate chain too long: 2 intermediates, tls_verify_depth allows 1 \\(CERT_CHAIN_TOO_LONG\\)',
        ),
      );

      await proxy.proxy.apply(
        https(upstream.port, { tls_verify: true, ca_certificates: [CA_ROOT], tls_verify_depth: 2 }),
      );
      assert.equal((await send(proxy.port)).status, 200);
      assert.equal(upstream.requests.length, 1);
    });

    it('retries a refused handshake on the next target, as nginx does with a failed handshake', async () => {
      const upstream = await httpsUpstream(deep, [int2, int1]);
      const log = recordingProxyLog();
      proxy = await startTestProxy({
        config: https(upstream.port, { tls_verify: true, ca_certificates: [CA_ROOT], retries: 2 }),
        log,
      });
      assert.equal((await send(proxy.port, { method: 'POST', body: 'x' })).status, 502);
      assert.equal(log.errors.length, 3, 'three attempts, even for a POST: nothing was sent');
    });
  });

  describe('client certificates', () => {
    it('presents the service’s client_certificate to an upstream that requires one; none → 502', async () => {
      const upstream = await httpsUpstream(direct, [], true);
      proxy = await startTestProxy({
        config: https(upstream.port, { client_certificate: { id: 'cert-service' } }),
      });
      const reply = await send(proxy.port);
      assert.equal(reply.status, 200);
      assert.deepEqual(JSON.parse(reply.text), { clientCn: 'service-client' });

      await proxy.proxy.apply(https(upstream.port, { retries: 0 }));
      assert.equal((await send(proxy.port)).status, 502);
      assert.deepEqual(upstream.requests, ['service-client']);
    });

    it('presents the upstream’s client_certificate when the service has none; the service’s wins (Kong)', async () => {
      const upstream = await httpsUpstream(direct, [], true);
      const config = (service: Partial<ServiceEntity>): DeclarativeConfig =>
        serviceConfig(
          {
            host: 'mtls.upstream',
            port: 443,
            protocol: 'https',
            tls_verify: true,
            ca_certificates: [CA_ROOT],
            ...service,
          },
          [{ paths: ['/'] }],
          {
            ...entities(),
            upstreams: [
              { id: UPSTREAM_ID, name: 'mtls.upstream', client_certificate: { id: 'cert-upstream' } },
            ],
            targets: [{ id: 't-1', target: `127.0.0.1:${upstream.port}`, upstream: { id: UPSTREAM_ID } }],
          },
        );
      proxy = await startTestProxy({ config: config({}) });
      assert.deepEqual(JSON.parse((await send(proxy.port)).text), { clientCn: 'upstream-client' });
      await proxy.proxy.apply(config({ client_certificate: { id: 'cert-service' } }));
      assert.deepEqual(JSON.parse((await send(proxy.port)).text), { clientCn: 'service-client' });
    });
  });

  describe('wss', () => {
    it('verifies a wss upstream against ca_certificates: the tunnel opens; another CA gets 502, logged', async () => {
      const server = createHttpsServer({ cert: direct.certPem, key: direct.keyPem });
      const wss = new WebSocketServer({ server });
      wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`echo ${String(data)}`)));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      closers.push(() => {
        wss.close();
        server.closeAllConnections();
        return new Promise((resolve) => server.close(resolve));
      });
      const port = (server.address() as AddressInfo).port;
      const config = (ca: string): DeclarativeConfig =>
        serviceConfig(
          { host: '127.0.0.1', port, protocol: 'wss', tls_verify: true, ca_certificates: [ca], retries: 0 },
          [{ paths: ['/'], protocols: ['ws', 'wss'] }],
          entities(),
        );
      const log = recordingProxyLog();
      proxy = await startTestProxy({ config: config(CA_ROOT), log });

      const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/chat`);
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const reply = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
      ws.send('hello');
      assert.equal(await reply, 'echo hello');
      ws.close();

      await proxy.proxy.apply(config(CA_OTHER));
      const refused = new WebSocket(`ws://127.0.0.1:${proxy.port}/chat`);
      const status = await new Promise<number>((resolve) => {
        refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        refused.once('error', () => resolve(-1));
      });
      assert.equal(status, 502);
      assert.match(log.errors[0]!, refusal(port, '.*\\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\\)'));
    });
  });

  describe('active health checks of https targets', () => {
    function checked(
      port: number,
      trust: Trust,
      depth: number,
      verify = true,
      certificate = 'cert-upstream',
    ) {
      const config = upstreamConfig(
        {
          client_certificate: { id: certificate },
          healthchecks: {
            active: {
              type: 'https',
              https_verify_certificate: verify,
              timeout: 1,
              healthy: { interval: 0.05, successes: 1 },
              unhealthy: { interval: 0.05, tcp_failures: 1 },
            },
          },
        },
        [[`127.0.0.1:${port}`]],
      );
      config.certificates = [
        ...entities().certificates!,
        // A certificate with another's key: it cannot be loaded.
        { id: 'cert-broken', cert: serviceClient.certPem, key: upstreamClient.keyPem },
      ];
      const log = recordingLog();
      const tls = buildUpstreamTls(config, { trust, healthCheckDepth: depth }, log);
      const balancers: Balancers = createBalancers(config, { log, tls });
      closers.push(() => balancers.close());
      const key = `127.0.0.1:${port}`;
      return () =>
        balancers
          .forHost('service.upstream')!
          .health()
          .find((h) => h.target.key === key)?.state;
    }

    it('verify against the node’s trust and present the upstream’s client certificate', async () => {
      const upstream = await httpsUpstream(direct, [], true);
      const trusted = checked(upstream.port, { system: false, pems: [root.certPem] }, 1);
      await waitUntil(() => upstream.requests.length >= 2, { message: 'probes with a client certificate' });
      assert.ok(upstream.requests.every((cn) => cn === 'upstream-client'));
      assert.equal(trusted(), 'healthy');

      const untrusted = checked(upstream.port, { system: true, pems: [] }, 1);
      await waitUntil(() => untrusted() === 'unhealthy', { message: 'an unverifiable target unhealthy' });
      const unchecked = checked(upstream.port, { system: true, pems: [] }, 1, false);
      const before = upstream.requests.length;
      await waitUntil(() => upstream.requests.length >= before + 2, { message: 'unverified probes' });
      assert.equal(unchecked(), 'healthy');
    });

    it('count a client certificate that cannot be loaded as a tcp failure, and keep probing', async () => {
      const upstream = await httpsUpstream(direct);
      const state = checked(upstream.port, { system: false, pems: [root.certPem] }, 1, true, 'cert-broken');
      await waitUntil(() => state() === 'unhealthy', {
        message: 'a target probed without a usable certificate',
      });
      assert.equal(upstream.requests.length, 0);
    });

    it('allow lua_ssl_verify_depth intermediates', async () => {
      const upstream = await httpsUpstream(deep, [int2, int1]);
      const trust = { system: false, pems: [root.certPem] };
      const shallow = checked(upstream.port, trust, 1);
      await waitUntil(() => shallow() === 'unhealthy', { message: 'a chain too deep for depth 1' });
      assert.equal(upstream.requests.length, 0);
      const enough = checked(upstream.port, trust, 2);
      await waitUntil(() => upstream.requests.length >= 2, { message: 'probes at depth 2' });
      assert.equal(enough(), 'healthy');
    });
  });
});
