// Pure header rules of the proxy: Host and request-target parsing, the `headers` setting, trusted_ips,
// and the hop-by-hop stripping of response heads.
import assert from 'node:assert/strict';
import { classifyFailure, hostWithPort, serverName } from '../../../src/core/proxy/forward.js';
import { newRequestId } from '../../../src/core/proxy/request-id.js';
import {
  appendVia,
  headerPolicy,
  splitHostHeader,
  splitRequestTarget,
  endToEndResponseHeaders,
  headerObject,
} from '../../../src/core/proxy/headers.js';
import { plainAddress, trustedIps } from '../../../src/core/proxy/trusted-ips.js';

describe('proxy headers', () => {
  it('splits Host headers, IPv6 included', () => {
    assert.deepEqual(splitHostHeader('Example.COM'), { host: 'example.com', port: null });
    assert.deepEqual(splitHostHeader('example.com:8000'), { host: 'example.com', port: 8000 });
    assert.deepEqual(splitHostHeader('[::1]:8443'), { host: '::1', port: 8443 });
    assert.deepEqual(splitHostHeader('[::1]'), { host: '::1', port: null });
    assert.deepEqual(splitHostHeader('example.com:x'), { host: 'example.com', port: null });
  });

  it('splits origin-form and absolute-form request targets', () => {
    assert.deepEqual(splitRequestTarget('/a/b?x=1'), { path: '/a/b', search: '?x=1' });
    assert.deepEqual(splitRequestTarget('/a?'), { path: '/a', search: '?' });
    assert.deepEqual(splitRequestTarget('/%2Fencoded'), { path: '/%2Fencoded', search: '' });
    assert.deepEqual(splitRequestTarget('http://h.example:81/p?q'), { path: '/p', search: '?q' });
    assert.deepEqual(splitRequestTarget('http://h.example'), { path: '/', search: '' });
  });

  it('reads the headers setting as Kong: token groups, single names, off', () => {
    const defaults = headerPolicy(['server_tokens', 'latency_tokens', 'X-Kong-Request-Id']);
    assert.deepEqual(defaults, {
      via: true,
      server: true,
      upstreamLatency: true,
      proxyLatency: true,
      responseLatency: true,
      requestId: true,
    });
    assert.deepEqual(headerPolicy(['via', 'X-Kong-Upstream-Latency']), {
      via: true,
      server: false,
      upstreamLatency: true,
      proxyLatency: false,
      responseLatency: false,
      requestId: false,
    });
    assert.ok(Object.values(headerPolicy(['off', 'server_tokens'])).every((on) => !on));
  });

  it('trusts addresses and CIDR blocks of trusted_ips, and unix sockets only with unix:', () => {
    const trusted = trustedIps(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32']);
    assert.equal(trusted('10.1.2.3'), true);
    assert.equal(trusted('192.0.2.7'), true);
    assert.equal(trusted('192.0.2.8'), false);
    assert.equal(trusted('2001:db8::1'), true);
    assert.equal(trusted(undefined), false);
    assert.equal(trustedIps(['unix:'])(undefined), true);
    assert.equal(trustedIps([])('127.0.0.1'), false);
    assert.equal(plainAddress('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(plainAddress('::1'), '::1');
  });

  it('strips hop-by-hop and Connection-named response headers, appends Via', () => {
    const raw = [
      'Connection',
      'keep-alive, X-Secret',
      'Keep-Alive',
      'timeout=5',
      'Transfer-Encoding',
      'chunked',
      'X-Secret',
      '1',
      'Set-Cookie',
      'a=1',
      'Proxy-Authenticate',
      'Basic',
      'Set-Cookie',
      'b=2',
      'Via',
      '1.1 upstream-cache',
    ];
    const headers = endToEndResponseHeaders(raw);
    appendVia(headers, '1.1 hybrid/0.1.0');
    assert.deepEqual(headers, [
      'set-cookie',
      'a=1',
      'set-cookie',
      'b=2',
      'via',
      '1.1 upstream-cache, 1.1 hybrid/0.1.0',
    ]);
    assert.deepEqual(headerObject(headers), {
      'set-cookie': ['a=1', 'b=2'],
      via: '1.1 upstream-cache, 1.1 hybrid/0.1.0',
    });
    const bare = endToEndResponseHeaders(['Content-Length', '2']);
    appendVia(bare, '1.1 hybrid/0.1.0');
    assert.deepEqual(bare, ['content-length', '2', 'via', '1.1 hybrid/0.1.0']);
  });

  it('makes request ids of 32 hex digits, all different', () => {
    const ids = new Set(Array.from({ length: 2000 }, () => newRequestId()));
    assert.equal(ids.size, 2000);
    for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
  });

  it('writes the upstream Host and TLS server name as Kong', () => {
    assert.equal(hostWithPort('api.internal', 80, 'http'), 'api.internal');
    assert.equal(hostWithPort('api.internal', 443, 'http'), 'api.internal:443');
    assert.equal(hostWithPort('api.internal', 443, 'https'), 'api.internal');
    assert.equal(hostWithPort('::1', 8080, 'http'), '[::1]:8080');
    assert.equal(serverName('api.internal:8443'), 'api.internal');
    assert.equal(serverName('10.0.0.1:8443'), null);
    assert.equal(serverName('[::1]:8443'), null);
  });

  it('maps transport failures to Kong answers and balancer outcomes', () => {
    const failure = (code: string) => classifyFailure(Object.assign(new Error(code), { code }));
    assert.deepEqual(failure('ECONNREFUSED').outcome, { kind: 'tcp_failure' });
    assert.equal(failure('ECONNREFUSED').answer.status, 502);
    assert.equal(failure('ECONNREFUSED').notSent, true);
    assert.equal(failure('UPSTREAM_CONNECT_TIMEOUT').answer.status, 504);
    assert.equal(failure('UPSTREAM_CONNECT_TIMEOUT').notSent, true);
    assert.deepEqual(failure('UPSTREAM_READ_TIMEOUT').outcome, { kind: 'timeout' });
    assert.equal(failure('UPSTREAM_READ_TIMEOUT').notSent, false);
    assert.equal(failure('UPSTREAM_WRITE_TIMEOUT').answer.status, 504);
    assert.equal(failure('UPSTREAM_POOL_CLOSED').notSent, true);
    assert.equal(failure('UPSTREAM_INVALID_REQUEST').answer.status, 500);
    assert.equal(failure('UPSTREAM_PREMATURE_CLOSE').answer.status, 502);
    assert.equal(failure('ENOTFOUND').answer.message, 'name resolution failed');
    assert.equal(failure('HPE_INVALID_CONSTANT').answer.status, 502);
  });
});
