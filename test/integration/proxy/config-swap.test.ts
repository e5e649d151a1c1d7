// Applying configurations while traffic flows: every request is answered by the version it started with,
// none fails; the previous balancers are closed and connections to targets no longer configured are closed.
import assert from 'node:assert/strict';
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { DeclarativeConfig } from '../../../src/core/proxy/types.js';
import type { ProxyComponents } from '../../../src/core/proxy/runtime.js';
import { prefixRouter, roundRobinBalancers } from '../../helpers/proxy-doubles.js';
import { startTestProxy, startUpstream, type TestProxy, type Upstream } from '../../helpers/proxy.js';
import { waitUntil } from '../../helpers/wait.js';

function configTo(name: string, port: number): DeclarativeConfig {
  return {
    _format_version: '3.0',
    services: [{ id: `svc-${name}`, name, protocol: 'http', host: name, port: 80 }],
    routes: [
      {
        id: `r-${name}`,
        protocols: ['http'],
        paths: ['/'],
        strip_path: false,
        preserve_host: false,
        service: { id: `svc-${name}` },
      },
    ],
    upstreams: [{ id: `up-${name}`, name }],
    targets: [{ id: `t-${name}`, target: `127.0.0.1:${port}`, upstream: { id: `up-${name}` } }],
  };
}

function connections(upstream: Upstream): Promise<number> {
  return new Promise((resolve, reject) =>
    upstream.server.getConnections((err, count) => (err ? reject(err) : resolve(count))),
  );
}

describe('proxy: configuration swaps', function () {
  this.timeout(30_000);
  let a: Upstream;
  let b: Upstream;
  let proxy: TestProxy;
  const balancerSets: { closed: boolean }[] = [];
  let slowArrived = 0;

  before(async () => {
    const answer = (name: string) => (req: IncomingMessage, res: ServerResponse) => {
      if (!req.url?.startsWith('/slow')) return void res.end(name);
      slowArrived++;
      setTimeout(() => res.end(name), 400);
    };
    a = await startUpstream(answer('a'));
    b = await startUpstream(answer('b'));
    const components: ProxyComponents = {
      buildRouter: prefixRouter,
      createBalancers: (config) => {
        const set = roundRobinBalancers(config);
        balancerSets.push(set);
        return set;
      },
    };
    proxy = await startTestProxy({ config: configTo('a', a.port), components });
  });
  after(async () => {
    await proxy.close();
    await a.close();
    await b.close();
  });

  function get(agent: Agent, path = '/'): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxy.port, path, agent }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('answers every request while configurations are swapped under load', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const statuses = new Map<number, number>();
    const bodies = new Set<string>();
    let running = true;
    const worker = async () => {
      while (running) {
        const reply = await get(agent);
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        bodies.add(reply.body);
      }
    };
    const workers = Array.from({ length: 16 }, worker);
    for (let i = 0; i < 30; i++) {
      await proxy.proxy.apply(i % 2 === 0 ? configTo('b', b.port) : configTo('a', a.port));
      await new Promise((resolve) => setImmediate(resolve));
      await get(agent); // let traffic run between swaps without a fixed sleep
    }
    running = false;
    await Promise.all(workers);
    agent.destroy();
    assert.deepEqual([...statuses.keys()], [200]);
    assert.ok(statuses.get(200)! > 100, `only ${statuses.get(200)} requests`);
    assert.deepEqual([...bodies].sort(), ['a', 'b']);
    // Every replaced version's balancers were closed; the current one's are open.
    assert.ok(balancerSets.slice(0, -1).every((s) => s.closed));
    assert.equal(balancerSets.at(-1)!.closed, false);
  });

  it('lets a request in flight finish on a target that is no longer configured, then closes its connections', async () => {
    await proxy.proxy.apply(configTo('a', a.port));
    const agent = new Agent({ keepAlive: true });
    const slow = get(agent, '/slow');
    await waitUntil(() => slowArrived === 1, { message: 'the slow request to reach a' });
    await proxy.proxy.apply(configTo('b', b.port));
    const fast = await get(agent);
    assert.deepEqual(fast, { status: 200, body: 'b' });
    assert.deepEqual(await slow, { status: 200, body: 'a' });
    await waitUntil(async () => (await connections(a)) === 0, { message: "a's connections to close" });
    agent.destroy();
  });
});
