// Which route a request matches: hosts, paths, methods, headers, snis, protocols, and what the match carries.
import assert from 'node:assert/strict';
import { buildRouter } from '../../../../src/core/proxy/router/index.js';
import type { RouteEntity, RouteRequest } from '../../../../src/core/proxy/types.js';
import { request, route, service } from './fixtures.js';

interface Case {
  name: string;
  request: RouteRequest;
  /** Route id expected, or null for no match. */
  expected: string | null;
}

function runCases(routes: RouteEntity[], cases: Case[]): void {
  const router = buildRouter({ routes });
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(router.warnings, []);
      assert.equal(router.match(c.request)?.route.id ?? null, c.expected);
    });
  }
}

describe('router matching', () => {
  // Kong's spec/01-unit/08-router_spec.lua "select()" use case, same numbering.
  describe("Kong's select() use case", () => {
    const routes = [
      route({ id: '1', hosts: ['domain-1.org', 'domain-2.org'] }),
      route({ id: '2', methods: ['TRACE'] }),
      route({ id: '3', paths: ['/my-route'] }),
      route({ id: '4', paths: ['/route-4'], hosts: ['domain-1.org', 'domain-2.org'] }),
      route({ id: '5', hosts: ['domain-1.org', 'domain-2.org'], methods: ['POST', 'PUT', 'PATCH'] }),
      route({ id: '6', methods: ['POST', 'PUT', 'PATCH'], paths: ['/route-6'] }),
      route({
        id: '7',
        hosts: ['domain-with-uri-1.org', 'domain-with-uri-2.org'],
        methods: ['POST', 'PUT', 'PATCH'],
        paths: ['/my-route-uri'],
      }),
      route({ id: '8', paths: ['/serviceless'] }),
      route({ id: '9', headers: { location: ['my-location-1', 'my-location-2'] } }),
      route({ id: '10', headers: { location: ['my-location-1'], version: ['v1', 'v2'] } }),
      route({ id: '11', headers: { location: ['my-location-1', 'my-location-2'] }, paths: ['/headers-uri'] }),
      route({
        id: '12',
        hosts: ['domain-with-headers-1.org', 'domain-with-headers-2.org'],
        headers: { location: ['my-location-1', 'my-location-2'] },
        methods: ['POST', 'PUT', 'PATCH'],
        paths: ['/headers-host-uri-method'],
      }),
      route({ id: '13', hosts: ['domain-1.org:321', 'domain-2.org'] }),
      route({ id: '14', hosts: ['domain-3.org:321'] }),
      route({ id: '15', headers: { user_agent: ['~*windows|linux|os\\s+x\\s*[\\d\\._]+|solaris|bsd'] } }),
    ];
    runCases(routes, [
      { name: '[host]', request: request({ host: 'domain-1.org' }), expected: '1' },
      {
        name: '[host] ignores the default port',
        request: request({ host: 'domain-1.org:80' }),
        expected: '1',
      },
      {
        name: '[host] any other port matches a no-port route',
        request: request({ host: 'domain-1.org:123' }),
        expected: '1',
      },
      {
        name: '[host] matches a specific port',
        request: request({ host: 'domain-1.org:321' }),
        expected: '13',
      },
      { name: '[host] port-only route', request: request({ host: 'domain-3.org:321' }), expected: '14' },
      {
        name: '[host] fails just because of the port',
        request: request({ host: 'domain-3.org:123' }),
        expected: null,
      },
      { name: '[host] is case-insensitive', request: request({ host: 'DOMAIN-1.org' }), expected: '1' },
      { name: '[uri]', request: request({ path: '/my-route', host: 'domain.org' }), expected: '3' },
      { name: '[uri] prefix', request: request({ path: '/my-route/some/path' }), expected: '3' },
      { name: '[method]', request: request({ method: 'TRACE' }), expected: '2' },
      { name: '[host + uri]', request: request({ path: '/route-4', host: 'domain-1.org' }), expected: '4' },
      { name: '[host + method]', request: request({ method: 'POST', host: 'domain-1.org' }), expected: '5' },
      { name: '[uri + method]', request: request({ method: 'PUT', path: '/route-6' }), expected: '6' },
      {
        name: '[host + uri + method]',
        request: request({ method: 'PUT', path: '/my-route-uri', host: 'domain-with-uri-2.org' }),
        expected: '7',
      },
      {
        name: 'single [headers] value',
        request: request({ headers: { location: 'my-location-2' } }),
        expected: '9',
      },
      {
        name: '[headers] value is case-insensitive',
        request: request({ headers: { location: 'My-Location-2' } }),
        expected: '9',
      },
      {
        name: '[headers] one of several request values',
        request: request({ headers: { location: ['my-location-3', 'my-location-2'] } }),
        expected: '9',
      },
      {
        name: '[headers] no value matches',
        request: request({ headers: { location: 'my-location-3' } }),
        expected: null,
      },
      {
        name: 'multiple [headers] all match',
        request: request({ headers: { location: 'my-location-1', version: 'v2' } }),
        expected: '10',
      },
      {
        name: 'multiple [headers] fall back to the route with fewer headers',
        request: request({ headers: { location: ['my-location-3', 'my-location-2'], version: 'v2' } }),
        expected: '9',
      },
      {
        name: '[headers] ~* regex value, name with _ matches the - header',
        request: request({ headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/83.0' } }),
        expected: '15',
      },
      {
        name: '[headers + uri]',
        request: request({ path: '/headers-uri', headers: { location: 'my-location-2' } }),
        expected: '11',
      },
      {
        name: '[host + headers + uri + method]',
        request: request({
          method: 'PUT',
          path: '/headers-host-uri-method',
          host: 'domain-with-headers-1.org',
          headers: { location: 'my-location-2' },
        }),
        expected: '12',
      },
      {
        name: 'no route matches',
        request: request({ path: '/nothing', host: 'nowhere.org' }),
        expected: null,
      },
    ]);
  });

  describe('wildcard hosts (Kong spec [wildcard host])', () => {
    runCases(
      [
        route({ id: 'plain', hosts: ['plain.route.com'] }),
        route({ id: 'left', hosts: ['*.route.com'] }),
        route({ id: 'right', hosts: ['route.*'] }),
        route({ id: 'route.com', hosts: ['route.com'] }),
        route({ id: 'left-port', hosts: ['*.route.net:123'] }),
        route({ id: 'right-port', hosts: ['route.*:123'] }),
      ],
      [
        { name: 'leftmost wildcard', request: request({ host: 'foo.route.com' }), expected: 'left' },
        {
          name: 'leftmost wildcard, several labels',
          request: request({ host: 'a.b.route.com' }),
          expected: 'left',
        },
        { name: 'leftmost wildcard needs a label', request: request({ host: '.route.com' }), expected: null },
        { name: 'rightmost wildcard', request: request({ host: 'route.org' }), expected: 'right' },
        {
          name: 'rightmost wildcard, any port',
          request: request({ host: 'route.org:456' }),
          expected: 'right',
        },
        {
          name: 'leftmost wildcard, any port',
          request: request({ host: 'foo.route.com:123' }),
          expected: 'left',
        },
        {
          name: 'port-specific wildcard',
          request: request({ host: 'foo.route.net:123' }),
          expected: 'left-port',
        },
        {
          name: 'port-specific wildcard, other port',
          request: request({ host: 'foo.route.net:456' }),
          expected: null,
        },
        {
          name: 'port-specific wildcard has priority',
          request: request({ host: 'route.org:123' }),
          expected: 'right-port',
        },
        {
          name: 'plain host before wildcard (route.com)',
          request: request({ host: 'route.com' }),
          expected: 'route.com',
        },
        {
          name: 'plain host before wildcard',
          request: request({ host: 'plain.route.com' }),
          expected: 'plain',
        },
      ],
    );
  });

  describe('IPv6 literal hosts (Kong spec)', () => {
    runCases(
      [
        route({ id: '1', hosts: ['::11', '[::12]'] }),
        route({ id: '2', hosts: ['::21', '[::22]'] }),
        route({ id: '3', hosts: ['[::31]:321', '[::32]:321'] }),
        route({ id: '4', hosts: ['[::21]:321', '[::22]:321'] }),
      ],
      [
        { name: 'no-port route, no-port request', request: request({ host: '[::11]' }), expected: '1' },
        { name: 'bracketed route host', request: request({ host: '[::12]' }), expected: '1' },
        { name: 'no-port route is any-port', request: request({ host: '[::11]', port: 654 }), expected: '1' },
        { name: 'port-specific route', request: request({ host: '[::21]', port: 321 }), expected: '4' },
        { name: 'port-specific only', request: request({ host: '[::31]', port: 321 }), expected: '3' },
        {
          name: 'other port falls back to any-port',
          request: request({ host: '[::21]', port: 654 }),
          expected: '2',
        },
        { name: 'no any-port route', request: request({ host: '[::31]', port: 654 }), expected: null },
      ],
    );
  });

  describe('paths', () => {
    runCases(
      [
        route({ id: 'hello', paths: ['/my-route/hello'] }),
        route({ id: 'my-route', paths: ['/my-route'] }),
        route({ id: 'something', paths: ['/something/my-route'] }),
        route({ id: 'host-my-route', hosts: ['example.com'], paths: ['/my-route'] }),
        route({ id: 'profile', paths: ['~/users/\\d+/profile'] }),
        route({ id: 'persons', paths: ['/route/persons'] }),
        route({ id: 'persons-regex', paths: ['~/route/persons/\\d+/profile'] }),
        route({ id: 'fixture', paths: ['/route/fixture'] }),
        route({ id: 'fixture-regex', paths: ['~/route/(fixture)'] }),
        route({ id: 'prefix-regex', paths: ['~/prefix/[0-9]+'] }),
        route({ id: 'pcre-named', paths: ['~/pcre/(?P<id>\\d+)'] }),
        route({ id: 'case', paths: ['~(?i)/CaSe/'] }),
        route({ id: 'alternation', paths: ['~/alt-a|/alt-b'] }),
      ],
      [
        {
          name: 'longer prefix first',
          request: request({ path: '/my-route/hello/world' }),
          expected: 'hello',
        },
        { name: 'shorter prefix', request: request({ path: '/my-route/world' }), expected: 'my-route' },
        {
          name: 'prefix is not segment-bound',
          request: request({ path: '/my-routeX' }),
          expected: 'my-route',
        },
        {
          name: 'prefix is anchored (more attributes do not help a non-prefix)',
          request: request({ path: '/something/my-route', host: 'example.com' }),
          expected: 'something',
        },
        { name: 'regex', request: request({ path: '/users/123/profile' }), expected: 'profile' },
        {
          name: 'regex before a matching prefix',
          request: request({ path: '/route/persons/123/profile' }),
          expected: 'persons-regex',
        },
        {
          name: 'regex before an exact prefix',
          request: request({ path: '/route/fixture' }),
          expected: 'fixture-regex',
        },
        {
          name: 'regex is anchored at the start',
          request: request({ path: '/extra/prefix/123' }),
          expected: null,
        },
        { name: 'regex PCRE named group', request: request({ path: '/pcre/42' }), expected: 'pcre-named' },
        { name: 'regex (?i) flag', request: request({ path: '/case/x' }), expected: 'case' },
        {
          name: 'regex alternation, second branch',
          request: request({ path: '/alt-b/x' }),
          expected: 'alternation',
        },
        {
          name: 'normalised: percent-decoded',
          request: request({ path: '/my-r%6Fute/hello' }),
          expected: 'hello',
        },
        {
          name: 'normalised: double slash',
          request: request({ path: '//my-route//hello' }),
          expected: 'hello',
        },
        {
          name: 'normalised: dot segments',
          request: request({ path: '/x/../my-route/./hello' }),
          expected: 'hello',
        },
        { name: 'no prefix matches', request: request({ path: '/nope' }), expected: null },
      ],
    );
  });

  describe('methods', () => {
    runCases(
      [
        route({ id: 'get', methods: ['GET', 'head'] }),
        route({ id: 'post', methods: ['POST'], paths: ['/'] }),
      ],
      [
        { name: 'listed method', request: request({ method: 'GET' }), expected: 'get' },
        { name: 'route methods are case-insensitive', request: request({ method: 'HEAD' }), expected: 'get' },
        { name: 'other method', request: request({ method: 'POST' }), expected: 'post' },
        { name: 'unlisted method', request: request({ method: 'DELETE' }), expected: null },
      ],
    );
  });

  describe('snis and protocols', () => {
    runCases(
      [
        route({ id: 'sni', protocols: ['https'], snis: ['secure.test.'], paths: ['/sni'] }),
        route({ id: 'https-only', protocols: ['https'], paths: ['/secure'] }),
        route({ id: 'http-only', protocols: ['http'], paths: ['/plain'] }),
        route({ id: 'both', paths: ['/'] }),
        route({ id: 'stream', protocols: ['tcp'], snis: ['x.test'] } as Partial<RouteEntity>),
      ],
      [
        {
          name: 'sni matches on https',
          request: request({ protocol: 'https', host: 'secure.test', path: '/sni' }),
          expected: 'sni',
        },
        {
          name: 'sni differs on https',
          request: request({ protocol: 'https', host: 'secure.test', sni: 'other.test', path: '/sni' }),
          expected: 'both',
        },
        {
          name: 'sni is ignored on http (Kong)',
          request: request({ host: 'other.test', path: '/sni' }),
          expected: 'sni',
        },
        {
          name: 'https-only on https',
          request: request({ protocol: 'https', path: '/secure' }),
          expected: 'https-only',
        },
        {
          name: 'https-only on http still matches (to redirect)',
          request: request({ path: '/secure' }),
          expected: 'https-only',
        },
        { name: 'http-only on http', request: request({ path: '/plain' }), expected: 'http-only' },
        {
          name: 'http-only does not take https',
          request: request({ protocol: 'https', path: '/plain' }),
          expected: 'both',
        },
      ],
    );

    it('an http request on an https-only route carries 426, or the route’s redirect status', () => {
      const router = buildRouter({
        routes: [
          route({ id: 'a', protocols: ['https'], paths: ['/a'] }),
          route({ id: 'b', protocols: ['https'], paths: ['/b'], https_redirect_status_code: 301 }),
        ],
      });
      assert.equal(router.match(request({ path: '/a' }))?.redirect, 426);
      assert.equal(router.match(request({ path: '/b' }))?.redirect, 301);
      assert.equal(router.match(request({ path: '/b', protocol: 'https' }))?.redirect, undefined);
    });

    it('leaves stream routes to the stream router', () => {
      const router = buildRouter({ routes: [route({ protocols: ['tcp'], paths: ['/'] })] });
      assert.equal(router.routeCount, 0);
      assert.equal(router.match(request()), null);
    });
  });

  describe('the match', () => {
    it('carries the route’s service, or null for a route without one', () => {
      const svc = service({ id: 's1', path: '/base' });
      const router = buildRouter({
        services: [svc],
        routes: [
          route({ id: 'with', paths: ['/with'], service: { id: 's1' } }),
          route({ id: 'without', paths: ['/without'] }),
        ],
      });
      assert.equal(router.match(request({ path: '/with' }))?.service, svc);
      const without = router.match(request({ path: '/without/x' }));
      assert.equal(without?.service, null);
      assert.equal(without?.upstreamPath, '/x');
    });

    it('sends the Host header as received when preserve_host is on, else null', () => {
      const router = buildRouter({
        routes: [
          route({ id: 'keep', hosts: ['keep.test'], preserve_host: true }),
          route({ id: 'drop', hosts: ['drop.test'], preserve_host: false }),
        ],
      });
      assert.equal(router.match(request({ host: 'Keep.test:8443' }))?.upstreamHost, 'Keep.test:8443');
      assert.equal(router.match(request({ host: 'keep.test' }))?.upstreamHost, 'keep.test');
      assert.equal(router.match(request({ host: 'drop.test' }))?.upstreamHost, null);
    });

    it('gives positional and named regex captures (Kong docs example)', () => {
      const router = buildRouter({
        routes: [route({ paths: ['~/version/(?<version>\\d+)/users/(?<user>\\S+)'] })],
      });
      const match = router.match(request({ path: '/version/1/users/john' }));
      assert.deepEqual(match?.captures, { unnamed: ['1', 'john'], named: { version: '1', user: 'john' } });
    });

    it('gives no captures for a regex without groups or a prefix path', () => {
      const router = buildRouter({ routes: [route({ paths: ['~/re/\\d+'] }), route({ paths: ['/plain'] })] });
      assert.equal(router.match(request({ path: '/re/1' }))?.captures, null);
      assert.equal(router.match(request({ path: '/plain' }))?.captures, null);
    });

    it('strips the part a regex matched', () => {
      const router = buildRouter({ routes: [route({ paths: ['~/api/v\\d+'], strip_path: true })] });
      assert.equal(router.match(request({ path: '/api/v2/users' }))?.upstreamPath, '/users');
    });

    it('re-escapes what normalisation decoded in the upstream path', () => {
      const router = buildRouter({ routes: [route({ paths: ['/'], strip_path: false })] });
      assert.equal(
        router.match(request({ path: '/a%20b/%7Euser/c%2Fd/%C3%A9' }))?.upstreamPath,
        '/a%20b/~user/c%2Fd/%C3%A9',
      );
    });

    it('answers the same (frozen) match from the cache', () => {
      const router = buildRouter({ routes: [route({ paths: ['/c'] })] });
      const first = router.match(request({ path: '/c/1' }));
      assert.ok(first && Object.isFrozen(first));
      assert.equal(router.match(request({ path: '/c/1' })), first);
      assert.equal(router.match(request({ path: '/c/1', headers: { other: 'x' } })), first);
    });

    it('keys the cache on the headers routes use', () => {
      const router = buildRouter({
        routes: [route({ id: 'v1', headers: { version: ['v1'] } }), route({ id: 'any', paths: ['/'] })],
      });
      assert.equal(router.match(request({ headers: { version: 'v1' } }))?.route.id, 'v1');
      assert.equal(router.match(request({ headers: { version: 'v2' } }))?.route.id, 'any');
      assert.equal(router.match(request())?.route.id, 'any');
    });
  });

  describe('invalid routes', () => {
    it('are skipped with a warning and never make the build throw', () => {
      const router = buildRouter({
        services: [service({ id: 'off', enabled: false })],
        routes: [
          route({ id: 'bad-regex', paths: ['/ok', '~/(unclosed'] }),
          route({ id: 'bad-header', headers: { x: ['~*('] } }),
          route({ id: 'bad-host', hosts: ['a.*.test'] }),
          route({ id: 'nothing' }),
          route({ id: 'missing-service', paths: ['/m'], service: { id: 'nope' } }),
          route({ id: 'disabled-service', paths: ['/d'], service: { id: 'off' } }),
          route({ id: 'good', paths: ['/'] }),
        ],
      });
      assert.equal(router.routeCount, 2);
      assert.equal(router.warnings.length, 5);
      assert.match(
        router.warnings[0]!,
        /^route bad-regex: regex path "~\/\(unclosed" does not compile: .*; route skipped$/,
      );
      assert.match(router.warnings[1]!, /^route bad-header: header "x" regex/);
      assert.match(router.warnings[2]!, /^route bad-host: host "a\.\*\.test"/);
      assert.match(
        router.warnings[3]!,
        /^route nothing: sets none of hosts, headers, paths, methods, snis; route skipped$/,
      );
      assert.equal(router.warnings[4], 'route missing-service: service nope is not in the configuration');
      assert.equal(router.match(request({ path: '/ok' }))?.route.id, 'good');
      assert.equal(router.match(request({ path: '/m' }))?.route.id, 'missing-service');
      assert.equal(router.match(request({ path: '/d' }))?.route.id, 'good');
    });
  });
});
