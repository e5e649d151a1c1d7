// One routable unit of Kong's traditional router: a route split per path, compiled once, with its priority key.
import type { RouteEntity, ServiceEntity } from '../types.js';
import { normalizePath } from './normalize.js';

/** Which attributes a route sets (Kong's MATCH_RULES bits); more bits, then a higher value, win. */
const CATEGORY = { host: 0x40, header: 0x20, uri: 0x10, method: 0x08, sni: 0x04 } as const;

/** Tie-breakers inside one category (Kong's MATCH_SUBRULES), compared as a number, higher first. */
const SUBMATCH = {
  regexUri: 0x01,
  plainHostsOnly: 0x02,
  wildcardHostPort: 0x04,
  plainHostPort: 0x08,
} as const;

export type HostRule =
  | { kind: 'exact'; name: string; port: number | null }
  /** `*.example.com`: `name` is `.example.com`; at least one character must precede it. */
  | { kind: 'suffix'; name: string; port: number | null }
  /** `example.*`: `name` is `example.`; at least one character must follow it. */
  | { kind: 'prefix'; name: string; port: number | null };

export interface HeaderRule {
  /** Lower-case, `_` read as `-` (how nginx looks request headers up). */
  name: string;
  /** Lower-cased plain values. */
  values: Set<string>;
  /** `~*` values: case-insensitive, unanchored. */
  patterns: RegExp[];
}

export type PathRule =
  | { kind: 'prefix'; value: string }
  | {
      kind: 'regex';
      /** The route's path without the `~`. */
      source: string;
      regex: RegExp;
      /** Characters every matching path starts with, for indexing. */
      literalPrefix: string;
    };

export interface RouteEntry {
  route: RouteEntity;
  service: ServiceEntity | null;
  path: PathRule | null;
  hosts: HostRule[] | null;
  methods: Set<string> | null;
  headers: HeaderRule[] | null;
  snis: Set<string> | null;
  acceptsHttp: boolean;
  acceptsHttps: boolean;
  /** Position in the priority order, 0 first; set once all entries are sorted. */
  rank: number;
  /** Priority key, most significant first. */
  weight: number;
  category: number;
  submatch: number;
  headerCount: number;
  regexPriority: number;
  uriLength: number;
  createdAt: number;
  /** Position of the route in the configuration, the last tie-breaker (keeps the order deterministic). */
  order: number;
}

/**
 * Kong's traditional ordering: number of attributes set, then which ones (hosts > headers > paths > methods >
 * snis), then plain host with port > wildcard host with port > plain hosts only > regex path (Kong tries the
 * routes listing the request's exact `host:port` first within a category: those hosts form an entry of their
 * own here, ranked by the first of those bits), then more headers, then higher
 * `regex_priority` (regex paths only), then the longer prefix path, then the older route.
 */
export function compareEntries(a: RouteEntry, b: RouteEntry): number {
  return (
    b.weight - a.weight ||
    b.category - a.category ||
    b.submatch - a.submatch ||
    b.headerCount - a.headerCount ||
    (a.submatch & SUBMATCH.regexUri ? b.regexPriority - a.regexPriority : 0) ||
    b.uriLength - a.uriLength ||
    a.createdAt - b.createdAt ||
    a.order - b.order
  );
}

function nonEmpty<T>(values: T[] | undefined | null): values is T[] {
  return Array.isArray(values) && values.length > 0;
}

/** Splits `host:port` (`[v6]:port` too); brackets are dropped so `[::1]` and `::1` compare equal. */
export function splitHostPort(value: string): { host: string; port: number | null } {
  const bracketed = /^\[([^\]]*)\](?::(\d+))?$/.exec(value);
  if (bracketed)
    return { host: bracketed[1]!, port: bracketed[2] === undefined ? null : Number(bracketed[2]) };
  const colon = value.lastIndexOf(':');
  if (colon > 0 && value.indexOf(':') === colon && /^\d+$/.test(value.slice(colon + 1)))
    return { host: value.slice(0, colon), port: Number(value.slice(colon + 1)) };
  return { host: value, port: null };
}

function compileHost(value: string): HostRule {
  const { host, port } = splitHostPort(value.toLowerCase());
  const stars = host.split('*').length - 1;
  if (stars === 0) return { kind: 'exact', name: host, port };
  if (stars === 1 && host.startsWith('*.') && host.length > 2)
    return { kind: 'suffix', name: host.slice(1), port };
  if (stars === 1 && host.endsWith('.*') && host.length > 2)
    return { kind: 'prefix', name: host.slice(0, -1), port };
  throw new Error(`host "${value}": a wildcard must be the whole leftmost or rightmost label`);
}

