// Passive health checks (the circuit breaker), the counters behind them, and what health() reports.
import assert from 'node:assert/strict';
import { createBalancers, type Balancers } from '../../../../src/core/proxy/balancer/index.js';
import { HealthCounters, type Thresholds } from '../../../../src/core/proxy/balancer/health.js';
import type { AttemptOutcome, Balancer, UpstreamEntity } from '../../../../src/core/proxy/types.js';
import { recordingLog, request, upstreamConfig } from './fixtures.js';

const open: Balancers[] = [];
afterEach(() => {
  for (const b of open.splice(0)) b.close();
});

function setup(upstream: Partial<UpstreamEntity>, targets: [string, number?][]) {
  const log = recordingLog();
  const balancers = createBalancers(upstreamConfig(upstream, targets), { log });
  open.push(balancers);
  return { log, balancer: balancers.forHost('service.upstream')!, balancers };
}

const passive = (unhealthy: Record<string, number>, healthy: Record<string, number> = {}) => ({
  healthchecks: { passive: { unhealthy, healthy } },
});

/** Picks until `key` comes up and finishes that attempt with `outcome`; other picks finish with 200. */
function attempt(balancer: Balancer, key: string, outcome: AttemptOutcome): void {
  for (let i = 0; i < 10; i++) {
    const pick = balancer.pick(request())!;
    if (pick.target.key === key) return pick.done(outcome);
    pick.done({ kind: 'response', status: 200 });
  }
  throw new Error(`${key} was not picked`);
}

const stateOf = (balancer: Balancer, key: string) =>
  balancer.health().find((h) => h.target.key === key)?.state;

describe('balancer: passive health checks', () => {
  it('opens the circuit after unhealthy.http_failures failing responses and logs it', () => {
    const { balancer, log } = setup(passive({ http_failures: 3 }), [['10.0.0.1:80'], ['10.0.0.2:80']]);
    attempt(balancer, '10.0.0.1:80', { kind: 'response', status: 500 });
    attempt(balancer, '10.0.0.1:80', { kind: 'response', status: 503 });
    assert.equal(stateOf(balancer, '10.0.0.1:80'), 'healthy');
    attempt(balancer, '10.0.0.1:80', { kind: 'response', status: 429 });
    assert.equal(stateOf(balancer, '10.0.0.1:80'), 'unhealthy');
    assert.ok(
      log.lines.includes(
        'warn [healthcheck] upstream service.upstream target 10.0.0.1:80 unhealthy: 3 http failures (passive check)',
      ),
      log.lines.join('\n'),
    );
    for (let i = 0; i < 20; i++) assert.equal(balancer.pick(request())!.target.key, '10.0.0.2:80');
  });

  it('counts tcp failures and timeouts with their own thresholds; statuses outside both lists are ignored', () => {
    const { balancer } = setup(passive({ tcp_failures: 2, timeouts: 2 }), [['10.0.0.1:80'], ['10.0.0.2:80']]);
    attempt(balancer, '10.0.0.1:80', { kind: 'tcp_failure' });
    attempt(balancer, '10.0.0.1:80', { kind: 'timeout' });
    attempt(balancer, '10.0.0.1:80', { kind: 'response', status: 418 });
    attempt(balancer, '10.0.0.1:80', { kind: 'response', status: 500 }); // http_failures is 0: off
    assert.equal(stateOf(balancer, '10.0.0.1:80'), 'healthy');
    attempt(balancer, '10.0.0.1:80', { kind: 'timeout' });
    assert.equal(stateOf(balancer, '10.0.0.1:80'), 'unhealthy');
    attempt(balancer, '10.0.0.2:80', { kind: 'tcp_failure' });
    attempt(balancer, '10.0.0.2:80', { kind: 'tcp_failure' });
    assert.equal(stateOf(balancer, '10.0.0.2:80'), 'unhealthy');
    // Nothing healthy is left: the proxy answers 503.
    assert.equal(balancer.pick(request()), null);
  });

  it('an attempt over without a health word (kind none) counts for nothing', () => {
    const { balancer } = setup(passive({ tcp_failures: 1, timeouts: 1, http_failures: 1 }), [
      ['10.0.0.1:80'],
      ['10.0.0.2:80'],
    ]);
    for (let i = 0; i < 10; i++) attempt(balancer, '10.0.0.1:80', { kind: 'none' });
    assert.equal(stateOf(balancer, '10.0.0.1:80'), 'healthy');
  });

  it('needs the failures in a row when healthy.successes is set: a success starts the count again', () => {
    const { balancer } = setup(passive({ http_failures: 2 }, { successes: 1 }), [['10.0.0.1:80']]);
    const finish = (outcome: AttemptOutcome) => balancer.pick(request())!.done(outcome);
    finish({ kind: 'response', status: 500 });
    finish({ kind: 'response', status: 200 });
    finish({ kind: 'response', status: 500 });
    assert.equal(stateOf(balancer, '10.0.0.1:80'), 'healthy');
    finish({ kind: 'response', status: 500 });
    assert.equal(stateOf(balancer, '10.0.0.1:80'), 'unhealthy');
  });

  it('keeps counting failures across successes when healthy.successes is 0, as Kong does', () => {
    const { balancer } = setup(passive({ http_failures: 2 }), [['10.0.0.1:80']]);
    const finish = (outcome: AttemptOutcome) => balancer.pick(request())!.done(outcome);
    finish({ kind: 'response', status: 500 });
    finish({ kind: 'response', status: 200 });
    finish({ kind: 'response', status: 500 });
    assert.equal(stateOf(balancer, '10.0.0.1:80'), 'unhealthy');
  });

  it('stays down with passive checks only; only an attempt still in flight can bring it back', () => {
    const { balancer, log } = setup(passive({ http_failures: 1 }, { successes: 1 }), [
      ['10.0.0.1:80'],
      ['10.0.0.2:80'],
    ]);
    const inFlight = [balancer.pick(request())!, balancer.pick(request())!, balancer.pick(request())!];
    const [first, later] = inFlight.filter((p) => p.target.key === '10.0.0.1:80');
    first!.done({ kind: 'response', status: 500 });
    assert.equal(stateOf(balancer, '10.0.0.1:80'), 'unhealthy');
    // No new traffic reaches it, so new attempts cannot bring it back.
    for (let i = 0; i < 10; i++) {
      const pick = balancer.pick(request())!;
      assert.equal(pick.target.key, '10.0.0.2:80');
      pick.done({ kind: 'response', status: 200 });
    }
    assert.equal(stateOf(balancer, '10.0.0.1:80'), 'unhealthy');
    later!.done({ kind: 'response', status: 200 });
    assert.equal(stateOf(balancer, '10.0.0.1:80'), 'healthy');
    assert.ok(
      log.lines.includes(
        'info [healthcheck] upstream service.upstream target 10.0.0.1:80 healthy: 1 successes (passive check)',
      ),
    );
  });

  it('reports healthchecks_off when neither active nor passive checks are configured, and never trips', () => {
    const { balancer } = setup({}, [['10.0.0.1:80']]);
    for (let i = 0; i < 50; i++) balancer.pick(request())!.done({ kind: 'tcp_failure' });
    assert.deepEqual(
      balancer.health().map((h) => [h.target.key, h.state]),
      [['10.0.0.1:80', 'healthchecks_off']],
    );
    assert.ok(balancer.pick(request()));
  });

  it('takes the whole upstream down below healthchecks.threshold percent of healthy weight', () => {
    const { balancer, log } = setup(
      { healthchecks: { threshold: 60, passive: { unhealthy: { tcp_failures: 1 } } } },
      [['10.0.0.1:80'], ['10.0.0.2:80']],
    );
    attempt(balancer, '10.0.0.1:80', { kind: 'tcp_failure' });
    // 50 % healthy < 60 %: no pick even though 10.0.0.2 is fine.
    assert.equal(balancer.pick(request()), null);
    assert.ok(
      log.lines.some((l) => l.includes('upstream service.upstream unhealthy: 50% of its weight is healthy')),
    );
  });

  it('falls back to the default health checks when the record is invalid, and says so', () => {
    const { balancer, log } = setup({ healthchecks: { passive: { unhealthy: { tcp_failures: 'x' } } } }, [
      ['10.0.0.1:80'],
    ]);
    assert.ok(
      log.lines.some((l) =>
        l.startsWith('warn [healthcheck] upstream service.upstream: invalid healthchecks'),
      ),
    );
    assert.equal(stateOf(balancer, '10.0.0.1:80'), 'healthchecks_off');
  });
});

