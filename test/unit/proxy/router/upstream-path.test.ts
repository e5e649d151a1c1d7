// The upstream path: Kong's path_handling × strip_path × service path table (spec/fixtures/router_path_handling_tests.lua).
import assert from 'node:assert/strict';
import { buildRouter } from '../../../../src/core/proxy/router/index.js';
import { normalizePath, escapePath } from '../../../../src/core/proxy/router/normalize.js';
import { sanitizePostfix } from '../../../../src/core/proxy/router/upstream-path.js';
import { request, route, service } from './fixtures.js';

type Both<T> = T | T[];
/** service path, route path (null: the route matches on its host), strip_path, path_handling, request, expected. */
type Row = [string, string | null, Both<boolean>, Both<'v0' | 'v1'>, string, string];

const B: boolean[] = [false, true];
const V: ('v0' | 'v1')[] = ['v0', 'v1'];

// prettier-ignore
const rows: Row[] = [
  ['/',          '/',       B,     V,    '/',          '/'],
  ['/',          '/',       B,     V,    '/route',     '/route'],
  ['/',          '/',       B,     V,    '/route/',    '/route/'],
  ['/',          '/',       B,     V,    '/routereq',  '/routereq'],
  ['/',          '/',       B,     V,    '/route/req', '/route/req'],
  ['/',          '/route',  false, V,    '/route',     '/route'],
  ['/',          '/route',  false, V,    '/route/',    '/route/'],
  ['/',          '/route',  false, V,    '/routereq',  '/routereq'],
  ['/',          '/route',  true,  V,    '/route',     '/'],
  ['/',          '/route',  true,  V,    '/route/',    '/'],
  ['/',          '/route',  true,  V,    '/routereq',  '/req'],
  ['/',          '/route/', false, V,    '/route/',    '/route/'],
  ['/',          '/route/', false, V,    '/route/req', '/route/req'],
  ['/',          '/route/', true,  V,    '/route/',    '/'],
  ['/',          '/route/', true,  V,    '/route/req', '/req'],
  ['/srv',       '/rou',    false, 'v0', '/roureq',    '/srv/roureq'],
  ['/srv',       '/rou',    false, 'v1', '/roureq',    '/srvroureq'],
  ['/srv',       '/rou',    true,  'v0', '/roureq',    '/srv/req'],
  ['/srv',       '/rou',    true,  'v1', '/roureq',    '/srvreq'],
  ['/srv/',      '/rou',    false, V,    '/rou',       '/srv/rou'],
  ['/srv/',      '/rou',    true,  'v0', '/rou',       '/srv'],
  ['/srv/',      '/rou',    true,  'v1', '/rou',       '/srv/'],
  ['/service',   '/',       B,     V,    '/',          '/service'],
  ['/service',   '/',       B,     'v0', '/route',     '/service/route'],
  ['/service',   '/',       B,     'v1', '/route',     '/serviceroute'],
  ['/service',   '/',       B,     'v0', '/route/',    '/service/route/'],
  ['/service',   '/',       B,     'v1', '/route/',    '/serviceroute/'],
  ['/service',   '/',       B,     'v0', '/routereq',  '/service/routereq'],
  ['/service',   '/',       B,     'v1', '/routereq',  '/serviceroutereq'],
  ['/service',   '/',       B,     'v0', '/route/req', '/service/route/req'],
  ['/service',   '/',       B,     'v1', '/route/req', '/serviceroute/req'],
  ['/service',   '/route',  false, 'v0', '/route',     '/service/route'],
  ['/service',   '/route',  false, 'v1', '/route',     '/serviceroute'],
  ['/service',   '/route',  false, 'v0', '/route/',    '/service/route/'],
  ['/service',   '/route',  false, 'v1', '/route/',    '/serviceroute/'],
  ['/service',   '/route',  false, 'v0', '/routereq',  '/service/routereq'],
  ['/service',   '/route',  false, 'v1', '/routereq',  '/serviceroutereq'],
  ['/service',   '/route',  true,  V,    '/route',     '/service'],
  ['/service',   '/route',  true,  V,    '/route/',    '/service/'],
  ['/service',   '/route',  true,  'v0', '/routereq',  '/service/req'],
  ['/service',   '/route',  true,  'v1', '/routereq',  '/servicereq'],
  ['/service',   '/route/', false, 'v0', '/route/',    '/service/route/'],
  ['/service',   '/route/', false, 'v1', '/route/',    '/serviceroute/'],
  ['/service',   '/route/', false, 'v0', '/route/req', '/service/route/req'],
  ['/service',   '/route/', false, 'v1', '/route/req', '/serviceroute/req'],
  ['/service',   '/route/', true,  'v0', '/route/',    '/service/'],
  ['/service',   '/route/', true,  'v1', '/route/',    '/service'],
  ['/service',   '/route/', true,  'v0', '/route/req', '/service/req'],
  ['/service',   '/route/', true,  'v1', '/route/req', '/servicereq'],
  ['/service/',  '/',       B,     V,    '/route/',    '/service/route/'],
  ['/service/',  '/',       B,     V,    '/',          '/service/'],
  ['/service/',  '/',       B,     V,    '/route',     '/service/route'],
  ['/service/',  '/',       B,     V,    '/routereq',  '/service/routereq'],
  ['/service/',  '/',       B,     V,    '/route/req', '/service/route/req'],
  ['/service/',  '/route',  false, V,    '/route',     '/service/route'],
  ['/service/',  '/route',  false, V,    '/route/',    '/service/route/'],
  ['/service/',  '/route',  false, V,    '/routereq',  '/service/routereq'],
  ['/service/',  '/route',  true,  'v0', '/route',     '/service'],
  ['/service/',  '/route',  true,  'v1', '/route',     '/service/'],
  ['/service/',  '/route',  true,  V,    '/route/',    '/service/'],
  ['/service/',  '/route',  true,  V,    '/routereq',  '/service/req'],
  ['/service/',  '/route/', false, V,    '/route/',    '/service/route/'],
  ['/service/',  '/route/', false, V,    '/route/req', '/service/route/req'],
  ['/service/',  '/route/', true,  V,    '/route/',    '/service/'],
  ['/service/',  '/route/', true,  V,    '/route/req', '/service/req'],
  // The route matches on its host, not a path.
  ['/',          null,      B,     V,    '/',          '/'],
  ['/',          null,      B,     V,    '/route',     '/route'],
  ['/',          null,      B,     V,    '/route/',    '/route/'],
  ['/service',   null,      B,     V,    '/',          '/service'],
  ['/service',   null,      B,     'v0', '/route',     '/service/route'],
  ['/service',   null,      B,     'v1', '/route',     '/serviceroute'],
  ['/service',   null,      B,     'v0', '/route/',    '/service/route/'],
  ['/service',   null,      B,     'v1', '/route/',    '/serviceroute/'],
  ['/service/',  null,      B,     V,    '/',          '/service/'],
  ['/service/',  null,      B,     V,    '/route',     '/service/route'],
  ['/service/',  null,      B,     V,    '/route/',    '/service/route/'],
];

