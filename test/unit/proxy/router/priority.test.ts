// Kong's traditional route priorities, from the examples of its routing documentation and router spec.
import assert from 'node:assert/strict';
import { buildRouter } from '../../../../src/core/proxy/router/index.js';
import type { RouteEntity, RouteRequest } from '../../../../src/core/proxy/types.js';
import { request, route } from './fixtures.js';

interface Case {
  name: string;
  routes: RouteEntity[];
  request: RouteRequest;
  expected: string;
}

const cases: Case[] = [
  {
    name: 'docs: hosts+methods is evaluated before hosts alone (POST)',
    routes: [
      route({ id: 'host', hosts: ['example.com'] }),
      route({ id: 'host+method', hosts: ['example.com'], methods: ['POST'] }),
    ],
    request: request({ method: 'POST', host: 'example.com' }),
    expected: 'host+method',
  },
  {
    name: 'docs: hosts alone still takes GET',
    routes: [
      route({ id: 'host', hosts: ['example.com'] }),
      route({ id: 'host+method', hosts: ['example.com'], methods: ['POST'] }),
    ],
    request: request({ method: 'GET', host: 'example.com' }),
    expected: 'host',
  },
  {
    name: 'docs: a third route with hosts+methods+paths goes first',
    routes: [
      route({ id: 'host', hosts: ['example.com'] }),
      route({ id: 'host+method', hosts: ['example.com'], methods: ['POST'] }),
      route({ id: 'host+method+path', hosts: ['example.com'], methods: ['POST'], paths: ['/'] }),
    ],
    request: request({ method: 'POST', host: 'example.com' }),
    expected: 'host+method+path',
  },
  {
    name: 'docs: A has only plain hosts, B a wildcard host',
    routes: [
      route({ id: 'B', hosts: ['*.example.com'], paths: ['/'], created_at: 1 }),
      route({ id: 'A', hosts: ['api.example.com'], paths: ['/'], created_at: 2 }),
    ],
    request: request({ host: 'api.example.com' }),
    expected: 'A',
  },
  {
    name: 'docs: A has more non-Host headers than B',
    routes: [
      route({ id: 'B', headers: { 'x-a': ['1'] }, created_at: 1 }),
      route({ id: 'A', headers: { 'x-a': ['1'], 'x-b': ['2'] }, created_at: 2 }),
    ],
    request: request({ headers: { 'x-a': '1', 'x-b': '2' } }),
    expected: 'A',
  },
  {
    name: 'docs: A has a regex path and B only plain paths',
    routes: [
      route({ id: 'B', paths: ['/users/profile/long-prefix'], created_at: 1 }),
      route({ id: 'A', paths: ['~/users/'], created_at: 2 }),
    ],
    request: request({ path: '/users/profile/long-prefix' }),
    expected: 'A',
  },
  {
    name: "docs: A's longest path is longer than B's",
    routes: [
      route({ id: 'B', paths: ['/service'], created_at: 1 }),
      route({ id: 'A', paths: ['/service/resource'], created_at: 2 }),
    ],
    request: request({ path: '/service/resource/1' }),
    expected: 'A',
  },
  {
    name: 'docs: all else equal, the older route (created_at) wins',
    routes: [
      route({ id: 'newer', paths: ['/same'], created_at: 20 }),
      route({ id: 'older', paths: ['/same'], created_at: 10 }),
    ],
    request: request({ path: '/same' }),
    expected: 'older',
  },
  {
    name: 'a route without created_at sorts after one with it',
    routes: [
      route({ id: 'unknown', paths: ['/same'] }),
      route({ id: 'known', paths: ['/same'], created_at: 10 }),
    ],
    request: request({ path: '/same' }),
    expected: 'known',
  },
  {
    name: 'same number of attributes: hosts before headers before paths before methods (Kong category bits)',
    routes: [
      route({ id: 'method', methods: ['GET'] }),
      route({ id: 'path', paths: ['/'] }),
      route({ id: 'header', headers: { 'x-a': ['1'] } }),
      route({ id: 'host', hosts: ['*.test'] }),
    ],
    request: request({ host: 'a.test', headers: { 'x-a': '1' } }),
    expected: 'host',
  },
  {
    name: 'headers before paths with the same number of attributes',
    routes: [
      route({ id: 'path', paths: ['/long/path/here'] }),
      route({ id: 'header', headers: { 'x-a': ['1'] } }),
    ],
    request: request({ path: '/long/path/here', headers: { 'x-a': '1' } }),
    expected: 'header',
  },
  {
    name: 'more attributes beat a longer path',
    routes: [
      route({ id: 'long', paths: ['/a/very/long/path'] }),
      route({ id: 'short+method', paths: ['/a'], methods: ['GET'] }),
    ],
    request: request({ path: '/a/very/long/path' }),
    expected: 'short+method',
  },
  {
    name: 'spec: a regex path beats a matching plain prefix even if host and method are set on the other',
    routes: [
      route({ id: 'pat', hosts: ['route.com'], paths: ['/pat'] }),
      route({ id: 'path+post', hosts: ['route.com'], paths: ['/path'], methods: ['POST'] }),
      route({ id: 'regex', hosts: ['route.com'], paths: ['~/(path)'] }),
    ],
    request: request({ host: 'route.com', path: '/path' }),
    expected: 'regex',
  },
  {
    name: 'spec: a longer prefix for another host does not supersede',
    routes: [
      route({ id: 'my-route', hosts: ['example.com'], paths: ['/my-route'] }),
      route({ id: 'hello', hosts: ['example.com'], paths: ['/my-route/hello'] }),
      route({ id: 'world', hosts: ['example.net'], paths: ['/my-route/hello/world'] }),
    ],
    request: request({ host: 'example.com', path: '/my-route/hello/world/and/goodnight' }),
    expected: 'hello',
  },
  {
    name: 'spec: several regexes, the first matching in order',
    routes: [
      route({ id: 'persons', paths: ['~/route/persons/\\d{3}'] }),
      route({ id: 'following', paths: ['~/route/persons/\\d{3}/following'] }),
      route({ id: 'alpha', paths: ['~/route/persons/\\d{3}/[a-z]+'] }),
    ],
    request: request({ path: '/route/persons/456' }),
    expected: 'persons',
  },
  {
    name: 'each path of a route is ranked on its own',
    routes: [
      route({ id: 'two-paths', paths: ['/x', '/api/v1/users'], created_at: 1 }),
      route({ id: 'mid', paths: ['/api/v1'], created_at: 2 }),
    ],
    request: request({ path: '/api/v1/users/7' }),
    expected: 'two-paths',
  },
  {
    name: 'regex_priority only orders regex paths (a prefix route with a high one gains nothing)',
    routes: [
      route({ id: 'prefix', paths: ['/'], regex_priority: 100 }),
      route({ id: 'longer', paths: ['/v1'], regex_priority: 0 }),
    ],
    request: request({ path: '/v1/x' }),
    expected: 'longer',
  },
];

