// Listener parsing: addresses (IPv4, IPv6, names), flags, `off`, and Kong's usage message on errors.
import assert from 'node:assert/strict';
import { LISTEN_USAGE, parseHostPort, parseListenList } from '../../../src/core/config/listen.js';

describe('config listeners', () => {
  it("parses Kong's default proxy_listen with flags and backlog", () => {
    const r = parseListenList(
      '0.0.0.0:8000 reuseport backlog=16384, 0.0.0.0:8443 http2 ssl reuseport backlog=16384',
    );
    assert.ok(r.ok);
    assert.deepEqual(r.value, [
      {
        host: '0.0.0.0',
        port: 8000,
        ssl: false,
        http2: false,
        reuseport: true,
        proxyProtocol: false,
        deferred: false,
        bind: false,
        backlog: 16384,
        flags: ['reuseport', 'backlog=16384'],
        listener: '0.0.0.0:8000 reuseport backlog=16384',
      },
      {
        host: '0.0.0.0',
        port: 8443,
        ssl: true,
        http2: true,
        reuseport: true,
        proxyProtocol: false,
        deferred: false,
        bind: false,
        backlog: 16384,
        flags: ['http2', 'ssl', 'reuseport', 'backlog=16384'],
        listener: '0.0.0.0:8443 http2 ssl reuseport backlog=16384',
      },
    ]);
  });

  it('parses IPv6 in brackets (host without brackets), host names, and every flag', () => {
    const r = parseListenList('[::]:8000, [::1]:8443 ssl proxy_protocol deferred bind, localhost:9000');
    assert.ok(r.ok);
    assert.equal(r.value[0]!.host, '::');
    assert.equal(r.value[0]!.listener, '[::]:8000');
    assert.deepEqual(
      [r.value[1]!.host, r.value[1]!.ssl, r.value[1]!.proxyProtocol, r.value[1]!.deferred, r.value[1]!.bind],
      ['::1', true, true, true, true],
    );
    assert.equal(r.value[1]!.backlog, undefined);
    assert.deepEqual([r.value[2]!.host, r.value[2]!.port], ['localhost', 9000]);
  });

  it('`off` means no listener; off mixed with addresses is an error', () => {
    const off = parseListenList('off');
    assert.ok(off.ok);
    assert.deepEqual(off.value, []);
    const mixed = parseListenList('off, 0.0.0.0:8000');
    assert.ok(!mixed.ok);
    assert.match(mixed.message, /'off' cannot be combined with addresses/);
  });

  it('rejects bad entries with the usage line, collecting every bad entry', () => {
    const r = parseListenList('0.0.0.0, 0.0.0.0:70000, 0.0.0.0:8000 sssl, ::1:8000');
    assert.ok(!r.ok);
    assert.match(r.message, /'0.0.0.0' is not of the form <host>:<port>/);
    assert.match(r.message, /'0.0.0.0:70000': port must be between 1 and 65535/);
    assert.match(r.message, /unknown flag 'sssl'/);
    assert.match(r.message, /'::1:8000' is not of the form <host>:<port>/);
    assert.ok(r.message.includes(LISTEN_USAGE));
    assert.equal(r.hint, 'Put IPv6 addresses in brackets: [::]:8000.');
  });

  it('parseHostPort: names, IPv4, bracketed IPv6; rejects bad hosts and ports', () => {
    assert.deepEqual(parseHostPort('control-plane.example.com:8005'), {
      ok: true,
      value: { host: 'control-plane.example.com', port: 8005 },
    });
    assert.deepEqual(parseHostPort('[2001:db8::1]:8005'), {
      ok: true,
      value: { host: '2001:db8::1', port: 8005 },
    });
    assert.ok(!parseHostPort('[not-v6]:8005').ok);
    assert.ok(!parseHostPort('bad_host!:8005').ok);
    assert.ok(!parseHostPort('host:0').ok);
    assert.ok(!parseHostPort('host').ok);
  });
});