/**
 * The characters a match of `source` (anchored at the start) must begin with: the literal run before the first
 * metacharacter, minus a last character a quantifier may make optional. Any alternation gives up (empty).
 */
export function literalPrefix(source: string): string {
  if (source.includes('|')) return '';
  let i = 0;
  while (i < source.length && !'\\^$.|?*+()[]{}'.includes(source[i]!)) i += 1;
  const next = source[i];
  if (next === '?' || next === '*' || next === '{') i -= 1;
  return source.slice(0, Math.max(0, i));
}

/** Kong's regex paths are PCRE; the common PCRE-only spellings are translated, the rest must be valid JS. */
function compileRegexPath(path: string): PathRule {
  let source = path.slice(1);
  let flags = '';
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    flags = 'i';
  }
  source = source.replaceAll('(?P<', '(?<');
  let regex: RegExp;
  try {
    regex = new RegExp(`^(?:${source})`, flags);
  } catch (error) {
    throw new Error(`regex path "${path}" does not compile: ${(error as Error).message}`);
  }
  return { kind: 'regex', source: path.slice(1), regex, literalPrefix: flags ? '' : literalPrefix(source) };
}

function compileHeaders(headers: Record<string, string[]>): HeaderRule[] {
  const rules: HeaderRule[] = [];
  for (const [rawName, values] of Object.entries(headers)) {
    const name = rawName.toLowerCase().replaceAll('_', '-');
    // Kong routes on the Host header through `hosts` only.
    if (name === 'host') continue;
    if (!nonEmpty(values)) throw new Error(`header "${rawName}" has no values`);
    const rule: HeaderRule = { name, values: new Set(), patterns: [] };
    for (const value of values) {
      if (value.startsWith('~*')) {
        try {
          rule.patterns.push(new RegExp(value.slice(2), 'i'));
        } catch (error) {
          throw new Error(
            `header "${rawName}" regex "${value}" does not compile: ${(error as Error).message}`,
          );
        }
      } else {
        rule.values.add(value.toLowerCase());
      }
    }
    rules.push(rule);
  }
  return rules;
}

const HTTP_FAMILY = new Set(['http', 'grpc', 'ws']);
const HTTPS_FAMILY = new Set(['https', 'grpcs', 'wss']);

/**
 * Compiles one route into one entry per path (Kong sorts each path of a route on its own; port-specific plain
 * hosts split off an entry too). Throws with the
 * reason when the route cannot be routed; returns [] for routes of other subsystems (tcp, tls, udp).
 */
export function compileRoute(route: RouteEntity, service: ServiceEntity | null, order: number): RouteEntry[] {
  const protocols =
    Array.isArray(route.protocols) && route.protocols.length > 0 ? route.protocols : ['http', 'https'];
  const acceptsHttp = protocols.some((p) => HTTP_FAMILY.has(p));
  const acceptsHttps = protocols.some((p) => HTTPS_FAMILY.has(p));
  if (!acceptsHttp && !acceptsHttps) return [];

  const hosts = nonEmpty(route.hosts) ? route.hosts.map(compileHost) : null;
  const headers = route.headers && typeof route.headers === 'object' ? compileHeaders(route.headers) : [];
  const methods = nonEmpty(route.methods) ? new Set(route.methods.map((m) => m.toUpperCase())) : null;
  const snis = nonEmpty(route.snis)
    ? new Set(route.snis.map((s) => (s.length > 1 && s.endsWith('.') ? s.slice(0, -1) : s).toLowerCase()))
    : null;
  const paths: (PathRule | null)[] = nonEmpty(route.paths)
    ? route.paths.map((p) =>
        p.startsWith('~') ? compileRegexPath(p) : { kind: 'prefix', value: normalizePath(p) },
      )
    : [null];

  let category = 0;
  if (hosts) category |= CATEGORY.host;
  if (headers.length > 0) category |= CATEGORY.header;
  if (paths[0]) category |= CATEGORY.uri;
  if (methods) category |= CATEGORY.method;
  if (snis) category |= CATEGORY.sni;
  if (category === 0) throw new Error('sets none of hosts, headers, paths, methods, snis');
  let weight = 0;
  for (let bits = category; bits; bits &= bits - 1) weight += 1;

  let hostSubmatch = 0;
  if (hosts) {
    if (hosts.every((h) => h.kind === 'exact')) hostSubmatch |= SUBMATCH.plainHostsOnly;
    if (hosts.some((h) => h.kind !== 'exact' && h.port !== null)) hostSubmatch |= SUBMATCH.wildcardHostPort;
  }

  // Port-specific plain hosts go first within their category: they get an entry of their own.
  const portHosts = hosts?.filter((h) => h.kind === 'exact' && h.port !== null) ?? [];
  const hostGroups: { hosts: HostRule[] | null; submatch: number }[] =
    hosts && portHosts.length > 0
      ? [{ hosts: portHosts, submatch: hostSubmatch | SUBMATCH.plainHostPort }]
      : [];
  const otherHosts = hosts?.filter((h) => !portHosts.includes(h)) ?? null;
  if (!hosts || otherHosts!.length > 0) hostGroups.push({ hosts: otherHosts, submatch: hostSubmatch });

  return hostGroups.flatMap((group) =>
    paths.map((path) => ({
      route,
      service,
      path,
      hosts: group.hosts,
      methods,
      headers: headers.length > 0 ? headers : null,
      snis,
      acceptsHttp,
      acceptsHttps,
      rank: 0,
      weight,
      category,
      submatch: group.submatch | (path?.kind === 'regex' ? SUBMATCH.regexUri : 0),
      headerCount: headers.length,
      regexPriority: route.regex_priority ?? 0,
      uriLength: path?.kind === 'prefix' ? path.value.length : 0,
      // Kong only compares created_at when both routes have one; a route without one sorts as the newest.
      createdAt: typeof route.created_at === 'number' ? route.created_at : Number.POSITIVE_INFINITY,
      order,
    })),
  );
}