// Kong docs "Regex evaluation order": /version/\d+/status/\d+ (6), /status/\d+ (0), /version/any/ (0), /version.
const evaluationOrder = [
  route({ id: 'status', paths: ['~/status/\\d+'], regex_priority: 0, created_at: 1 }),
  route({ id: 'version-status', paths: ['~/version/\\d+/status/\\d+'], regex_priority: 6, created_at: 2 }),
  route({ id: 'version', paths: ['/version'], created_at: 3 }),
  route({ id: 'version-any', paths: ['~/version/any/'], created_at: 4 }),
];

describe('router priorities', () => {
  for (const c of cases) {
    it(c.name, () => {
      const router = buildRouter({ routes: c.routes });
      assert.equal(router.match(c.request)?.route.id, c.expected);
      // Configuration order never decides before the documented rules do.
      const reversed = buildRouter({ routes: [...c.routes].reverse() });
      assert.equal(reversed.match(c.request)?.route.id, c.expected);
    });
  }

  describe('docs: regex evaluation order', () => {
    const router = buildRouter({ routes: evaluationOrder });
    const table: [string, string][] = [
      ['/version/1/status/2', 'version-status'],
      ['/status/3', 'status'],
      ['/version/any/thing', 'version-any'],
      ['/version/other', 'version'],
    ];
    for (const [path, expected] of table) {
      it(`${path} → ${expected}`, () => assert.equal(router.match(request({ path }))?.route.id, expected));
    }
  });
});
