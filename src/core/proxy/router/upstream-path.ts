// The upstream path Kong builds from the service path, the request path and the route's strip_path / path_handling.

/** Kong drops a leading `.`/`..` segment left after the match (`sanitize_uri_postfix`). */
export function sanitizePostfix(postfix: string): string {
  if (postfix === '.' || postfix === '..') return '';
  if (postfix.startsWith('./')) return postfix.slice(2);
  if (postfix.startsWith('../')) return postfix.slice(3);
  return postfix;
}

/**
 * `path_handling: v0` treats service path, route path and request path as segments joined by slashes; a
 * trailing slash of the request survives stripping.
 */
function joinV0(base: string, postfix: string, requestPath: string, stripPath: boolean): string {
  if (base.endsWith('/')) {
    if (!stripPath) return base + requestPath.slice(1);
    if (postfix === '') {
      if (base === '/' || requestPath.endsWith('/')) return base;
      return base.slice(0, -1);
    }
    return postfix.startsWith('/') ? base.slice(0, -1) + postfix : base + postfix;
  }
  if (!stripPath) return requestPath === '/' ? base : base + requestPath;
  if (postfix === '') return requestPath.length > 1 && requestPath.endsWith('/') ? `${base}/` : base;
  return postfix.startsWith('/') ? base + postfix : `${base}/${postfix}`;
}

/** `path_handling: v1` treats the service path as a plain prefix of what follows. */
function joinV1(base: string, postfix: string, requestPath: string, stripPath: boolean): string {
  if (!stripPath) return base + requestPath.slice(1);
  return base.endsWith('/') && postfix.startsWith('/') ? base.slice(0, -1) + postfix : base + postfix;
}

/**
 * The path to send upstream (normalised, unescaped), exactly as Kong's router computes it.
 * @param servicePath the service's `path`, `/` when it has none (or there is no service)
 * @param requestPath the normalised request path
 * @param matchedPostfix the request path after the matched route path (`/routereq` matched by `/route` →
 *   `req`), sanitised; null when the route matched without a path (Kong then uses the request path without
 *   its leading slash)
 */
export function upstreamPathFor(
  servicePath: string,
  requestPath: string,
  matchedPostfix: string | null,
  stripPath: boolean,
  pathHandling: 'v0' | 'v1',
): string {
  const postfix = matchedPostfix ?? requestPath.slice(1);
  return pathHandling === 'v1'
    ? joinV1(servicePath, postfix, requestPath, stripPath)
    : joinV0(servicePath, postfix, requestPath, stripPath);
}
