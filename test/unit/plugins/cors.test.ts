import assert from 'node:assert/strict';
import type { OutgoingHttpHeaders } from 'node:http';
import cors, { type CorsConfig } from '../../../src/core/plugins/cors/handler.js';
import { normalizeOrigin } from '../../../src/core/plugins/cors/origins.js';
import { schema } from '../../../src/core/plugins/cors/schema.js';
import { fakeContext } from '../../helpers/plugin-context.js';
import { pluginConfig } from '../../helpers/plugin-config.js';

interface Exchange {
  method?: string;
  origin?: string;
  headers?: Record<string, string>;
  upstreamHeaders?: OutgoingHttpHeaders;
}

/** One request through access and header_filter: the preflight answer, or the response's headers. */
async function exchange(
  settings: Record<string, unknown>,
  { method = 'GET', origin, headers, upstreamHeaders }: Exchange,
) {
  const config = pluginConfig<CorsConfig>(schema, settings);
  const instance = await cors.init!({
    config,
    pluginId: 'p',
    log: { debug() {}, info() {}, warn() {}, error() {} },
    node: { id: 'n', version: '0' },
  });
  const ctx = fakeContext({
    config,
    method,
    headers: { ...(origin === undefined ? {} : { origin }), ...headers },
    responseHeaders: upstreamHeaders,
  });
  await instance.access!(ctx);
  const answered = ctx.exited;
  await instance.header_filter!(ctx);
  if (answered) return { answered: true, status: answered.status, headers: lower(answered.headers) };
  return { answered: false, status: 200, headers: lower(ctx.response.headers) };
}

const lower = (headers: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));

const preflight = (origin: string, headers: Record<string, string> = {}): Exchange => ({
  method: 'OPTIONS',
  origin,
  headers: { 'access-control-request-method': 'POST', ...headers },
});

