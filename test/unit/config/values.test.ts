// Typed values: booleans, numbers with minimums, sizes, enums, lists, proxy URLs, IPs.
import assert from 'node:assert/strict';
import {
  boolean,
  isIpOrCidr,
  list,
  number,
  oneOf,
  proxyUrl,
  size,
  type ParseContext,
  type Parsed,
} from '../../../src/core/config/values.js';

const ctx: ParseContext = {
  baseDir: '/',
  readFile: () => {
    throw new Error('no files here');
  },
};
const value = <T>(r: Parsed<T>): T => {
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.value;
};
const message = <T>(r: Parsed<T>): string => {
  assert.ok(!r.ok, 'expected a failure');
  return r.message;
};

describe('config values', () => {
  it('booleans: on/off/true/false, case-insensitive; anything else is an error', () => {
    const b = boolean();
    assert.equal(value(b.parse('on', ctx)), true);
    assert.equal(value(b.parse('TRUE', ctx)), true);
    assert.equal(value(b.parse('off', ctx)), false);
    assert.equal(value(b.parse('false', ctx)), false);
    assert.equal(message(b.parse('yes', ctx)), "must be on or off, got 'yes'");
    assert.equal(value(b.unset()), false);
  });

  it('numbers: integer parsing, minimums with Kong messages, maximums, non-numbers', () => {
    const payload = number({ integer: true, min: 4194304, minMessage: 'must be 4194304 (4MB) or greater' });
    assert.equal(value(payload.parse('16777216', ctx)), 16777216);
    assert.equal(value(payload.parse('4194304', ctx)), 4194304);
    assert.equal(message(payload.parse('4194303', ctx)), 'must be 4194304 (4MB) or greater');
    assert.equal(message(payload.parse('1.5', ctx)), "is not an integer: '1.5'");
    assert.equal(message(payload.parse('12abc', ctx)), "is not an integer: '12abc'");
    const port = number({ integer: true, min: 1, max: 65535 });
    assert.equal(message(port.parse('70000', ctx)), 'must be 65535 or less');
    assert.equal(message(port.parse('0', ctx)), 'must be 1 or greater');
    const freq = number({ min: 0, exclusiveMin: true });
    assert.equal(value(freq.parse('0.5', ctx)), 0.5);
    assert.equal(message(freq.parse('0', ctx)), 'must be greater than 0');
    assert.equal(message(payload.unset()), 'must not be empty');
  });

  it('sizes: plain bytes or k/m/g suffixes', () => {
    const s = size();
    assert.equal(value(s.parse('2048m', ctx)), 2048 * 1024 * 1024);
    assert.equal(value(s.parse('512k', ctx)), 512 * 1024);
    assert.equal(value(s.parse('1G', ctx)), 1024 ** 3);
    assert.equal(value(s.parse('4096', ctx)), 4096);
    assert.equal(message(s.parse('2tb', ctx)), "is not a size: '2tb'");
    assert.equal(message(s.parse('0m', ctx)), 'must be greater than 0');
  });

  it('enums list the allowed values in the message', () => {
    const role = oneOf(['traditional', 'control_plane', 'data_plane'] as const);
    assert.equal(value(role.parse('data_plane', ctx)), 'data_plane');
    assert.equal(
      message(role.parse('dataplane', ctx)),
      "has an invalid value: 'dataplane' (traditional, control_plane, data_plane)",
    );
  });

  it('lists split on commas, trim, drop empties and check each entry', () => {
    const l = list((e) => (e === 'bad' ? `invalid entry '${e}'` : undefined));
    assert.deepEqual(value(l.parse(' a , b,,c ', ctx)), ['a', 'b', 'c']);
    assert.equal(message(l.parse('a, bad, bad', ctx)), "invalid entry 'bad'; invalid entry 'bad'");
    assert.deepEqual(value(l.unset()), []);
  });

  it('proxy_server: http(s) URL with host, no query/fragment (Kong messages)', () => {
    const p = proxyUrl();
    assert.equal(value(p.parse('http://proxy.internal:3128', ctx)), 'http://proxy.internal:3128');
    assert.equal(value(p.parse('https://user:pw@proxy:443', ctx)), 'https://user:pw@proxy:443');
    assert.equal(message(p.parse('proxy:3128', ctx)), 'missing scheme');
    assert.equal(
      message(p.parse('socks5://proxy:1080', ctx)),
      'only supports "http" and "https", got socks5',
    );
    assert.equal(
      message(p.parse('http://proxy:3128/?a=b', ctx)),
      'fragments, query strings or parameters are meaningless in proxy configuration',
    );
    assert.equal(value(p.unset()), null);
  });

  it('isIpOrCidr accepts IPv4/IPv6 addresses and CIDR blocks only', () => {
    for (const ok of ['10.0.0.1', '10.0.0.0/8', '::1', '2001:db8::/32', '0.0.0.0/0', '::/0']) {
      assert.ok(isIpOrCidr(ok), ok);
    }
    for (const bad of ['10.0.0.256', '10.0.0.0/33', '::/129', 'example.com', '10.0.0.0/x']) {
      assert.ok(!isIpOrCidr(bad), bad);
    }
  });
});