describe('balancer: health counters', () => {
  const limits: Thresholds = { successes: 2, http_failures: 3, tcp_failures: 2, timeouts: 1 };

  it('flips to unhealthy at a failure threshold and back at the success threshold', () => {
    const counters = new HealthCounters();
    assert.equal(counters.report('http_failure', limits), null);
    assert.equal(counters.report('tcp_failure', limits), null);
    assert.equal(counters.healthy, true);
    assert.deepEqual(counters.report('tcp_failure', limits), {
      healthy: false,
      report: 'tcp_failure',
      count: 2,
    });
    // Fully unhealthy: more failures are not counted.
    assert.equal(counters.report('timeout', limits), null);
    assert.equal(counters.report('success', limits), null);
    assert.equal(counters.healthy, false);
    assert.deepEqual(counters.report('success', limits), { healthy: true, report: 'success', count: 2 });
  });

  it('resets the success count on a failure while recovering', () => {
    const counters = new HealthCounters();
    counters.set(false);
    counters.report('success', limits);
    counters.report('http_failure', limits);
    assert.equal(counters.report('success', limits), null);
    assert.equal(counters.healthy, false);
  });
});

describe('balancer: carrying health into the next configuration', () => {
  it('keeps an unhealthy target down across a config with the same upstream and target ids', () => {
    const config = upstreamConfig(passive({ tcp_failures: 1 }), [['10.0.0.1:80'], ['10.0.0.2:80']]);
    const log = recordingLog();
    const first = createBalancers(config, { log });
    open.push(first);
    attempt(first.forHost('service.upstream')!, '10.0.0.1:80', { kind: 'tcp_failure' });
    const second = createBalancers(structuredClone(config), { log, previous: first });
    open.push(second);
    first.close();
    assert.equal(stateOf(second.forHost('service.upstream')!, '10.0.0.1:80'), 'unhealthy');
    // A re-created target (new id) starts healthy.
    const recreated = upstreamConfig(
      passive({ tcp_failures: 1 }),
      [['10.0.0.1:80'], ['10.0.0.2:80']],
      ['a', 'b'],
    );
    const third = createBalancers(recreated, { log, previous: second });
    open.push(third);
    assert.equal(stateOf(third.forHost('service.upstream')!, '10.0.0.1:80'), 'healthy');
  });

  it('sets a target healthy by hand', () => {
    const { balancers, balancer } = setup(passive({ tcp_failures: 1 }), [['10.0.0.1:80'], ['10.0.0.2:80']]);
    attempt(balancer, '10.0.0.1:80', { kind: 'tcp_failure' });
    assert.equal(balancers.setHealth('service.upstream', '10.0.0.1:80', true), true);
    assert.equal(stateOf(balancer, '10.0.0.1:80'), 'healthy');
    assert.equal(balancers.setHealth('service.upstream', '10.9.9.9:80', true), false);
  });
});
