// Which request origins a cors configuration allows: Kong's literal, regex and `*` origins, compiled once.

/** An origin as Kong compares it: `scheme://host[:port]` without a default port, and its host alone. */
export interface NormalizedOrigin {
  domain: string;
  host: string;
}

const URL_AUTHORITY = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/;

/** Kong's normalize_origin: a value without `scheme://host` is compared as it is. */
export function normalizeOrigin(origin: string): NormalizedOrigin {
  const match = URL_AUTHORITY.exec(origin);
  const authority = match?.[2]?.slice(match[2].lastIndexOf('@') + 1);
  if (!match || !authority) return { domain: origin, host: origin };
  const scheme = match[1]!;
  const portAt = authority.lastIndexOf(':');
  const hasPort = portAt > authority.lastIndexOf(']') && /^\d*$/.test(authority.slice(portAt + 1));
  const host = hasPort ? authority.slice(0, portAt) : authority;
  let port = hasPort ? authority.slice(portAt + 1) : '';
  if ((scheme === 'http' && port === '80') || (scheme === 'https' && port === '443')) port = '';
  return { domain: `${scheme}://${host}${port ? `:${port}` : ''}`, host };
}

/** Characters of a plain origin; anything else makes an entry a regular expression (Kong's test). */
const LITERAL = /^[A-Za-z0-9.:/-]+$/;

type Matcher = { regex: RegExp; byHost: boolean } | { domain: string };

export type OriginPolicy =
  /** No origins or only `*`: `Access-Control-Allow-Origin: *`, no Vary. */
  | { kind: 'any' }
  /** One plain origin: always sent as configured, whatever the request's Origin. */
  | { kind: 'single'; origin: string }
  /** Matched against the request's Origin; `star` when the list also holds `*`. */
  | { kind: 'list'; star: boolean; matchers: Matcher[] };

export function originPolicy(origins: readonly string[] | null | undefined): OriginPolicy {
  if (!origins || origins.length === 0 || (origins.length === 1 && origins[0] === '*'))
    return { kind: 'any' };
  if (origins.length === 1 && LITERAL.test(origins[0]!)) return { kind: 'single', origin: origins[0]! };
  const matchers: Matcher[] = [];
  for (const entry of origins) {
    if (entry === '*') continue;
    const byHost = !entry.includes(':');
    if (LITERAL.test(entry)) {
      matchers.push({ domain: normalizeOrigin(entry).domain });
      continue;
    }
    // Kong anchors regexes at both ends (older releases did not, so a leading ^ or trailing $ may be there).
    const body = (entry.startsWith('^') ? entry.slice(1) : entry) + (entry.endsWith('$') ? '' : '$');
    matchers.push({ regex: new RegExp(`^(?:${body})`), byHost });
  }
  return { kind: 'list', star: origins.includes('*'), matchers };
}

/** The normalized request origin when the list allows it, else null. */
export function allowedOrigin(matchers: readonly Matcher[], requestOrigin: string): string | null {
  const normalized = normalizeOrigin(requestOrigin);
  for (const matcher of matchers) {
    const found =
      'regex' in matcher
        ? matcher.regex.test(matcher.byHost ? normalized.host : normalized.domain)
        : matcher.domain === normalized.domain;
    if (found) return normalized.domain;
  }
  return null;
}
