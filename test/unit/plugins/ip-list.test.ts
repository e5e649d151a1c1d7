import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { ipListMatcher } from '../../../src/core/plugins/ip-restriction/ip-list.js';

/** A deterministic pseudo-random sequence, so a failure can be replayed. */
function random(seed: number) {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

describe('ip-restriction IP lists', () => {
  it('IPv4: addresses, ranges, /0 and /32', () => {
    const match = ipListMatcher(['10.0.0.0/8', '192.168.1.7', '172.16.0.0/12', '203.0.113.9/32']);
    const cases: [string, boolean][] = [
      ['10.0.0.0', true],
      ['10.255.255.255', true],
      ['11.0.0.0', false],
      ['192.168.1.7', true],
      ['192.168.1.70', false],
      ['172.31.0.1', true],
      ['172.32.0.1', false],
      ['203.0.113.9', true],
      ['203.0.113.8', false],
    ];
    for (const [ip, expected] of cases) assert.equal(match(ip), expected, ip);
    assert.equal(ipListMatcher(['0.0.0.0/0'])('255.255.255.255'), true);
  });

  it('IPv6: compressed forms, prefixes not on a group boundary, embedded IPv4, zones', () => {
    const match = ipListMatcher([
      '2001:db8::/32',
      '::1',
      'fe80::/10',
      '::ffff:0:0/96',
      '2001:db8:abcd:1234::/52',
    ]);
    const cases: [string, boolean][] = [
      ['2001:db8::1', true],
      ['2001:0db8:ffff::', true],
      ['2001:db9::', false],
      ['::1', true],
      ['::2', false],
      ['fe80::1%eth0', true],
      ['febf:ffff::', true],
      ['fec0::', false],
      ['::ffff:10.1.2.3', true],
      ['1::', false],
    ];
    for (const [ip, expected] of cases) assert.equal(match(ip), expected, ip);
  });

  it('families do not mix; a string that is not an address matches nothing', () => {
    assert.equal(ipListMatcher(['0.0.0.0/0'])('::1'), false);
    assert.equal(ipListMatcher(['::/0'])('10.0.0.1'), false);
    assert.equal(ipListMatcher(['0.0.0.0/0', '::/0'])('not-an-ip'), false);
  });

  it('agrees with node:net BlockList on random IPv4 and IPv6 addresses and ranges', () => {
    const next = random(42);
    const byte = () => Math.floor(next() * 256);
    const group = () => Math.floor(next() * 65536).toString(16);
    const v4 = () => `${byte()}.${byte()}.${byte()}.${byte()}`;
    const v6 = () => Array.from({ length: 8 }, group).join(':');
    let matched4 = 0;
    let matched6 = 0;
    for (let round = 0; round < 200; round++) {
      const entries: string[] = [];
      // One list per family: BlockList also matches IPv4 addresses against IPv6 ranges (as ::ffff:a.b.c.d).
      const reference4 = new BlockList();
      const reference6 = new BlockList();
      for (let i = 0; i < 3; i++) {
        const [base, bits] = [v4(), Math.floor(next() * 33)];
        entries.push(`${base}/${bits}`);
        reference4.addSubnet(base, bits, 'ipv4');
        const [base6, bits6] = [v6(), Math.floor(next() * 129)];
        entries.push(`${base6}/${bits6}`);
        reference6.addSubnet(base6, bits6, 'ipv6');
      }
      const match = ipListMatcher(entries);
      for (let i = 0; i < 20; i++) {
        // Half the probes near a listed range so matches happen as well as misses.
        const ip4 = next() < 0.5 ? v4() : entries[0]!.split('/')[0]!.replace(/\.\d+$/, `.${byte()}`);
        assert.equal(match(ip4), reference4.check(ip4, 'ipv4'), `${ip4} in ${entries.join(' ')}`);
        if (match(ip4)) matched4++;
        const ip6 = next() < 0.5 ? v6() : entries[1]!.split('/')[0]!.replace(/:[0-9a-f]+$/, `:${group()}`);
        assert.equal(match(ip6), reference6.check(ip6, 'ipv6'), `${ip6} in ${entries.join(' ')}`);
        if (match(ip6)) matched6++;
      }
    }
    // Both outcomes were exercised in each family.
    assert.ok(matched4 > 200 && matched4 < 3800, `IPv4 matches: ${matched4}`);
    assert.ok(matched6 > 200 && matched6 < 3800, `IPv6 matches: ${matched6}`);
  });
});