const list = <T>(value: Both<T>): T[] => (Array.isArray(value) ? value : [value]);

describe('upstream path', () => {
  describe("Kong's path handling table", () => {
    for (const [servicePath, routePath, strips, handlings, requestPath, expected] of rows) {
      for (const strip of list(strips)) {
        for (const handling of list(handlings)) {
          const name = `service ${servicePath}, route ${routePath ?? '(host)'}, strip_path ${strip}, ${handling}: ${requestPath} → ${expected}`;
          it(name, () => {
            const router = buildRouter({
              services: [service({ id: 's', path: servicePath })],
              routes: [
                route({
                  service: { id: 's' },
                  hosts: routePath === null ? ['route.test'] : undefined,
                  paths: routePath === null ? undefined : [routePath],
                  strip_path: strip,
                  path_handling: handling,
                }),
              ],
            });
            assert.equal(
              router.match(request({ host: 'route.test', path: requestPath }))?.upstreamPath,
              expected,
            );
          });
        }
      }
    }
  });

  describe('request path normalisation (Kong docs)', () => {
    // prettier-ignore
    const table: [string, string][] = [
      ['/foo%3a', '/foo%3A'],
      ['/fo%6F', '/foo'],
      ['/foo/./bar/../baz', '/foo/baz'],
      ['/foo//bar', '/foo/bar'],
      ['/%2e%2e/etc', '/etc'],
      ['/a/..', '/'],
      ['/a/b/../../..', '/'],
      ['/a%2Fb', '/a%2Fb'],
      ['/a%2fb', '/a%2Fb'],
      ['/%25', '/%25'],
      ['/a%20b', '/a b'],
      ['/caf%c3%a9', '/café'],
      ['/bad%C3', '/bad%C3'],
      ['/bad%zz', '/bad%zz'],
      ['/', '/'],
      ['', ''],
    ];
    for (const [raw, normalised] of table) {
      it(`${raw || '(empty)'} → ${normalised || '(empty)'}`, () =>
        assert.equal(normalizePath(raw), normalised));
    }
  });

  describe('escaping for the upstream request line', () => {
    // prettier-ignore
    const table: [string, string][] = [
      ['/plain/path', '/plain/path'],
      ['/a b', '/a%20b'],
      ['/café', '/caf%C3%A9'],
      ['/q"<>\\^`{|}', '/q%22%3C%3E%5C%5E%60%7B%7C%7D'],
      ["/keep!$&'()*+,;=:@[]~%2F", "/keep!$&'()*+,;=:@[]~%2F"],
    ];
    for (const [path, escaped] of table) {
      it(`${path} → ${escaped}`, () => assert.equal(escapePath(path), escaped));
    }
  });

  describe('postfix sanitising', () => {
    // prettier-ignore
    const table: [string, string][] = [['.', ''], ['..', ''], ['./x', 'x'], ['../x', 'x'], ['.x', '.x'], ['', '']];
    for (const [postfix, sanitised] of table) {
      it(`"${postfix}" → "${sanitised}"`, () => assert.equal(sanitizePostfix(postfix), sanitised));
    }
  });
});
