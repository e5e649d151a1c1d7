// Cache-Control directives and a response's freshness lifetime, read as Kong's proxy-cache reads them.

/** Directive → its number, its text, or true when it has no value (`no-store`). Names are lowercase. */
export type Directives = Record<string, number | string | true>;

/** Lua's `tonumber`: decimal, exponent or hex notation, blanks around it allowed. */
function luaNumber(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : null;
}

export function parseDirectives(header: string | string[] | number | undefined): Directives {
  const directives: Directives = Object.create(null) as Directives;
  if (header === undefined) return directives;
  const text = Array.isArray(header) ? header.join(', ') : String(header);
  for (const part of text.split(',')) {
    const m = /^\s*([^=]+)(?:=(.+))?/.exec(part);
    if (!m) continue;
    const value = m[2];
    directives[m[1]!.toLowerCase()] = value === undefined ? true : (luaNumber(value) ?? value);
  }
  return directives;
}

/** A directive that must be a number to mean anything (`max-age=abc` means nothing). */
export function numericDirective(directives: Directives, name: string): number | null {
  const value = directives[name];
  return typeof value === 'number' ? value : null;
}

/**
 * Seconds the response stays fresh: `s-maxage`, else `max-age`, else `Expires` minus now (the last Expires
 * when there are several); 0 when none says so.
 */
export function resourceTtl(
  directives: Directives,
  expires: string | string[] | number | undefined,
  nowSeconds: number,
): number {
  const maxAge = directives['s-maxage'] ?? directives['max-age'];
  if (maxAge !== undefined) return typeof maxAge === 'number' ? Math.max(maxAge, 0) : 0;
  const last = Array.isArray(expires) ? expires[expires.length - 1] : expires;
  if (last === undefined) return 0;
  const at = Date.parse(String(last));
  return Number.isNaN(at) ? 0 : Math.max(Math.floor(at / 1000) - nowSeconds, 0);
}
