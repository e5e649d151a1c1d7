// Seeded generator of malformed Admin API requests: every write carries at least one certain defect.
import { randomUUID } from 'node:crypto';
import type { RawRequest } from '../../helpers/http.js';

/** mulberry32: a tiny deterministic PRNG, so a failing case can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzContext {
  /** Names and ids of entities that exist: used as parents and targets of reads and defective writes only. */
  existing: {
    services: string[];
    routes: string[];
    consumers: string[];
    upstreams: string[];
    plugins: string[];
  };
}

const COLLECTIONS = [
  'services',
  'routes',
  'consumers',
  'plugins',
  'upstreams',
  'certificates',
  'snis',
  'ca_certificates',
  'key-auths',
];
const NESTED = [
  ['services', 'routes'],
  ['services', 'plugins'],
  ['routes', 'plugins'],
  ['consumers', 'plugins'],
  ['consumers', 'key-auth'],
  ['upstreams', 'targets'],
  ['certificates', 'snis'],
] as const;
const FIELDS = [
  'name',
  'host',
  'port',
  'protocol',
  'path',
  'retries',
  'paths',
  'hosts',
  'methods',
  'service',
  'route',
  'consumer',
  'config',
  'tags',
  'username',
  'custom_id',
  'url',
  'enabled',
  'target',
  'weight',
  'cert',
  'key',
  'strip_path',
  'regex_priority',
  'id',
  'created_at',
];
const CONTENT_TYPES = [
  'text/plain',
  'application/xml',
  'image/png',
  'application/octet-stream',
  'multipart/form-data',
  'multipart/form-data; boundary=',
  'application/jsonx',
  ';;;',
  'text/html; charset=ebcdic',
];