/** A request as the entries compare it. */
export interface RequestView {
  method: string;
  /** Lower-case, without brackets or port. */
  host: string;
  port: number;
  /** Normalised. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  sni: string;
  protocol: 'http' | 'https';
}

/** How an entry matched: what its path covered, and the regex match for captures. */
export interface EntryHit {
  entry: RouteEntry;
  /** Length of the request path the route path matched; -1 when the route has no path. */
  matchedLength: number;
  regexMatch: RegExpExecArray | null;
}

function hostMatches(rules: HostRule[], host: string, port: number): boolean {
  for (const rule of rules) {
    if (rule.port !== null && rule.port !== port) continue;
    const name = rule.name;
    if (
      rule.kind === 'exact'
        ? host === name
        : rule.kind === 'suffix'
          ? host.length > name.length && host.endsWith(name)
          : host.length > name.length && host.startsWith(name)
    )
      return true;
  }
  return false;
}

function headerValueMatches(rule: HeaderRule, value: string): boolean {
  const lower = value.toLowerCase();
  if (rule.values.has(lower)) return true;
  for (const pattern of rule.patterns) if (pattern.test(lower)) return true;
  return false;
}

function headersMatch(rules: HeaderRule[], headers: RequestView['headers']): boolean {
  for (const rule of rules) {
    const value = headers[rule.name];
    if (value === undefined) return false;
    if (typeof value === 'string') {
      if (!headerValueMatches(rule, value)) return false;
    } else if (!value.some((v) => headerValueMatches(rule, v))) {
      return false;
    }
  }
  return true;
}

/**
 * Whether `entry` matches the request, every attribute it sets. An https-only route matches an http request
 * too (Kong then answers with the route's https_redirect_status_code); SNIs are only compared on https.
 */
export function matchEntry(entry: RouteEntry, request: RequestView): EntryHit | null {
  if (request.protocol === 'https' ? !entry.acceptsHttps : !entry.acceptsHttp && !entry.acceptsHttps)
    return null;
  if (entry.methods && !entry.methods.has(request.method)) return null;
  if (entry.hosts && !hostMatches(entry.hosts, request.host, request.port)) return null;
  if (entry.snis && request.protocol === 'https' && !entry.snis.has(request.sni)) return null;
  if (entry.headers && !headersMatch(entry.headers, request.headers)) return null;
  const path = entry.path;
  if (path === null) return { entry, matchedLength: -1, regexMatch: null };
  if (path.kind === 'prefix') {
    return request.path.startsWith(path.value)
      ? { entry, matchedLength: path.value.length, regexMatch: null }
      : null;
  }
  if (!request.path.startsWith(path.literalPrefix)) return null;
  const m = path.regex.exec(request.path);
  return m ? { entry, matchedLength: m[0].length, regexMatch: m } : null;
}
