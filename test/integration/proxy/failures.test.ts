// Upstream failures get Kong's answers: 504 on timeout, 502 on refused connections (after the service's
// retries, each reported to the balancer) and on broken responses, 503 when no target is healthy.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { AttemptOutcome, DeclarativeConfig } from '../../../src/core/proxy/types.js';
import { doubleComponents, type OutcomeLog } from '../../helpers/proxy-doubles.js';
import {
  send,
  serviceConfig,
  startEchoUpstream,
  startTestProxy,
  startUpstream,
  type Echo,
  type TestProxy,
} from '../../helpers/proxy.js';
import { silentListener } from '../../helpers/silent-listener.js';
import { freePort } from '../../helpers/tmp.js';

/** A service on the upstream `pool` with the given targets. */
function upstreamConfig(
  targets: string[],
  service: Partial<{ retries: number; read_timeout: number; connect_timeout: number }> = {},
) {
  const config: DeclarativeConfig = serviceConfig({ host: 'pool', port: 80, ...service });
  config.upstreams = [{ id: 'up-1', name: 'pool' }];
  config.targets = targets.map((target, i) => ({ id: `t-${i}`, target, upstream: { id: 'up-1' } }));
  return config;
}

async function rawServer(
  onSocket: (socket: Socket) => void,
): Promise<{ server: Server; port: number; accepted: () => number }> {
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, accepted: () => accepted };
}

