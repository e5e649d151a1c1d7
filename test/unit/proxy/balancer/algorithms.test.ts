// Round-robin, least-connections and consistent hashing as the proxy sees them through pick().
import assert from 'node:assert/strict';
import { createBalancers, type Balancers } from '../../../../src/core/proxy/balancer/index.js';
import type { Balancer } from '../../../../src/core/proxy/types.js';
import { recordingLog, request, upstreamConfig } from './fixtures.js';

const open: Balancers[] = [];
function balancerFor(...args: Parameters<typeof upstreamConfig>): Balancer {
  const balancers = createBalancers(upstreamConfig(...args), { log: recordingLog() });
  open.push(balancers);
  return balancers.forHost('service.upstream')!;
}
afterEach(() => {
  for (const b of open.splice(0)) b.close();
});

function counts(keys: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of keys) out[key] = (out[key] ?? 0) + 1;
  return out;
}

describe('balancer: round-robin', () => {
  it('spreads 600 picks over weights 1:2:3 exactly, interleaved', () => {
    const balancer = balancerFor({}, [
      ['10.0.0.1:80', 1],
      ['10.0.0.2:80', 2],
      ['10.0.0.3:80', 3],
    ]);
    const picks = Array.from({ length: 600 }, () => balancer.pick(request())!.target.key);
    assert.deepEqual(counts(picks), { '10.0.0.1:80': 100, '10.0.0.2:80': 200, '10.0.0.3:80': 300 });
    // Smooth: the heaviest target never gets more than two picks in a row.
    let run = 1;
    for (let i = 1; i < picks.length; i++) {
      run = picks[i] === picks[i - 1] ? run + 1 : 1;
      assert.ok(run <= 2, `run of ${run} at ${i}`);
    }
  });

  it('never picks a weight-0 target', () => {
    const balancer = balancerFor({}, [
      ['10.0.0.1:80', 0],
      ['10.0.0.2:80', 10],
    ]);
    for (let i = 0; i < 50; i++) assert.equal(balancer.pick(request())!.target.key, '10.0.0.2:80');
    const onlyZero = balancerFor({}, [['10.0.0.1:80', 0]]);
    assert.equal(onlyZero.pick(request()), null);
  });

  it('skips the excluded keys of a retry and returns null when all are excluded', () => {
    const balancer = balancerFor({}, [['10.0.0.1:80'], ['10.0.0.2:80'], ['10.0.0.3:80']]);
    const exclude = new Set(['10.0.0.1:80', '10.0.0.3:80']);
    for (let i = 0; i < 10; i++) assert.equal(balancer.pick(request(), exclude)!.target.key, '10.0.0.2:80');
    exclude.add('10.0.0.2:80');
    assert.equal(balancer.pick(request(), exclude), null);
  });

  it('uses port 8000 when a target has none and keeps IPv6 in brackets', () => {
    const balancer = balancerFor({}, [['10.0.0.9'], ['[::1]:81']]);
    const keys = new Set(Array.from({ length: 4 }, () => balancer.pick(request())!.target.key));
    assert.deepEqual([...keys].sort(), ['10.0.0.9:8000', '[::1]:81']);
    const v6 = balancer.health().find((h) => h.target.key === '[::1]:81')!;
    assert.equal(v6.target.host, '::1');
  });

  it('answers null for hosts that are not upstreams and matches names case-insensitively', () => {
    const balancers = createBalancers(upstreamConfig({}, [['10.0.0.1:80']]), { log: recordingLog() });
    open.push(balancers);
    assert.equal(balancers.forHost('example.com'), null);
    assert.ok(balancers.forHost('Service.Upstream'));
    assert.equal(balancers.all().length, 1);
  });
});

describe('balancer: least-connections', () => {
  it('sends the next attempt to the target with the fewest in flight, by weight', () => {
    const balancer = balancerFor({ algorithm: 'least-connections' }, [
      ['10.0.0.1:80', 200],
      ['10.0.0.2:80', 100],
    ]);
    const picks = Array.from({ length: 30 }, () => balancer.pick(request())!);
    assert.deepEqual(counts(picks.map((p) => p.target.key)), { '10.0.0.1:80': 20, '10.0.0.2:80': 10 });
    // Finish three attempts on 10.0.0.2: it now has the lowest (in flight + 1) / weight.
    for (const p of picks.filter((p) => p.target.key === '10.0.0.2:80').slice(0, 3)) {
      p.done({ kind: 'response', status: 200 });
      p.done({ kind: 'response', status: 200 }); // a second call must not count twice
    }
    const next = Array.from({ length: 3 }, () => balancer.pick(request())!.target.key);
    assert.deepEqual(next, ['10.0.0.2:80', '10.0.0.2:80', '10.0.0.2:80']);
  });

  it('spreads an idle upstream evenly when every attempt finishes at once', () => {
    const balancer = balancerFor({ algorithm: 'least-connections' }, [
      ['10.0.0.1:80'],
      ['10.0.0.2:80'],
      ['10.0.0.3:80'],
    ]);
    const picks = Array.from({ length: 300 }, () => {
      const pick = balancer.pick(request())!;
      pick.done({ kind: 'response', status: 200 });
      return pick.target.key;
    });
    assert.deepEqual(Object.values(counts(picks)), [100, 100, 100]);
  });
});

