// The request view's header changes: what a plugin set or removed, as the proxy applies it upstream.
import assert from 'node:assert/strict';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { RequestView, applyHeaderChanges } from '../../../../src/core/plugins/runner/request.js';
import type { ClientView } from '../../../../src/core/proxy/headers.js';

function view(headers: Record<string, string>): RequestView {
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = '/';
  req.headers = headers;
  const client = { path: '/', search: '', proto: 'http', host: 'example.com', port: 80 } as ClientView;
  return new RequestView(req, client, '/', { limitExceeded: () => undefined });
}

describe('request view header changes', () => {
  it('records a header set under its lowercase name', () => {
    const v = view({});
    v.setHeader('X-Consumer-ID', 'c-1');
    assert.deepEqual([...v.headerChanges!], [['x-consumer-id', 'c-1']]);
  });

  it('removing a header the client did not send, and no plugin set, changes nothing', () => {
    const v = view({ host: 'example.com' });
    v.removeHeader('X-Consumer-Custom-ID');
    assert.equal(v.headerChanges, null);
  });

  it('removes a header the client sent (a forged X-Consumer-* never reaches the upstream)', () => {
    const v = view({ 'x-consumer-custom-id': 'forged' });
    v.removeHeader('X-Consumer-Custom-ID');
    assert.deepEqual([...v.headerChanges!], [['x-consumer-custom-id', undefined]]);
  });

  it('removes a header an earlier plugin set', () => {
    const v = view({});
    v.setHeader('x-consumer-username', 'alice');
    v.removeHeader('X-Consumer-Username');
    assert.deepEqual([...v.headerChanges!], [['x-consumer-username', undefined]]);
  });

  it('removes a header the proxy writes itself even when the client did not send it', () => {
    const v = view({});
    v.removeHeader('X-Forwarded-For');
    assert.deepEqual([...v.headerChanges!], [['x-forwarded-for', undefined]]);
  });
});

describe('applying header changes to the upstream request', () => {
  const list = [
    'Host',
    'example.com',
    'User-Agent',
    'wrk',
    'X-Consumer-ID',
    'forged',
    'x-forwarded-for',
    '10.0.0.1',
  ];

  it('replaces and removes headers whatever case the client used, and appends new ones', () => {
    const changes = new Map<string, string | string[] | undefined>([
      ['x-consumer-id', 'c-1'],
      ['user-agent', undefined],
      ['x-consumer-username', 'alice'],
    ]);
    assert.deepEqual(applyHeaderChanges(list, changes), {
      list: [
        'Host',
        'example.com',
        'x-forwarded-for',
        '10.0.0.1',
        'x-consumer-id',
        'c-1',
        'x-consumer-username',
        'alice',
      ],
      host: null,
    });
  });

  it('extends the list itself when no header of it is replaced or removed', () => {
    const own = ['Accept', '*/*'];
    const applied = applyHeaderChanges(own, new Map([['x-consumer-id', 'c-1']]));
    assert.equal(applied.list, own);
    assert.deepEqual(own, ['Accept', '*/*', 'x-consumer-id', 'c-1']);
  });

  it('sends a list value as repeated headers', () => {
    const changes = new Map([['x-tag', ['a', 'b']]]);
    assert.deepEqual(applyHeaderChanges(['Accept', '*/*'], changes).list, [
      'Accept',
      '*/*',
      'x-tag',
      'a',
      'x-tag',
      'b',
    ]);
  });

  it('keeps Host in its place and hands back the value a plugin set', () => {
    const changes = new Map([['host', 'upstream.example']]);
    assert.deepEqual(applyHeaderChanges(list, changes), { list, host: 'upstream.example' });
  });

  it('leaves a same-length header of another name alone', () => {
    // 'x-consumer-id' and 'X-Request-Ids' have the same length.
    const changes = new Map([['x-consumer-id', undefined]]);
    assert.deepEqual(applyHeaderChanges(['X-Request-Ids', '1', 'X-CONSUMER-ID', 'f'], changes).list, [
      'X-Request-Ids',
      '1',
    ]);
  });
});
