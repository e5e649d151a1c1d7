// Path routing for the Admin API: `/services/:services/routes` patterns, method dispatch, 404 versus 405.

/** HTTP methods the Admin API dispatches on (HEAD is answered as GET, OPTIONS from the route table). */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export const HTTP_METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

interface CompiledPattern {
  pattern: string;
  /** Literal segments are strings; `:name` segments are `{ param }`. */
  segments: Array<string | { param: string }>;
}

interface RouteEntry<H> {
  compiled: CompiledPattern;
  handlers: Partial<Record<HttpMethod, H>>;
}

export type RouteMatch<H> =
  | { kind: 'found'; handler: H; params: Record<string, string>; pattern: string }
  | { kind: 'method_not_allowed'; allowed: HttpMethod[]; pattern: string }
  | { kind: 'not_found' };

/** Compiles `/services/:services/routes` into literal and parameter segments; rejects malformed patterns. */
export function compilePattern(pattern: string): CompiledPattern {
  if (!pattern.startsWith('/')) throw new Error(`route pattern must start with '/': ${pattern}`);
  const parts = pattern === '/' ? [] : pattern.slice(1).split('/');
  const segments = parts.map((part) => {
    if (part === '') throw new Error(`route pattern has an empty segment: ${pattern}`);
    if (part.startsWith(':')) {
      const param = part.slice(1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(param))
        throw new Error(`bad parameter name in route pattern: ${pattern}`);
      return { param };
    }
    return part;
  });
  return { pattern, segments };
}

/**
 * Splits a request path into decoded segments. A trailing slash is ignored, as Kong's Admin API does
 * (`/services/` is `/services`). Undecodable percent-escapes are kept verbatim rather than failing.
 */
export function splitPath(path: string): string[] {
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return [];
  return trimmed
    .slice(1)
    .split('/')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    });
}

function matchSegments(
  compiled: CompiledPattern,
  segments: string[],
): { params: Record<string, string>; literals: number } | null {
  if (compiled.segments.length !== segments.length) return null;
  const params: Record<string, string> = {};
  let literals = 0;
  for (let i = 0; i < segments.length; i++) {
    const want = compiled.segments[i]!;
    const got = segments[i]!;
    if (typeof want === 'string') {
      if (want !== got) return null;
      literals++;
    } else {
      if (got === '') return null;
      params[want.param] = got;
    }
  }
  return { params, literals };
}

/**
 * A table of path patterns and their method handlers. Literal segments win over parameters
 * (`/plugins/enabled` before `/plugins/:plugins`), whatever the order of registration, so other
 * subsystems can add routes at any time without shadowing or being shadowed by entity routes.
 */
export class AdminRouter<H> {
  private readonly routes = new Map<string, RouteEntry<H>>();

  /** Registers `handler` for `method` on `pattern`; registering the same method twice is a bug. */
  add(method: HttpMethod, pattern: string, handler: H): this {
    let entry = this.routes.get(pattern);
    if (!entry) {
      entry = { compiled: compilePattern(pattern), handlers: {} };
      this.routes.set(pattern, entry);
    }
    if (entry.handlers[method]) throw new Error(`route already registered: ${method} ${pattern}`);
    entry.handlers[method] = handler;
    return this;
  }

  /** Patterns in registration order, written Kong's way (`/services/{services}`). */
  patterns(): string[] {
    return [...this.routes.keys()].map((p) => p.replace(/:([A-Za-z0-9_]+)/g, '{$1}'));
  }

  match(method: HttpMethod, path: string): RouteMatch<H> {
    const segments = splitPath(path);
    let best: { entry: RouteEntry<H>; params: Record<string, string>; literals: number } | null = null;
    for (const entry of this.routes.values()) {
      const m = matchSegments(entry.compiled, segments);
      if (m && (!best || m.literals > best.literals)) best = { entry, ...m };
    }
    if (!best) return { kind: 'not_found' };
    const handler = best.entry.handlers[method];
    const pattern = best.entry.compiled.pattern;
    if (handler === undefined) {
      const allowed = HTTP_METHODS.filter((m) => best.entry.handlers[m] !== undefined);
      return { kind: 'method_not_allowed', allowed, pattern };
    }
    return { kind: 'found', handler, params: best.params, pattern };
  }
}
