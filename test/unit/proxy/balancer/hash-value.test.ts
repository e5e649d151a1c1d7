// Which request value consistent hashing uses for each of Kong's hash_on sources.
import assert from 'node:assert/strict';
import { hashValue } from '../../../../src/core/proxy/balancer/hash-value.js';
import type { UpstreamEntity } from '../../../../src/core/proxy/types.js';
import { request } from './fixtures.js';

const upstream = (over: Partial<UpstreamEntity>): UpstreamEntity => ({
  id: 'u',
  name: 'u',
  algorithm: 'consistent-hashing',
  ...over,
});
const fixedCookie = () => 'generated-id';

describe('balancer: hash values', () => {
  it('hashes nothing (the empty string) with hash_on none', () => {
    assert.deepEqual(hashValue(upstream({ hash_on: 'none' }), request()), { value: '' });
  });

  it('takes the consumer id, else the credential id', () => {
    const u = upstream({ hash_on: 'consumer' });
    assert.equal(hashValue(u, request({ consumerId: 'c1', credentialId: 'k1' })).value, 'c1');
    assert.equal(hashValue(u, request({ credentialId: 'k1' })).value, 'k1');
  });

  it('takes the client ip, a header (case-insensitive name, repeated values joined) and the path', () => {
    assert.equal(
      hashValue(upstream({ hash_on: 'ip' }), request({ clientIp: '203.0.113.9' })).value,
      '203.0.113.9',
    );
    const byHeader = upstream({ hash_on: 'header', hash_on_header: 'X-Tenant' });
    assert.equal(hashValue(byHeader, request({ headers: { 'x-tenant': 'acme' } })).value, 'acme');
    assert.equal(
      hashValue(
        upstream({ hash_on: 'header', hash_on_header: 'x-a' }),
        request({ headers: { 'x-a': ['a', 'b'] } }),
      ).value,
      'a, b',
    );
    assert.equal(hashValue(upstream({ hash_on: 'path' }), request({ path: '/orders/7' })).value, '/orders/7');
  });

  it('sorts and joins a repeated query argument', () => {
    const u = upstream({ hash_on: 'query_arg', hash_on_query_arg: 'id' });
    assert.equal(hashValue(u, request({ query: new URLSearchParams('id=b&x=1&id=a') })).value, 'a,b');
    assert.equal(hashValue(u, request({ query: new URLSearchParams('id=7') })).value, '7');
  });

  it('takes a named uri capture', () => {
    const u = upstream({ hash_on: 'uri_capture', hash_on_uri_capture: 'user' });
    const captures = { unnamed: ['42'], named: { user: '42' } };
    assert.equal(hashValue(u, request({ captures })).value, '42');
  });

  it('takes the cookie when sent and makes one up (to be set on the response) when not', () => {
    const u = upstream({ hash_on: 'cookie', hash_on_cookie: 'sticky', hash_on_cookie_path: '/app' });
    assert.deepEqual(hashValue(u, request({ headers: { cookie: 'a=1; sticky=s-1; b=2' } }), fixedCookie), {
      value: 's-1',
    });
    assert.deepEqual(hashValue(u, request({ headers: { cookie: 'a=1' } }), fixedCookie), {
      value: 'generated-id',
      cookie: { name: 'sticky', value: 'generated-id', path: '/app' },
    });
  });

  it('uses hash_fallback with its own parameter when hash_on finds nothing, else the empty string', () => {
    const u = upstream({
      hash_on: 'header',
      hash_on_header: 'x-user',
      hash_fallback: 'query_arg',
      hash_fallback_query_arg: 'session',
    });
    assert.equal(
      hashValue(u, request({ headers: { 'x-user': 'ann' }, query: new URLSearchParams('session=s') })).value,
      'ann',
    );
    assert.equal(hashValue(u, request({ query: new URLSearchParams('session=s') })).value, 's');
    assert.equal(hashValue(u, request()).value, '');
    const headerTwice = upstream({
      hash_on: 'header',
      hash_on_header: 'x-a',
      hash_fallback: 'header',
      hash_fallback_header: 'x-b',
    });
    assert.equal(hashValue(headerTwice, request({ headers: { 'x-b': 'bee' } })).value, 'bee');
  });
});
