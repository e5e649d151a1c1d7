// Entity shorthands that need no database: the service url and target addresses.
import assert from 'node:assert/strict';
import { expandServiceUrl } from '../../../src/core/store/entities/services.js';
import { parseTarget } from '../../../src/core/store/entities/targets.js';

describe('service url shorthand', () => {
  const parts = (url: string) => {
    const { input, errors } = expandServiceUrl({ url });
    return errors ?? { protocol: input.protocol, host: input.host, port: input.port, path: input.path };
  };
  it('splits protocol, host, port and path with Kong defaults', () => {
    assert.deepEqual(parts('http://example.com'), {
      protocol: 'http',
      host: 'example.com',
      port: 80,
      path: null,
    });
    assert.deepEqual(parts('http://example.com/'), {
      protocol: 'http',
      host: 'example.com',
      port: 80,
      path: '/',
    });
    assert.deepEqual(parts('https://example.com/a/b'), {
      protocol: 'https',
      host: 'example.com',
      port: 443,
      path: '/a/b',
    });
    assert.deepEqual(parts('grpcs://[::1]:9000'), { protocol: 'grpcs', host: '::1', port: 9000, path: null });
  });
  it('reports a url without a host', () => {
    assert.deepEqual(parts('nonsense'), { url: 'missing host in url' });
  });
});

describe('target addresses', () => {
  it('defaults the port to 8000 and accepts IPv6 in brackets', () => {
    assert.deepEqual(parseTarget('10.0.0.1'), { host: '10.0.0.1', port: 8000 });
    assert.deepEqual(parseTarget('api.internal:81'), { host: 'api.internal', port: 81 });
    assert.deepEqual(parseTarget('[::1]:9000'), { host: '[::1]', port: 9000 });
    assert.deepEqual(parseTarget('::1'), { host: '[::1]', port: 8000 });
    assert.equal(parseTarget('bad host'), null);
    assert.equal(parseTarget('h:99999'), null);
  });
});
