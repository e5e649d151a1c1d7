// rate-limiting, ip-restriction and cors on a real proxy path (the data plane's router and balancers): Kong's
// answers and headers, limits per consumer after key-auth, scope precedence, trusted client addresses, preflights.
import assert from 'node:assert/strict';
import { schema as corsSchema } from '../../../src/core/plugins/cors/schema.js';
import { BUNDLED_HANDLERS, type AnyPluginDefinition } from '../../../src/core/plugins/handlers.js';
import { schema as ipRestrictionSchema } from '../../../src/core/plugins/ip-restriction/schema.js';
import { schema as keyAuthSchema } from '../../../src/core/plugins/key-auth/schema.js';
import { createRateLimiting } from '../../../src/core/plugins/rate-limiting/handler.js';
import { schema as rateLimitingSchema } from '../../../src/core/plugins/rate-limiting/schema.js';
import type { PluginSchema } from '../../../src/core/plugins/plugin-schema.js';
import { DATA_PLANE_COMPONENTS } from '../../../src/core/proxy/components.js';
import type { ProxySettings } from '../../../src/core/proxy/proxy.js';
import type { DeclarativeConfig } from '../../../src/core/proxy/types.js';
import { pluginConfig } from '../../helpers/plugin-config.js';
import {
  send,
  serviceConfig,
  proxySuite,
  startEchoUpstream,
  type Echo,
  type TestProxy,
} from '../../helpers/proxy.js';

// Mid-minute on a fixed clock: no window boundary is crossed and RateLimit-Reset is known (30 s).
const NOW = Date.UTC(2024, 2, 10, 12, 0, 30);

const ALICE = { id: '00000000-0000-4000-8000-00000000a11c', username: 'alice' };
const BOB = { id: '00000000-0000-4000-8000-000000000b0b', username: 'bob' };
const CREDENTIALS = [
  { id: '00000000-0000-4000-8000-0000000c4ed1', key: 'alice-key', consumer: { id: ALICE.id } },
  { id: '00000000-0000-4000-8000-0000000c4ed2', key: 'bob-key', consumer: { id: BOB.id } },
];
const SCHEMAS: Record<string, PluginSchema> = {
  'rate-limiting': rateLimitingSchema,
  'ip-restriction': ipRestrictionSchema,
  cors: corsSchema,
  'key-auth': keyAuthSchema,
};

let nextId = 0;
/** A plugin row as the control plane sends it: config validated, defaults filled. */
function plugin(name: string, config: Record<string, unknown>, scope: Record<string, unknown> = {}) {
  return {
    id: `00000000-0000-4000-8000-${String(++nextId).padStart(12, '0')}`,
    name,
    enabled: true,
    protocols: ['http', 'https'],
    config: pluginConfig<Record<string, unknown>>(SCHEMAS[name]!, config),
    ...scope,
  };
}

const json = (text: string) => JSON.parse(text) as unknown;

