// The indexed, cached router gives the same answers as a plain linear scan over Kong's ordering, on random configs.
import assert from 'node:assert/strict';
import { buildRouter } from '../../../../src/core/proxy/router/index.js';
import { normalizePath } from '../../../../src/core/proxy/router/normalize.js';
import {
  compareEntries,
  compileRoute,
  matchEntry,
  type RouteEntry,
} from '../../../../src/core/proxy/router/route-entry.js';
import type { RouteEntity, RouteRequest } from '../../../../src/core/proxy/types.js';
import { request, route } from './fixtures.js';

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTS = [
  'a.test',
  'b.test',
  'c.test',
  'api.shop.test',
  'x.test:8000',
  '*.shop.test',
  'api.*',
  '*.test:8443',
];
const SEGMENTS = ['api', 'v1', 'v2', 'users', 'orders', 'shop', 'x', 'long-segment'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];

function linearReference(routes: RouteEntity[]): (req: RouteRequest) => string | null {
  const entries: RouteEntry[] = [];
  routes.forEach((r, order) => entries.push(...compileRoute(r, null, order)));
  entries.sort(compareEntries);
  return (req) => {
    const view = {
      method: req.method,
      host: req.host,
      port: req.port,
      path: normalizePath(req.path),
      headers: req.headers,
      sni: req.sni ?? '',
      protocol: req.protocol,
    };
    for (const entry of entries) if (matchEntry(entry, view)) return entry.route.id;
    return null;
  };
}

describe('router against a linear reference', () => {
  const rnd = random(20240601);
  const pick = <T>(values: T[]): T => values[Math.floor(rnd() * values.length)]!;
  const some = <T>(values: T[], max: number): T[] => [
    ...new Set(Array.from({ length: 1 + Math.floor(rnd() * max) }, () => pick(values))),
  ];
  const path = (n: number): string => `/${Array.from({ length: n }, () => pick(SEGMENTS)).join('/')}`;

  const routes: RouteEntity[] = [];
  for (let i = 0; i < 2000; i += 1) {
    const fields: Partial<RouteEntity> = {
      created_at: rnd() < 0.9 ? Math.floor(rnd() * 1000) : undefined,
      regex_priority: Math.floor(rnd() * 3),
    };
    if (rnd() < 0.6) fields.hosts = some(HOSTS, 2);
    if (rnd() < 0.8) {
      fields.paths = some(
        [
          path(1),
          path(2),
          path(3),
          `${path(1)}/`,
          `~${path(1)}/\\d+`,
          `~${path(2)}/(?<id>[a-z]+)`,
          `~/(v1|v2)/${pick(SEGMENTS)}`,
        ],
        2,
      );
    }
    if (fields.paths && rnd() < 0.3) fields.methods = some(METHODS, 2);
    if (rnd() < 0.1) fields.headers = { 'x-version': some(['1', '2', '~*^3'], 2) };
    if (rnd() < 0.05) fields.snis = ['a.test'];
    if (rnd() < 0.1) fields.protocols = [pick(['http', 'https'])];
    if (!fields.hosts && !fields.paths && !fields.methods && !fields.headers && !fields.snis)
      fields.paths = [path(1)];
    routes.push(route({ id: `r${i}`, ...fields }));
  }

  const requests: RouteRequest[] = Array.from({ length: 10000 }, () => {
    const host = pick([
      'a.test',
      'b.test',
      'c.test',
      'api.shop.test',
      'www.shop.test',
      'api.other',
      'x.test',
      'z.test',
    ]);
    const port = pick([80, 443, 8000, 8443]);
    const tail = rnd() < 0.3 ? `/${Math.floor(rnd() * 100)}` : rnd() < 0.5 ? '/abc' : '';
    return request({
      method: pick(METHODS),
      host: `${host}:${port}`,
      path: `${rnd() < 0.3 ? '/nope' : ''}${path(1 + Math.floor(rnd() * 3))}${tail}${rnd() < 0.1 ? '/' : ''}`,
      protocol: pick(['http', 'https'] as const),
      headers: rnd() < 0.2 ? { 'x-version': pick(['1', '2', '3', '4']) } : {},
    });
  });

  it('gives the same route for 10,000 random requests over 2,000 random routes', () => {
    const reference = linearReference(routes);
    const router = buildRouter({ routes });
    assert.deepEqual(router.warnings, []);
    let matched = 0;
    for (const req of requests) {
      const expected = reference(req);
      if (expected !== null) matched += 1;
      assert.equal(router.match(req)?.route.id ?? null, expected, JSON.stringify(req));
    }
    // The generator must exercise both outcomes, or the comparison proves little.
    assert.ok(matched > 2000 && requests.length - matched > 100, `matched ${matched}`);
  });

  it('answers the same with and without the match cache, repeated requests included', () => {
    const cached = buildRouter({ routes }, { cacheSize: 64 });
    const uncached = buildRouter({ routes }, { cacheSize: 0 });
    for (let i = 0; i < 3000; i += 1) {
      const req = requests[i % 500]!;
      assert.deepEqual(cached.match(req), uncached.match(req));
    }
  });
});
