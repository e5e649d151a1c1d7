// Kong's precedence among the configurations of one plugin at several scopes, as pure functions.

/** Where a plugin entity is attached (ids, or null when not scoped to that entity). */
export interface PluginScope {
  route: string | null;
  service: string | null;
  consumer: string | null;
}

/** Key of a scope in a plugin's scope table: `route:service:consumer`, empty parts for unscoped. */
export function scopeKey(route: string | null, service: string | null, consumer: string | null): string {
  return `${route ?? ''}:${service ?? ''}:${consumer ?? ''}`;
}

/**
 * Ranks of the scopes, most specific first (Kong's plugins_iterator): route+service+consumer, route+consumer,
 * service+consumer, route+service, consumer, route, service, global.
 */
export const SCOPE_RANKS = ['rsc', 'rc', 'sc', 'rs', 'c', 'r', 's', 'global'] as const;
export type ScopeName = (typeof SCOPE_RANKS)[number];

export function scopeName(scope: PluginScope): ScopeName {
  const r = scope.route !== null;
  const s = scope.service !== null;
  const c = scope.consumer !== null;
  if (r && s && c) return 'rsc';
  if (r && c) return 'rc';
  if (s && c) return 'sc';
  if (r && s) return 'rs';
  if (c) return 'c';
  if (r) return 'r';
  if (s) return 's';
  return 'global';
}

/** What a request is, for choosing among a plugin's configurations. */
export interface RequestScope {
  route: string | null;
  service: string | null;
  consumer: string | null;
}

/**
 * The one configuration of a plugin that applies to a request: the most specific scope that matches it.
 * `table` maps scopeKey → configuration. Plugins whose schema forbids a scope (no_consumer…) look it up as null.
 */
export function selectByScope<T>(
  table: ReadonlyMap<string, T>,
  request: RequestScope,
  forbids: { noRoute?: boolean; noService?: boolean; noConsumer?: boolean } = {},
): T | null {
  const r = forbids.noRoute ? null : request.route;
  const s = forbids.noService ? null : request.service;
  const c = forbids.noConsumer ? null : request.consumer;
  if (c !== null) {
    if (r !== null && s !== null) {
      const hit = table.get(scopeKey(r, s, c));
      if (hit !== undefined) return hit;
    }
    if (r !== null) {
      const hit = table.get(scopeKey(r, null, c));
      if (hit !== undefined) return hit;
    }
    if (s !== null) {
      const hit = table.get(scopeKey(null, s, c));
      if (hit !== undefined) return hit;
    }
  }
  if (r !== null && s !== null) {
    const hit = table.get(scopeKey(r, s, null));
    if (hit !== undefined) return hit;
  }
  if (c !== null) {
    const hit = table.get(scopeKey(null, null, c));
    if (hit !== undefined) return hit;
  }
  if (r !== null) {
    const hit = table.get(scopeKey(r, null, null));
    if (hit !== undefined) return hit;
  }
  if (s !== null) {
    const hit = table.get(scopeKey(null, s, null));
    if (hit !== undefined) return hit;
  }
  return table.get(scopeKey(null, null, null)) ?? null;
}

/** Kong's order of execution: higher priority first; equal priorities by name, so the order is stable. */
export function byPriority(
  a: { priority: number; name: string },
  b: { priority: number; name: string },
): number {
  return b.priority - a.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}
