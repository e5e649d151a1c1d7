// Media types (`type/subtype; name=value`) parsed by Kong's RFC 2045 grammar, and Kong's content-type matching.

export interface MediaType {
  type: string;
  subtype: string;
  params: Record<string, string>;
}

// token = 1*<any US-ASCII CHAR except CTLs and separators ()<>@,;:\"/[]?={} SP HT>
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const TYPES = new RegExp(`^(?:(${TOKEN})/(${TOKEN})|\\*)`);
const PARAM = new RegExp(
  `^[ \\t]*;[ \\t]*(${TOKEN})=(?:(${TOKEN})|"((?:[^"\\\\\\x00-\\x1f\\x7f]|\\\\[\\x00-\\x7f])*)")`,
);

/** Parses a whole media type; null when any part of it does not fit the grammar (Kong's parse yields nil). */
export function parseMediaType(text: string): MediaType | null {
  const head = TYPES.exec(text);
  if (!head) return null;
  const result: MediaType = { type: head[1] ?? '*', subtype: head[2] ?? '*', params: {} };
  let rest = text.slice(head[0].length);
  while (rest !== '') {
    const m = PARAM.exec(rest);
    if (!m) return null;
    result.params[m[1]!] = m[2] ?? m[3]!;
    rest = rest.slice(m[0].length);
  }
  return result;
}

/** Parameters in a stable order, so `a=1;b=2` and `b=2; a=1` compare equal. */
function paramsKey(params: Record<string, string> | undefined): string {
  if (!params) return '';
  return Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join(';');
}

/**
 * proxy-cache's `content_type` test: a response type matches a configured one when type and subtype are
 * equal (or the configured one has a wildcard subtype, or is the wildcard of all types) and both carry exactly the same parameters. Case
 * matters, as in Kong.
 */
export function contentTypeMatcher(patterns: readonly string[]): (contentType: string) => boolean {
  const exact = new Set<string>();
  const typeWild = new Set<string>();
  const any = new Set<string>();
  for (const pattern of patterns) {
    const p = parseMediaType(pattern);
    if (!p) continue;
    const key = paramsKey(p.params);
    if (p.type === '*' && p.subtype === '*') any.add(key);
    else if (p.subtype === '*') typeWild.add(`${p.type}\n${key}`);
    else exact.add(`${p.type}/${p.subtype}\n${key}`);
  }
  return (contentType) => {
    const t = parseMediaType(contentType);
    // An unparsable type has no type and no parameters: only the bare wildcard of all types takes it (as in Kong).
    const key = paramsKey(t?.params);
    if (t && (exact.has(`${t.type}/${t.subtype}\n${key}`) || typeWild.has(`${t.type}\n${key}`))) return true;
    return any.has(key);
  };
}

/** response-transformer's test: some comma-separated part of the header is application/json. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  return contentType.split(',').some((part) => {
    const t = parseMediaType(part.trim());
    return t !== null && t.type.toLowerCase() === 'application' && t.subtype.toLowerCase() === 'json';
  });
}
