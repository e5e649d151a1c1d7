// Targets named by host: A records as addresses, re-resolution after the TTL, failures as dns_error.
import assert from 'node:assert/strict';
import { DNS_ERROR_TTL, DNS_NOT_FOUND_TTL } from '../../../../src/core/proxy/balancer/dns.js';
import {
  createBalancers,
  type Balancers,
  type ResolvedAddress,
  type Resolver,
} from '../../../../src/core/proxy/balancer/index.js';
import type { Balancer } from '../../../../src/core/proxy/types.js';
import { recordingLog, request, upstreamConfig } from './fixtures.js';

function fakeDns() {
  const answers = new Map<string, ResolvedAddress[] | Error>();
  const asked: string[] = [];
  const resolver: Resolver = async (host) => {
    asked.push(host);
    const answer = answers.get(host);
    if (answer instanceof Error) throw answer;
    if (!answer) throw Object.assign(new Error(`queryA ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return answer;
  };
  return { answers, asked, resolver };
}

const a = (address: string, ttl = 30): ResolvedAddress => ({ address, ttl });

describe('balancer: DNS targets', () => {
  let clock: number;
  const now = () => clock;
  const open: Balancers[] = [];
  beforeEach(() => {
    clock = 1_000_000;
  });
  afterEach(() => {
    for (const b of open.splice(0)) b.close();
  });

  async function setup(dns: ReturnType<typeof fakeDns>, targets: [string, number?][], upstream = {}) {
    const log = recordingLog();
    const balancers = createBalancers(upstreamConfig(upstream, targets), {
      log,
      resolver: dns.resolver,
      now,
    });
    open.push(balancers);
    await balancers.ready();
    return { balancers, log, balancer: balancers.forHost('service.upstream')! };
  }
  const keys = (balancer: Balancer, n: number) =>
    [...new Set(Array.from({ length: n }, () => balancer.pick(request())?.target.key ?? null))].sort();

  it('balances over every A record of a name, each with the target weight, keeping the name for Host', async () => {
    const dns = fakeDns();
    dns.answers.set('api.internal', [a('10.1.0.2'), a('10.1.0.1')]);
    const { balancer } = await setup(dns, [
      ['api.internal:8080', 50],
      ['10.2.0.1:80', 100],
    ]);
    assert.deepEqual(
      balancer.health().map((h) => [h.target.key, h.target.weight, h.target.hostname ?? null, h.state]),
      [
        ['10.1.0.1:8080', 50, 'api.internal', 'healthchecks_off'],
        ['10.1.0.2:8080', 50, 'api.internal', 'healthchecks_off'],
        ['10.2.0.1:80', 100, null, 'healthchecks_off'],
      ],
    );
    const picks = Array.from({ length: 200 }, () => balancer.pick(request())!.target.key);
    assert.equal(picks.filter((k) => k === '10.2.0.1:80').length, 100);
    assert.equal(picks.filter((k) => k === '10.1.0.1:8080').length, 50);
  });

  it('resolves again once the TTL has passed and keeps the health of addresses that stayed', async () => {
    const dns = fakeDns();
    dns.answers.set('api.internal', [a('10.1.0.1', 30), a('10.1.0.2', 60)]);
    const { balancers, balancer, log } = await setup(dns, [['api.internal:80']], {
      healthchecks: { passive: { unhealthy: { tcp_failures: 1 } } },
    });
    assert.deepEqual(dns.asked, ['api.internal']);
    const pick = balancer.pick(request())!;
    const keptKey = pick.target.key === '10.1.0.1:80' ? '10.1.0.2:80' : '10.1.0.1:80';
    // Mark the address that will stay unhealthy.
    balancers.setHealth('service.upstream', keptKey, false);
    pick.done({ kind: 'response', status: 200 });

    clock += 29_000; // the shortest TTL (30 s) has not passed yet
    balancer.pick(request());
    await balancers.ready();
    assert.equal(dns.asked.length, 1);

    dns.answers.set('api.internal', [a(keptKey.replace(':80', '')), a('10.1.0.3')]);
    clock += 1_000;
    balancer.pick(request()); // an expired answer is refreshed in the background; this pick uses the old one
    await balancers.ready();
    assert.equal(dns.asked.length, 2);
    const states = Object.fromEntries(balancer.health().map((h) => [h.target.key, h.state]));
    assert.deepEqual(states, { [keptKey]: 'unhealthy', '10.1.0.3:80': 'healthy' });
    assert.deepEqual(keys(balancer, 10), ['10.1.0.3:80']);
    assert.ok(
      log.lines.some((l) => l.includes(`target api.internal:80 resolved to`) && l.includes('10.1.0.3')),
    );
  });

  it('marks a name that does not resolve dns_error, picks around it and tries again later', async () => {
    const dns = fakeDns();
    dns.answers.set('good.internal', [a('10.1.0.1')]);
    const { balancers, balancer, log } = await setup(dns, [['missing.internal:80'], ['good.internal:80']]);
    assert.deepEqual(
      balancer.health().map((h) => [h.target.key, h.state]),
      [
        ['missing.internal:80', 'dns_error'],
        ['10.1.0.1:80', 'healthchecks_off'],
      ],
    );
    assert.deepEqual(keys(balancer, 10), ['10.1.0.1:80']);
    assert.ok(
      log.lines.some((l) =>
        l.startsWith(
          'warn [balancer] upstream service.upstream target missing.internal:80: DNS resolution failed',
        ),
      ),
    );

    // A name that does not exist is asked for again after dns_not_found_ttl.
    dns.answers.set('missing.internal', [a('10.1.0.9')]);
    clock += (DNS_NOT_FOUND_TTL - 1) * 1000;
    balancer.pick(request());
    await balancers.ready();
    assert.equal(dns.asked.filter((h) => h === 'missing.internal').length, 1);
    clock += 1000;
    balancer.pick(request());
    await balancers.ready();
    assert.deepEqual(keys(balancer, 10), ['10.1.0.1:80', '10.1.0.9:80']);

    // A failing server makes the target dns_error too, and is retried after dns_error_ttl.
    dns.answers.set('missing.internal', Object.assign(new Error('queryA ESERVFAIL'), { code: 'ESERVFAIL' }));
    clock += 31_000;
    balancer.pick(request());
    await balancers.ready();
    assert.deepEqual(keys(balancer, 10), ['10.1.0.1:80']);
    const asked = dns.asked.length;
    clock += DNS_ERROR_TTL * 1000;
    balancer.pick(request());
    await balancers.ready();
    assert.equal(dns.asked.length, asked + 1);
  });

  it('skips a name until its first answer arrives; ready() waits for it', async () => {
    let answer: (v: ResolvedAddress[]) => void = () => {};
    const resolver: Resolver = () => new Promise((resolve) => (answer = resolve));
    const balancers = createBalancers(upstreamConfig({}, [['slow.internal:80']]), {
      log: recordingLog(),
      resolver,
      now,
    });
    open.push(balancers);
    const balancer = balancers.forHost('service.upstream')!;
    assert.equal(balancer.pick(request()), null);
    assert.deepEqual(balancer.health(), []);
    answer([a('10.1.0.1')]);
    await balancers.ready();
    assert.equal(balancer.pick(request())!.target.key, '10.1.0.1:80');
  });

  it('carries DNS answers into the next configuration instead of asking again', async () => {
    const dns = fakeDns();
    dns.answers.set('api.internal', [a('10.1.0.1')]);
    const { balancers } = await setup(dns, [['api.internal:80']]);
    const next = createBalancers(upstreamConfig({ algorithm: 'least-connections' }, [['api.internal:80']]), {
      log: recordingLog(),
      resolver: dns.resolver,
      now,
      previous: balancers,
    });
    open.push(next);
    balancers.close();
    assert.equal(next.forHost('service.upstream')!.pick(request())!.target.key, '10.1.0.1:80');
    await next.ready();
    assert.equal(dns.asked.length, 1);
  });
});