describe('proxy: upstream failures', () => {
  let proxy: TestProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  it('answers 504 when the upstream does not answer within read_timeout', async () => {
    const silent = await startUpstream(() => undefined);
    try {
      proxy = await startTestProxy({
        config: serviceConfig({ host: '127.0.0.1', port: silent.port, read_timeout: 300, retries: 0 }),
      });
      const started = Date.now();
      const reply = await send(proxy.port, { path: '/slow' });
      assert.equal(reply.status, 504);
      assert.deepEqual(JSON.parse(reply.text), { message: 'The upstream server is timed out' });
      assert.equal(reply.headers['content-type'], 'application/json; charset=utf-8');
      const waited = Date.now() - started;
      assert.ok(waited >= 290 && waited < 1500, `answered after ${waited} ms`);
    } finally {
      await silent.close();
    }
  });

  it('answers 504 when the upstream does not accept within connect_timeout, each retry timed alike', async () => {
    const silent = await silentListener();
    try {
      const outcomes: OutcomeLog = new Map();
      proxy = await startTestProxy({
        config: upstreamConfig([`127.0.0.1:${silent.port}`], { connect_timeout: 300, retries: 1 }),
        components: doubleComponents(outcomes),
      });
      const started = Date.now();
      const reply = await send(proxy.port, { path: '/unanswered' });
      const waited = Date.now() - started;
      assert.equal(reply.status, 504);
      assert.deepEqual(JSON.parse(reply.text), { message: 'The upstream server is timed out' });
      assert.ok(waited >= 590 && waited < 2000, `two attempts of 300 ms, answered after ${waited} ms`);
      assert.deepEqual(outcomes.get(`127.0.0.1:${silent.port}`), [{ kind: 'timeout' }, { kind: 'timeout' }]);
    } finally {
      silent.close();
    }
  });

  it('answers 502 for a closed port after the retries, reporting each attempt to the balancer', async () => {
    const closed = await freePort();
    const outcomes: OutcomeLog = new Map();
    proxy = await startTestProxy({
      config: upstreamConfig([`127.0.0.1:${closed}`], { retries: 3 }),
      components: doubleComponents(outcomes),
    });
    const reply = await send(proxy.port, { path: '/dead' });
    assert.equal(reply.status, 502);
    assert.deepEqual(JSON.parse(reply.text), {
      message: 'An invalid response was received from the upstream server',
    });
    const expected: AttemptOutcome[] = Array.from({ length: 4 }, () => ({ kind: 'tcp_failure' }));
    assert.deepEqual(outcomes.get(`127.0.0.1:${closed}`), expected);
  });

  it('retries a refused POST on the next target with its body intact', async () => {
    const closed = await freePort();
    const live = await startEchoUpstream();
    const outcomes: OutcomeLog = new Map();
    try {
      proxy = await startTestProxy({
        config: upstreamConfig([`127.0.0.1:${closed}`, `127.0.0.1:${live.port}`]),
        components: doubleComponents(outcomes),
      });
      const reply = await send(proxy.port, {
        method: 'POST',
        path: '/submit',
        headers: { 'content-type': 'text/plain' },
        body: 'x'.repeat(200_000),
      });
      assert.equal(reply.status, 200);
      const echo = JSON.parse(reply.text) as Echo;
      assert.equal(echo.body.length, 200_000);
      assert.deepEqual(outcomes.get(`127.0.0.1:${closed}`), [{ kind: 'tcp_failure' }]);
      assert.deepEqual(outcomes.get(`127.0.0.1:${live.port}`), [{ kind: 'response', status: 200 }]);
    } finally {
      await live.close();
    }
  });

  it('answers 502 when the upstream sends something that is not HTTP, and 502 for a direct closed port', async () => {
    const garbage = await rawServer((socket) => socket.end('this is not http\r\n\r\n'));
    try {
      proxy = await startTestProxy({
        config: serviceConfig({ host: '127.0.0.1', port: garbage.port, retries: 1 }),
      });
      const reply = await send(proxy.port, { path: '/' });
      assert.equal(reply.status, 502);
      assert.deepEqual(JSON.parse(reply.text), {
        message: 'An invalid response was received from the upstream server',
      });
      // An idempotent GET is resent once (retries 1): two connections.
      assert.equal(garbage.accepted(), 2);

      const closed = await freePort();
      await proxy.proxy.apply(serviceConfig({ host: '127.0.0.1', port: closed, retries: 2 }));
      assert.equal((await send(proxy.port, { path: '/' })).status, 502);
    } finally {
      garbage.server.close();
    }
  });

  it('does not resend a POST that reached an upstream which then broke the connection', async () => {
    const reset = await rawServer((socket) => socket.once('data', () => socket.destroy()));
    try {
      proxy = await startTestProxy({
        config: serviceConfig({ host: '127.0.0.1', port: reset.port, retries: 3 }),
      });
      const reply = await send(proxy.port, { method: 'POST', path: '/', body: 'once' });
      assert.equal(reply.status, 502);
      assert.equal(reset.accepted(), 1);
    } finally {
      reset.server.close();
    }
  });

  it('answers 503 when the upstream has no healthy target', async () => {
    const live = await startEchoUpstream();
    try {
      const key = `127.0.0.1:${live.port}`;
      proxy = await startTestProxy({
        config: upstreamConfig([key]),
        components: doubleComponents(new Map(), new Set([key])),
      });
      const reply = await send(proxy.port, { path: '/' });
      assert.equal(reply.status, 503);
      assert.deepEqual(JSON.parse(reply.text), { message: 'failure to get a peer from the ring-balancer' });

      await proxy.proxy.apply(upstreamConfig([]));
      assert.equal((await send(proxy.port, { path: '/' })).status, 503);
    } finally {
      await live.close();
    }
  });

  it('spreads requests over the targets of an upstream and sends the upstream host_header', async () => {
    const a = await startEchoUpstream();
    const b = await startEchoUpstream();
    try {
      const config = upstreamConfig([`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`]);
      config.upstreams![0]!.host_header = 'backend.internal';
      proxy = await startTestProxy({ config });
      const seen = new Set<number>();
      for (let i = 0; i < 4; i++) {
        const echo = JSON.parse((await send(proxy.port, { path: '/' })).text) as Echo;
        assert.equal(echo.headers.host, 'backend.internal');
        seen.add(echo.port);
      }
      assert.deepEqual([...seen].sort(), [a.port, b.port].sort());
    } finally {
      await a.close();
      await b.close();
    }
  });
});
