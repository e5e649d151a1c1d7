// Which route a request matches: hosts, paths, methods, headers, snis, protocols, and what the match carries.
import assert from 'node:assert/strict';
import { buildRouter } from '../../../../src/core/proxy/router/index.js';
import type { RouteEntity } from '../../../../src/core/proxy/types.js';
import { request, route, service } from './fixtures.js';

/** A case: its name, the request (as `request()` takes it), and the route id expected or null for no match. */
type Case = [name: string, fields: Parameters<typeof request>[0], expected: string | null];

function runCases(routes: RouteEntity[], cases: Case[]): void {
  const router = buildRouter({ routes });
  for (const [name, fields, expected] of cases) {
    it(name, () => {
      assert.deepEqual(router.warnings, []);
      assert.equal(router.match(request(fields))?.route.id ?? null, expected);
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
      ['[host]', { host: 'domain-1.org' }, '1'],
      ['[host] ignores the default port', { host: 'domain-1.org:80' }, '1'],
      ['[host] any other port matches a no-port route', { host: 'domain-1.org:123' }, '1'],
      ['[host] matches a specific port', { host: 'domain-1.org:321' }, '13'],
      ['[host] port-only route', { host: 'domain-3.org:321' }, '14'],
      ['[host] fails just because of the port', { host: 'domain-3.org:123' }, null],
      ['[host] is case-insensitive', { host: 'DOMAIN-1.org' }, '1'],
      ['[uri]', { path: '/my-route', host: 'domain.org' }, '3'],
      ['[uri] prefix', { path: '/my-route/some/path' }, '3'],
      ['[method]', { method: 'TRACE' }, '2'],
      ['[host + uri]', { path: '/route-4', host: 'domain-1.org' }, '4'],
      ['[host + method]', { method: 'POST', host: 'domain-1.org' }, '5'],
      ['[uri + method]', { method: 'PUT', path: '/route-6' }, '6'],
      ['[host + uri + method]', { method: 'PUT', path: '/my-route-uri', host: 'domain-with-uri-2.org' }, '7'],
      ['single [headers] value', { headers: { location: 'my-location-2' } }, '9'],
      ['[headers] value is case-insensitive', { headers: { location: 'My-Location-2' } }, '9'],
      [
        '[headers] one of several request values',
        { headers: { location: ['my-location-3', 'my-location-2'] } },
        '9',
      ],
      ['[headers] no value matches', { headers: { location: 'my-location-3' } }, null],
      ['multiple [headers] all match', { headers: { location: 'my-location-1', version: 'v2' } }, '10'],
      [
        'multiple [headers] fall back to the route with fewer headers',
        { headers: { location: ['my-location-3', 'my-location-2'], version: 'v2' } },
        '9',
      ],
      [
        '[headers] ~* regex value, name with _ matches the - header',
        { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/83.0' } },
        '15',
      ],
      ['[headers + uri]', { path: '/headers-uri', headers: { location: 'my-location-2' } }, '11'],
      [
        '[host + headers + uri + method]',
        {
          method: 'PUT',
          path: '/headers-host-uri-method',
          host: 'domain-with-headers-1.org',
          headers: { location: 'my-location-2' },
        },
        '12',
      ],
      ['no route matches', { path: '/nothing', host: 'nowhere.org' }, null],
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
        ['leftmost wildcard', { host: 'foo.route.com' }, 'left'],
        ['leftmost wildcard, several labels', { host: 'a.b.route.com' }, 'left'],
        ['leftmost wildcard needs a label', { host: '.route.com' }, null],
        ['rightmost wildcard', { host: 'route.org' }, 'right'],
        ['rightmost wildcard, any port', { host: 'route.org:456' }, 'right'],
        ['leftmost wildcard, any port', { host: 'foo.route.com:123' }, 'left'],
        ['port-specific wildcard', { host: 'foo.route.net:123' }, 'left-port'],
        ['port-specific wildcard, other port', { host: 'foo.route.net:456' }, null],
        ['port-specific wildcard has priority', { host: 'route.org:123' }, 'right-port'],
        ['plain host before wildcard (route.com)', { host: 'route.com' }, 'route.com'],
        ['plain host before wildcard', { host: 'plain.route.com' }, 'plain'],
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
        ['no-port route, no-port request', { host: '[::11]' }, '1'],
        ['bracketed route host', { host: '[::12]' }, '1'],
        ['no-port route is any-port', { host: '[::11]', port: 654 }, '1'],
        ['port-specific route', { host: '[::21]', port: 321 }, '4'],
        ['port-specific only', { host: '[::31]', port: 321 }, '3'],
        ['other port falls back to any-port', { host: '[::21]', port: 654 }, '2'],
        ['no any-port route', { host: '[::31]', port: 654 }, null],
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
        ['longer prefix first', { path: '/my-route/hello/world' }, 'hello'],
        ['shorter prefix', { path: '/my-route/world' }, 'my-route'],
        ['prefix is not segment-bound', { path: '/my-routeX' }, 'my-route'],
        [
          'prefix is anchored (more attributes do not help a non-prefix)',
          { path: '/something/my-route', host: 'example.com' },
          'something',
        ],
        ['regex', { path: '/users/123/profile' }, 'profile'],
        ['regex before a matching prefix', { path: '/route/persons/123/profile' }, 'persons-regex'],
        ['regex before an exact prefix', { path: '/route/fixture' }, 'fixture-regex'],
        ['regex is anchored at the start', { path: '/extra/prefix/123' }, null],
        ['regex PCRE named group', { path: '/pcre/42' }, 'pcre-named'],
        ['regex (?i) flag', { path: '/case/x' }, 'case'],
        ['regex alternation, second branch', { path: '/alt-b/x' }, 'alternation'],
        ['normalised: percent-decoded', { path: '/my-r%6Fute/hello' }, 'hello'],
        ['normalised: double slash', { path: '//my-route//hello' }, 'hello'],
        ['normalised: dot segments', { path: '/x/../my-route/./hello' }, 'hello'],
        ['no prefix matches', { path: '/nope' }, null],
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
        ['listed method', { method: 'GET' }, 'get'],
        ['route methods are case-insensitive', { method: 'HEAD' }, 'get'],
        ['other method', { method: 'POST' }, 'post'],
        ['unlisted method', { method: 'DELETE' }, null],
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
        ['sni matches on https', { protocol: 'https', host: 'secure.test', path: '/sni' }, 'sni'],
        [
          'sni differs on https',
          { protocol: 'https', host: 'secure.test', sni: 'other.test', path: '/sni' },
          'both',
        ],
        ['sni is ignored on http (Kong)', { host: 'other.test', path: '/sni' }, 'sni'],
        ['https-only on https', { protocol: 'https', path: '/secure' }, 'https-only'],
        ['https-only on http still matches (to redirect)', { path: '/secure' }, 'https-only'],
        ['http-only on http', { path: '/plain' }, 'http-only'],
        ['http-only does not take https', { protocol: 'https', path: '/plain' }, 'both'],
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