describe('traffic plugins on a real proxy path', () => {
  const { upstream, startProxy } = proxySuite(() => startEchoUpstream({ vary: 'Accept-Encoding' }));
  let proxy: TestProxy;

  /** A proxy with two routes (/one, /two) to the echo upstream, the real router and balancers. */
  async function start(
    plugins: Record<string, unknown>[],
    settings: Partial<ProxySettings> = {},
  ): Promise<TestProxy> {
    const config: DeclarativeConfig = serviceConfig(
      { host: '127.0.0.1', port: upstream.port },
      [
        { id: '00000000-0000-4000-8000-0000000000f1', name: 'one', paths: ['/one'] },
        { id: '00000000-0000-4000-8000-0000000000f2', name: 'two', paths: ['/two'] },
      ],
      { consumers: [ALICE, BOB], keyauth_credentials: CREDENTIALS, plugins },
    );
    // rate-limiting on a fixed clock; a new instance per proxy, so no counts carry over between tests.
    const definitions = new Map<string, AnyPluginDefinition>(BUNDLED_HANDLERS);
    definitions.set(
      'rate-limiting',
      createRateLimiting({ now: () => NOW }) as unknown as AnyPluginDefinition,
    );
    return (proxy = await startProxy({
      config,
      settings,
      components: DATA_PLANE_COMPONENTS,
      plugins: definitions,
    }));
  }

  describe('rate-limiting (local policy)', () => {
    it('sends the X-RateLimit-* and RateLimit-* headers, then 429 with Kong’s body, headers and Retry-After', async () => {
      await start([plugin('rate-limiting', { minute: 3, hour: 10, limit_by: 'ip' })]);
      const remaining: string[] = [];
      for (let i = 0; i < 3; i++) {
        const reply = await send(proxy.port, { path: '/one' });
        assert.equal(reply.status, 200, reply.text);
        assert.equal((json(reply.text) as Echo).url, '/one', 'the upstream answered');
        assert.equal(reply.headers['x-ratelimit-limit-minute'], '3');
        assert.equal(reply.headers['x-ratelimit-limit-hour'], '10');
        assert.equal(reply.headers['x-ratelimit-remaining-hour'], String(9 - i));
        assert.equal(reply.headers['ratelimit-limit'], '3');
        assert.equal(reply.headers['ratelimit-reset'], '30');
        remaining.push(String(reply.headers['x-ratelimit-remaining-minute']));
        assert.equal(reply.headers['ratelimit-remaining'], remaining.at(-1));
        assert.equal(reply.headers['retry-after'], undefined);
      }
      assert.deepEqual(remaining, ['2', '1', '0']);

      const refused = await send(proxy.port, { path: '/one' });
      assert.equal(refused.status, 429);
      assert.deepEqual(json(refused.text), { message: 'API rate limit exceeded' });
      assert.equal(refused.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(refused.headers['x-ratelimit-limit-minute'], '3');
      assert.equal(refused.headers['x-ratelimit-remaining-minute'], '0');
      assert.equal(refused.headers['x-ratelimit-remaining-hour'], '7', 'refused requests are not counted');
      assert.equal(refused.headers['ratelimit-limit'], '3');
      assert.equal(refused.headers['ratelimit-remaining'], '0');
      assert.equal(refused.headers['ratelimit-reset'], '30');
      assert.equal(refused.headers['retry-after'], '30');
      // The limit is the plugin's (global here): the other route shares it.
      assert.equal((await send(proxy.port, { path: '/two' })).status, 429);
    });

    it('error_code, error_message and hide_client_headers', async () => {
      await start([
        plugin('rate-limiting', {
          second: 1,
          limit_by: 'ip',
          error_code: 503,
          error_message: 'slow down',
          hide_client_headers: true,
        }),
      ]);
      const first = await send(proxy.port, { path: '/one' });
      assert.equal(first.status, 200);
      assert.equal(first.headers['x-ratelimit-limit-second'], undefined);
      assert.equal(first.headers['ratelimit-limit'], undefined);
      const refused = await send(proxy.port, { path: '/one' });
      assert.equal(refused.status, 503);
      assert.deepEqual(json(refused.text), { message: 'slow down' });
      assert.equal(refused.headers['retry-after'], undefined);
      assert.equal(refused.headers['ratelimit-reset'], undefined);
    });

    it('limit_by consumer after key-auth on the same route: each consumer has its own budget', async () => {
      const route = { route: { id: '00000000-0000-4000-8000-0000000000f1' } };
      await start([
        plugin('rate-limiting', { minute: 2, limit_by: 'consumer' }, route),
        plugin('key-auth', {}, route),
      ]);
      const as = (key: string) => send(proxy.port, { path: '/one', headers: { apikey: key } });
      assert.equal((await as('alice-key')).status, 200);
      const second = await as('alice-key');
      assert.equal(second.status, 200);
      assert.equal((json(second.text) as Echo).headers['x-consumer-username'], 'alice');
      assert.equal(second.headers['x-ratelimit-remaining-minute'], '0');
      assert.equal((await as('alice-key')).status, 429);
      // Same client address, another consumer: counted apart.
      const bob = await as('bob-key');
      assert.equal(bob.status, 200);
      assert.equal(bob.headers['x-ratelimit-remaining-minute'], '1');
      // key-auth (priority 1250) runs first: no key is a 401, never counted.
      const anonymous = await send(proxy.port, { path: '/one' });
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.headers['x-ratelimit-limit-minute'], undefined);
      assert.equal((await as('bob-key')).status, 200);
      assert.equal((await as('bob-key')).status, 429);
      // The route without the plugins is neither authenticated nor limited.
      const open = await send(proxy.port, { path: '/two' });
      assert.equal(open.status, 200);
      assert.equal(open.headers['x-ratelimit-limit-minute'], undefined);
    });

    it('a route-scoped config takes precedence over the global one on its route only', async () => {
      await start([
        plugin('rate-limiting', { minute: 100, limit_by: 'ip' }),
        plugin(
          'rate-limiting',
          { minute: 1, limit_by: 'ip' },
          { route: { id: '00000000-0000-4000-8000-0000000000f1' } },
        ),
      ]);
      const scoped = await send(proxy.port, { path: '/one' });
      assert.equal(scoped.status, 200);
      assert.equal(scoped.headers['x-ratelimit-limit-minute'], '1');
      assert.equal((await send(proxy.port, { path: '/one' })).status, 429);
      for (let i = 0; i < 3; i++) {
        const global = await send(proxy.port, { path: '/two' });
        assert.equal(global.status, 200);
        assert.equal(global.headers['x-ratelimit-limit-minute'], '100');
        // The route's requests were counted by the route's plugin, not the global one.
        assert.equal(global.headers['x-ratelimit-remaining-minute'], String(99 - i));
      }
    });
  });

  describe('ip-restriction', () => {
    it('deny by CIDR: 403 with Kong’s body; other routes are not restricted when scoped', async () => {
      await start([
        plugin(
          'ip-restriction',
          { deny: ['127.0.0.0/8'] },
          { route: { id: '00000000-0000-4000-8000-0000000000f1' } },
        ),
      ]);
      const refused = await send(proxy.port, { path: '/one' });
      assert.equal(refused.status, 403);
      assert.deepEqual(json(refused.text), { message: 'Your IP address is not allowed' });
      assert.equal(refused.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal((await send(proxy.port, { path: '/two' })).status, 200);
    });

    it('allow by CIDR; deny wins over allow; status and message as configured', async () => {
      await start([plugin('ip-restriction', { allow: ['127.0.0.0/24', '10.0.0.0/8'] })]);
      assert.equal((await send(proxy.port, { path: '/one' })).status, 200);
      await proxy.close();
      await start([plugin('ip-restriction', { allow: ['10.0.0.0/8', '::1'] })]);
      assert.equal((await send(proxy.port, { path: '/one' })).status, 403, 'an IPv4 client is not ::1');
      await proxy.close();
      await start([
        plugin('ip-restriction', {
          allow: ['127.0.0.0/8'],
          deny: ['127.0.0.1'],
          status: 401,
          message: 'go away',
        }),
      ]);
      const refused = await send(proxy.port, { path: '/one' });
      assert.equal(refused.status, 401);
      assert.deepEqual(json(refused.text), { message: 'go away' });
    });

    it('uses the real-IP header only from trusted_ips', async () => {
      const restriction = plugin('ip-restriction', { allow: ['203.0.113.0/24'] });
      const xff = (ip: string) => ({ path: '/one', headers: { 'x-forwarded-for': ip } });
      await start([restriction], { real_ip_header: 'X-Forwarded-For', trusted_ips: ['127.0.0.1'] });
      assert.equal((await send(proxy.port, xff('203.0.113.7'))).status, 200);
      // nginx's realip without recursion: the last address of the header counts.
      assert.equal((await send(proxy.port, xff('203.0.113.7, 198.51.100.1'))).status, 403);
      assert.equal((await send(proxy.port, xff('198.51.100.1, 203.0.113.9'))).status, 200);
      assert.equal((await send(proxy.port, { path: '/one' })).status, 403);
      await proxy.close();
      // The same header from a client that is not trusted is ignored: the socket's address counts.
      await start([restriction], { real_ip_header: 'X-Forwarded-For', trusted_ips: ['10.0.0.0/8'] });
      assert.equal((await send(proxy.port, xff('203.0.113.7'))).status, 403);
    });
  });

  describe('cors', () => {
    const preflight = (headers: Record<string, string>) =>
      send(proxy.port, {
        method: 'OPTIONS',
        path: '/one',
        headers: { origin: 'https://app.example.com', 'access-control-request-method': 'PUT', ...headers },
      });

    it('answers a preflight itself with Kong’s headers (the upstream is not called)', async () => {
      await start([
        plugin('cors', {
          origins: ['https://app.example.com', 'https://.*\\.example\\.org'],
          methods: ['GET', 'PUT'],
          max_age: 3600,
          credentials: true,
        }),
      ]);
      const reply = await preflight({ 'access-control-request-headers': 'x-one,x-two' });
      assert.equal(reply.status, 200);
      assert.equal(reply.text, '');
      assert.equal(reply.headers['x-upstream-port'], undefined, 'answered by the plugin');
      assert.equal(reply.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.equal(reply.headers['access-control-allow-credentials'], 'true');
      assert.equal(reply.headers['access-control-allow-methods'], 'GET,PUT');
      assert.equal(reply.headers['access-control-allow-headers'], 'x-one,x-two');
      assert.equal(reply.headers['access-control-max-age'], '3600');
      assert.equal(reply.headers.vary, 'Origin');

      const regex = await preflight({ origin: 'https://api.example.org' });
      assert.equal(regex.headers['access-control-allow-origin'], 'https://api.example.org');
      assert.equal(regex.headers['access-control-allow-headers'], undefined);
    });

    it('an actual request gets Access-Control-Allow-Origin and Expose-Headers; a disallowed origin gets none', async () => {
      await start([
        plugin('cors', {
          origins: ['https://app.example.com', 'https://other.example.com'],
          exposed_headers: ['x-upstream-port'],
        }),
      ]);
      const allowed = await send(proxy.port, {
        path: '/one',
        headers: { origin: 'https://app.example.com' },
      });
      assert.equal(allowed.status, 200);
      assert.equal((json(allowed.text) as Echo).url, '/one');
      assert.equal(allowed.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.equal(allowed.headers['access-control-expose-headers'], 'x-upstream-port');
      assert.equal(allowed.headers.vary, 'Accept-Encoding, Origin', 'added to the upstream’s Vary');
      assert.equal(allowed.headers['access-control-allow-credentials'], undefined);

      const disallowed = await send(proxy.port, {
        path: '/one',
        headers: { origin: 'https://evil.example.net' },
      });
      assert.equal(disallowed.status, 200, 'cors does not refuse; the browser does');
      assert.equal(disallowed.headers['access-control-allow-origin'], undefined);
      const disallowedPreflight = await preflight({ origin: 'https://evil.example.net' });
      assert.equal(disallowedPreflight.status, 200);
      assert.equal(disallowedPreflight.headers['access-control-allow-origin'], undefined);
    });

    it('adds its headers to another plugin’s answer (a 429), and preflight_continue lets the upstream answer', async () => {
      await start([
        plugin('cors', { origins: ['*'] }),
        plugin('rate-limiting', { second: 1, limit_by: 'ip' }),
      ]);
      const headers = { origin: 'https://app.example.com' };
      assert.equal((await send(proxy.port, { path: '/one', headers })).status, 200);
      const refused = await send(proxy.port, { path: '/one', headers });
      assert.equal(refused.status, 429);
      assert.equal(refused.headers['access-control-allow-origin'], '*');
      await proxy.close();

      await start([plugin('cors', { preflight_continue: true })]);
      const continued = await preflight({});
      assert.equal(continued.status, 200);
      assert.equal((json(continued.text) as Echo).method, 'OPTIONS', 'the upstream answered');
      assert.equal(continued.headers['access-control-allow-origin'], undefined);
    });
  });
});