export function fuzzCases(seed: number, count: number, ctx: FuzzContext): RawRequest[] {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const chance = (p: number) => rnd() < p;

  const garbageString = (): string => {
    const kind = int(8);
    if (kind === 0) return '';
    if (kind === 1) return 'x'.repeat(1 + int(200_000));
    if (kind === 2) return String.fromCharCode(...Array.from({ length: 1 + int(40) }, () => int(0x2fff)));
    if (kind === 3) return '../../etc/passwd';
    if (kind === 4) return '%zz%00%';
    if (kind === 5) return "'; DROP TABLE services; --";
    if (kind === 6) return '\u0000\u0001\u001f';
    return `fuzz-${int(1e9)}`;
  };
  const garbageValue = (depth = 0): unknown => {
    const kind = int(depth > 2 ? 7 : 9);
    if (kind === 0) return garbageString();
    if (kind === 1) return int(2) ? 1e308 * 10 : -int(1e9);
    if (kind === 2) return rnd();
    if (kind === 3) return null;
    if (kind === 4) return chance(0.5);
    if (kind === 5) return Number.MAX_SAFE_INTEGER * 4;
    if (kind === 6) return 'not-a-uuid';
    if (kind === 7) return Array.from({ length: int(5) }, () => garbageValue(depth + 1));
    return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(FIELDS), garbageValue(depth + 1)]));
  };
  /** A key that never names an existing entity: a fresh UUID, a malformed one, or garbage. */
  const missingKey = (): string => {
    const kind = int(4);
    if (kind === 0) return randomUUID();
    if (kind === 1) return randomUUID().slice(0, 30) + 'zz';
    if (kind === 2) return encodeURIComponent(garbageString()).slice(0, 3000) || 'x';
    return `nope-${int(1e9)}`;
  };
  const existingOrMissing = (collection: string): string => {
    const pool = (ctx.existing as Record<string, string[]>)[collection];
    return pool && pool.length > 0 && chance(0.6) ? pick(pool) : missingKey();
  };
  const randomQuery = (): string => {
    const parts: string[] = [];
    if (chance(0.5))
      parts.push(
        `size=${encodeURIComponent(pick(['0', '-1', '1001', 'abc', '1.5', '', '1e3', '99999999999999999999', String(1 + int(1000))]))}`,
      );
    if (chance(0.4))
      parts.push(
        `offset=${encodeURIComponent(pick([garbageString().slice(0, 500), 'AAAA', '!!!', Buffer.from('["x",1]').toString('base64'), Buffer.from('["\\u0000"]').toString('base64url')]))}`,
      );
    if (chance(0.4))
      parts.push(
        `tags=${encodeURIComponent(pick(['a,b/c', ',', 'a'.repeat(5000), 'a,b,c,d,e,f', '\u0001', 'x/y', garbageString().slice(0, 100)]))}`,
      );
    if (chance(0.1)) parts.push('size=1&size=2');
    return parts.length ? `?${parts.join('&')}` : '';
  };
  const randomPath = (forWrite: boolean): string => {
    const kind = int(6);
    if (kind === 0) return `/${pick(COLLECTIONS)}${forWrite ? '' : randomQuery()}`;
    if (kind === 1)
      return `/${pick(COLLECTIONS)}/${forWrite ? missingKey() : existingOrMissing(pick(COLLECTIONS))}`;
    if (kind === 2) {
      const [parent, child] = pick(NESTED);
      return `/${parent}/${existingOrMissing(parent)}/${child}${forWrite ? '' : randomQuery()}`;
    }
    if (kind === 3) {
      const [parent, child] = pick(NESTED);
      return `/${parent}/${existingOrMissing(parent)}/${child}/${missingKey()}`;
    }
    if (kind === 4)
      return pick([
        '/tags/' + missingKey(),
        '/schemas/plugins/' + missingKey(),
        '/schemas/' + missingKey(),
        '/status',
        '/',
        '/plugins/enabled',
        '/nowhere/' + missingKey(),
        '//',
        '/services/x/y/z/w',
      ]);
    return `/${pick(COLLECTIONS)}/${missingKey()}/${pick(['service', 'route', 'consumer', 'upstream', 'certificate'])}`;
  };

  /** A body with a defect the store or parser must refuse, whatever else it contains. */
  const defectiveBody = (): { headers: Record<string, string>; body: string | Buffer } => {
    const fields: Record<string, unknown> = Object.fromEntries(
      Array.from({ length: int(6) }, () => [pick(FIELDS), garbageValue()]),
    );
    fields[`unknown_field_${int(1000)}`] = garbageValue();
    const kind = int(7);
    if (kind === 0) {
      const json = JSON.stringify(fields);
      return {
        headers: { 'content-type': 'application/json' },
        body: json.slice(0, Math.max(1, int(json.length))) + '{',
      };
    }
    if (kind === 1) return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(fields) };
    if (kind === 2)
      return {
        headers: { 'content-type': 'application/json' },
        body: pick([
          '[1,2,3]',
          '"string"',
          'null',
          '42',
          'true',
          '{"a":1}}',
          '\u0000',
          '{"name": "x", "name": }',
        ]),
      };
    if (kind === 3) {
      const pairs = Object.entries(fields).map(
        ([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`,
      );
      pairs.push(
        pick([
          'paths[0]=/a',
          'a[99999]=1',
          'config=1&config.minute=5',
          `${'a.'.repeat(40)}b=1`,
          'x=%zz',
          'tags[]=',
        ]),
      );
      return { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: pairs.join('&') };
    }
    if (kind === 4)
      return {
        headers: { 'content-type': pick(CONTENT_TYPES) },
        body: Buffer.from(Array.from({ length: 1 + int(300) }, () => int(256))),
      };
    if (kind === 5)
      return {
        headers: { 'content-type': 'multipart/form-data; boundary=zz' },
        body: pick([
          '--zz\r\nContent-Disposition: form-data; name="name"\r\n\r\nx',
          '--zz\r\nX: y\r\n\r\nv\r\n--zz--',
          'garbage',
          `--zz\r\nContent-Disposition: form-data; name="unknown_field"\r\n\r\nv\r\n--zz--\r\n`,
        ]),
      };
    return hugeBody();
  };
  /** Larger than the 10 MiB body limit: refused with 413 before it is parsed. */
  const hugeBody = () => ({
    headers: { 'content-type': 'application/json' },
    body: Buffer.alloc(10 * 1024 * 1024 + 10, 0x61),
  });

  const cases: RawRequest[] = [];
  while (cases.length < count) {
    if (cases.length % 250 === 1) {
      // A few bodies over the 10 MiB limit; more would only slow the test down.
      cases.push({ method: pick(['POST', 'PUT', 'PATCH']), path: randomPath(true), ...hugeBody() });
      continue;
    }
    const method = pick([
      'GET',
      'GET',
      'POST',
      'POST',
      'PUT',
      'PATCH',
      'PATCH',
      'DELETE',
      'HEAD',
      'OPTIONS',
      'TRACE',
    ]);
    if (method === 'DELETE') {
      // Deletes target keys that do not exist, or paths where DELETE is not allowed.
      cases.push({
        method,
        path: pick([
          `/${pick(COLLECTIONS)}/${missingKey()}`,
          `/${pick(COLLECTIONS)}`,
          '/',
          '/status',
          `/routes/${existingOrMissing('routes')}/service`,
        ]),
      });
      continue;
    }
    if (method === 'POST' || method === 'PUT' || method === 'PATCH') {
      const { headers, body } = defectiveBodyWithoutHuge();
      cases.push({ method, path: randomPath(true), headers, body });
      continue;
    }
    cases.push({ method, path: randomPath(false) });
  }
  return cases;

  function defectiveBodyWithoutHuge(): { headers: Record<string, string>; body: string | Buffer } {
    for (;;) {
      const candidate = defectiveBody();
      if (candidate.body.length < 10 * 1024 * 1024) return candidate;
    }
  }
}