describe('balancer: consistent hashing', () => {
  const targets = (n: number): [string, number][] =>
    Array.from({ length: n }, (_, i) => [`10.0.1.${i + 1}:80`, 100] as [string, number]);
  const byHeader = { algorithm: 'consistent-hashing' as const, hash_on: 'header', hash_on_header: 'X-Key' };
  const keyed = (key: string) => request({ headers: { 'x-key': key } });

  it('moves only about 1/11 of 10,000 keys, all to the new target, when an eleventh target is added', () => {
    const ten = balancerFor(byHeader, targets(10));
    const eleven = balancerFor(byHeader, targets(11));
    const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
    const before = keys.map((k) => ten.pick(keyed(k))!.target.key);
    const after = keys.map((k) => eleven.pick(keyed(k))!.target.key);
    const shares = Object.values(counts(before)).map((c) => c / keys.length);
    assert.equal(shares.length, 10);
    for (const share of shares) assert.ok(share > 0.06 && share < 0.14, `share ${share}`);
    let moved = 0;
    for (let i = 0; i < keys.length; i++) {
      if (before[i] === after[i]) continue;
      moved++;
      assert.equal(after[i], '10.0.1.11:80', `${keys[i]} moved between old targets`);
    }
    const fraction = moved / keys.length;
    assert.ok(fraction > 0.06 && fraction < 0.125, `moved ${fraction}, expected about ${1 / 11}`);
  });

  it('gives the same key the same target every time and walks on when its target is excluded', () => {
    const balancer = balancerFor(byHeader, targets(5));
    const first = balancer.pick(keyed('alice'))!.target.key;
    for (let i = 0; i < 20; i++) assert.equal(balancer.pick(keyed('alice'))!.target.key, first);
    const second = balancer.pick(keyed('alice'), new Set([first]))!.target.key;
    assert.notEqual(second, first);
    assert.equal(balancer.pick(keyed('alice'), new Set([first]))!.target.key, second);
  });

  it('gives a heavier target a proportionally larger share of keys', () => {
    const balancer = balancerFor(byHeader, [
      ['10.0.1.1:80', 300],
      ['10.0.1.2:80', 100],
    ]);
    const picks = Array.from({ length: 10_000 }, (_, i) => balancer.pick(keyed(`k${i}`))!.target.key);
    const heavy = counts(picks)['10.0.1.1:80']! / picks.length;
    assert.ok(heavy > 0.68 && heavy < 0.82, `heavy share ${heavy}`);
  });

  it('hashes on hash_fallback when the hash_on value is missing', () => {
    const balancer = balancerFor({ ...byHeader, hash_fallback: 'ip' }, targets(8));
    // Without the header the client IP decides: one IP always lands on one target ...
    const fromIp = (ip: string) => balancer.pick(request({ clientIp: ip }))!.target.key;
    assert.equal(new Set(Array.from({ length: 10 }, () => fromIp('198.51.100.7'))).size, 1);
    // ... and many IPs spread over the targets.
    const spread = new Set(Array.from({ length: 200 }, (_, i) => fromIp(`198.51.100.${i}`)));
    assert.ok(spread.size >= 6, `only ${spread.size} targets used`);
    // With the header, the header decides whatever the IP.
    const withHeader = (ip: string) =>
      balancer.pick(request({ clientIp: ip, headers: { 'x-key': 'bob' } }))!.target.key;
    assert.equal(new Set(Array.from({ length: 50 }, (_, i) => withHeader(`203.0.113.${i}`))).size, 1);
  });

  it('returns null when every target is excluded', () => {
    const balancer = balancerFor(byHeader, targets(2));
    assert.equal(balancer.pick(keyed('x'), new Set(['10.0.1.1:80', '10.0.1.2:80'])), null);
  });
});