describe('cors plugin', () => {
  it('declares Kong priority 2000 and its schema', () => {
    assert.equal(cors.priority, 2000);
    assert.equal(cors.schema, schema);
  });

  describe('preflight', () => {
    it('is answered 200 by the plugin with the defaults: any origin, every method, the requested headers', async () => {
      const res = await exchange(
        {},
        preflight('http://a.test', { 'access-control-request-headers': 'X-One,X-Two' }),
      );
      assert.equal(res.answered, true);
      assert.equal(res.status, 200);
      assert.deepEqual(res.headers, {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT',
        'access-control-allow-headers': 'X-One,X-Two',
      });
    });

    it('uses the configured headers, methods, max_age, credentials and private network access', async () => {
      const res = await exchange(
        {
          origins: ['http://a.test'],
          headers: ['X-Auth', 'Content-Type'],
          methods: ['GET', 'POST'],
          max_age: 3600,
          credentials: true,
          private_network: true,
        },
        preflight('http://a.test', {
          'access-control-request-headers': 'X-Other',
          'access-control-request-private-network': 'true',
        }),
      );
      assert.deepEqual(res.headers, {
        vary: 'Origin',
        'access-control-allow-origin': 'http://a.test',
        'access-control-allow-credentials': 'true',
        'access-control-allow-headers': 'X-Auth,Content-Type',
        'access-control-allow-methods': 'GET,POST',
        'access-control-max-age': '3600',
        'access-control-allow-private-network': 'true',
      });
    });

    it('private network access only when the browser asks for it', async () => {
      const res = await exchange({ private_network: true }, preflight('http://a.test'));
      assert.equal(res.headers['access-control-allow-private-network'], undefined);
    });

    it('preflight_continue: the upstream answers and no header is added', async () => {
      const res = await exchange(
        { preflight_continue: true },
        { ...preflight('http://a.test'), upstreamHeaders: { allow: 'GET' } },
      );
      assert.equal(res.answered, false);
      assert.deepEqual(res.headers, { allow: 'GET' });
    });

    it('an OPTIONS request without Origin or Access-Control-Request-Method is not a preflight', async () => {
      const noMethod = await exchange({}, { method: 'OPTIONS', origin: 'http://a.test' });
      assert.equal(noMethod.answered, false);
      assert.equal(noMethod.headers['access-control-allow-origin'], '*');
      const noOrigin = await exchange(
        {},
        { method: 'OPTIONS', headers: { 'access-control-request-method': 'GET' } },
      );
      assert.equal(noOrigin.answered, false);
    });
  });

  describe('responses', () => {
    it('any origin: `*` without Vary, also when the request has no Origin (allow_origin_absent)', async () => {
      assert.deepEqual((await exchange({}, { origin: 'http://a.test' })).headers, {
        'access-control-allow-origin': '*',
      });
      assert.deepEqual((await exchange({ origins: ['*'] }, {})).headers, {
        'access-control-allow-origin': '*',
      });
      assert.deepEqual((await exchange({ allow_origin_absent: false }, {})).headers, {});
    });

    it('one plain origin is sent as configured whatever the request origin, with Vary added to the upstream’s', async () => {
      const res = await exchange(
        { origins: ['https://app.test'] },
        { origin: 'https://other.test', upstreamHeaders: { vary: 'Accept-Encoding' } },
      );
      assert.deepEqual(res.headers, {
        vary: ['Accept-Encoding', 'Origin'],
        'access-control-allow-origin': 'https://app.test',
      });
    });

    it('a list of origins: the normalized request origin when listed (default ports dropped), none otherwise', async () => {
      const origins = ['http://a.test', 'https://b.test:8443'];
      const allowed = async (origin: string) =>
        (await exchange({ origins }, { origin, upstreamHeaders: { 'access-control-allow-origin': 'x' } }))
          .headers['access-control-allow-origin'];
      assert.equal(await allowed('http://a.test'), 'http://a.test');
      assert.equal(await allowed('http://a.test:80'), 'http://a.test');
      assert.equal(await allowed('https://b.test:8443'), 'https://b.test:8443');
      assert.equal(await allowed('https://b.test'), undefined, 'another port is another origin');
      assert.equal(await allowed('https://a.test'), undefined, 'another scheme is another origin');
      const refused = await exchange({ origins }, { origin: 'http://evil.test' });
      assert.deepEqual(refused.headers, { vary: 'Origin' });
    });

    it('regex origins are anchored at both ends; without a colon they match the host, with one the origin', async () => {
      const origins = ['.*\\.example\\.com', 'https://.*\\.example\\.org', 'http://exact.test'];
      const allowed = async (origin: string) =>
        (await exchange({ origins }, { origin })).headers['access-control-allow-origin'];
      assert.equal(await allowed('https://api.example.com'), 'https://api.example.com');
      assert.equal(await allowed('http://api.example.com:8080'), 'http://api.example.com:8080');
      assert.equal(await allowed('https://api.example.com.evil.test'), undefined);
      assert.equal(await allowed('https://x.example.org'), 'https://x.example.org');
      assert.equal(await allowed('http://x.example.org'), undefined);
      assert.equal(await allowed('https://x.example.org.evil.test'), undefined);
    });

    it('a list holding `*` allows any request origin with `*`', async () => {
      const res = await exchange({ origins: ['http://a.test', '*'] }, { origin: 'http://z.test' });
      assert.deepEqual(res.headers, { vary: 'Origin', 'access-control-allow-origin': '*' });
    });

    it('credentials with any origin echo the request origin (credentials forbid `*`)', async () => {
      const res = await exchange({ credentials: true }, { origin: 'http://a.test' });
      assert.deepEqual(res.headers, {
        vary: 'Origin',
        'access-control-allow-origin': 'http://a.test',
        'access-control-allow-credentials': 'true',
      });
    });

    it('exposed_headers on responses', async () => {
      const res = await exchange({ exposed_headers: ['X-Total', 'X-Page'] }, { origin: 'http://a.test' });
      assert.equal(res.headers['access-control-expose-headers'], 'X-Total,X-Page');
    });
  });

  it('normalizes origins as Kong compares them', () => {
    assert.deepEqual(normalizeOrigin('https://Host.test:443/path'), {
      domain: 'https://Host.test',
      host: 'Host.test',
    });
    assert.deepEqual(normalizeOrigin('http://[::1]:8080'), { domain: 'http://[::1]:8080', host: '[::1]' });
    assert.deepEqual(normalizeOrigin('null'), { domain: 'null', host: 'null' });
  });

  it('the schema refuses an origin that is neither `*` nor a valid regex', () => {
    assert.throws(
      () => pluginConfig(schema, { origins: ['http://(broken'] }),
      /'http:\/\/\(broken' is not a valid regex/,
    );
    assert.throws(() => pluginConfig(schema, { methods: ['FETCH'] }), /expected one of/);
  });
});
