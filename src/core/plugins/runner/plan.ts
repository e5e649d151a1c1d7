// Which plugin entities run for a request, worked out once per configuration version: each entity's config
// with defaults, its instance (init), and per route the plugins in priority order with Kong's scope precedence.
import { validate, flattenErrors } from '../../schema/schema.js';
import type { DeclarativeConfig } from '../../proxy/types.js';
import type { EntityLookup, PluginDefinition, PluginInstance, PluginLog, PluginPhase } from '../api.js';
import { buildEntityLookup } from './entities.js';
import { byPriority, scopeKey, selectByScope, type PluginScope } from './precedence.js';

/** Request protocols a plugin entity may run for, as bits. */
export const PROTOCOL_HTTP = 1;
export const PROTOCOL_HTTPS = 2;

/** Phases as bits: which handlers an entry has, and which phases the plugins of a request need. */
export const PHASE_REWRITE = 1;
export const PHASE_ACCESS = 2;
export const PHASE_HEADER_FILTER = 4;
export const PHASE_BODY_FILTER = 8;
export const PHASE_LOG = 16;

const PHASE_BITS: Readonly<Record<PluginPhase, number>> = {
  rewrite: PHASE_REWRITE,
  access: PHASE_ACCESS,
  header_filter: PHASE_HEADER_FILTER,
  body_filter: PHASE_BODY_FILTER,
  log: PHASE_LOG,
};

type AnyDefinition = PluginDefinition<Record<string, unknown>>;
type Handlers = Pick<AnyDefinition, PluginPhase>;
type Handler = NonNullable<AnyDefinition['access']>;

/** One enabled plugin entity of the configuration, ready to run. */
export interface PluginEntry {
  id: string;
  name: string;
  priority: number;
  config: Record<string, unknown>;
  scope: PluginScope;
  /** PROTOCOL_* bits of the entity's `protocols`. */
  protocols: number;
  /** The object the handlers are called on (the instance when `init` made one, else the definition). */
  handlers: Handlers;
  /** `handlers`' handlers by phase, read once (see PhaseHandlers). */
  on: PhaseHandlers;
  /** PHASE_* bits of the handlers it has. */
  phases: number;
  log: PluginLog;
  instance: PluginInstance<Record<string, unknown>> | null;
}

/**
 * An entry's handlers in one object shape for every plugin, so the runner reads a handler with a monomorphic
 * load rather than a lookup in definitions and instances of as many shapes as there are plugins.
 */
export interface PhaseHandlers {
  rewrite: Handler | null;
  access: Handler | null;
  header_filter: Handler | null;
  body_filter: AnyDefinition['body_filter'] | null;
  log: Handler | null;
}

const NO_HANDLERS: PhaseHandlers = {
  rewrite: null,
  access: null,
  header_filter: null,
  body_filter: null,
  log: null,
};

/** Sets the object an entry's handlers are called on, with its handlers by phase and their bits. */
function setHandlers(entry: PluginEntry, handlers: Handlers): void {
  entry.handlers = handlers;
  entry.on = {
    rewrite: handlers.rewrite ?? null,
    access: handlers.access ?? null,
    header_filter: handlers.header_filter ?? null,
    body_filter: handlers.body_filter ?? null,
    log: handlers.log ?? null,
  };
  let phases = 0;
  for (const phase of Object.keys(PHASE_BITS) as PluginPhase[])
    if (handlers[phase] !== undefined) phases |= PHASE_BITS[phase];
  entry.phases = phases;
}

/** One plugin name among those that may run on a route, in priority order. */
export interface PluginSlot {
  name: string;
  priority: number;
  /** The entity that applies when the request has no consumer (or none of its consumer scopes match). */
  base: PluginEntry | null;
  /** Scope table of the name, consulted again once a consumer is known; null when it has no consumer scope. */
  consumerTable: ReadonlyMap<string, PluginEntry> | null;
  definition: AnyDefinition;
}

/** The plugins of requests on one route (or of requests no route matched). */
export interface RoutePlugins {
  routeId: string | null;
  serviceId: string | null;
  slots: readonly PluginSlot[];
  /**
   * When no slot has a consumer scope, what a request runs does not depend on who it is: the entries, in
   * order, by the request's PROTOCOL_* bit (index 1 http, 2 https). Null when a consumer may change them.
   */
  fixed: readonly (readonly PluginEntry[])[] | null;
}

function routePlugins(
  routeId: string | null,
  serviceId: string | null,
  slots: readonly PluginSlot[],
): RoutePlugins {
  let fixed: PluginEntry[][] | null = null;
  if (slots.every((slot) => slot.consumerTable === null)) {
    const bases = slots.map((slot) => slot.base).filter((entry): entry is PluginEntry => entry !== null);
    fixed = [[], [], []];
    for (const protocol of [PROTOCOL_HTTP, PROTOCOL_HTTPS])
      fixed[protocol] = bases.filter((entry) => (entry.protocols & protocol) !== 0);
  }
  return { routeId, serviceId, slots, fixed };
}

export interface PluginPlanOptions {
  definitions: ReadonlyMap<string, AnyDefinition>;
  /** The proxy's log; each plugin logs through it with its name. */
  log: PluginLog;
  node: { id: string; version: string };
}

/** The plugins of one configuration version. */
export interface PluginPlan {
  /** True when no plugin runs at all: the proxy keeps its plugin-free path. */
  readonly empty: boolean;
  /** The plugins of a route, or null when none may run on it. */
  forRoute(routeId: string): RoutePlugins | null;
  /** Global plugins, for requests no route matched; null when there are none. */
  readonly unrouted: RoutePlugins | null;
  /** Global plugins with a rewrite handler, in order (Kong runs rewrite for global plugins only). */
  readonly rewrite: readonly PluginEntry[];
  readonly entities: EntityLookup;
  /** Every entry, for close(). */
  readonly entries: readonly PluginEntry[];
  /** Closes the entities' instances (after a newer version replaced this one). */
  close(): Promise<void>;
}

const idOf = (value: unknown): string | null => {
  const id = (value as { id?: unknown } | null | undefined)?.id;
  return typeof id === 'string' ? id : null;
};

function protocolBits(protocols: unknown): number {
  // Kong's default for plugins: grpc, grpcs, http, https.
  if (!Array.isArray(protocols)) return PROTOCOL_HTTP | PROTOCOL_HTTPS;
  let bits = 0;
  for (const p of protocols) {
    if (p === 'http' || p === 'ws') bits |= PROTOCOL_HTTP;
    else if (p === 'https' || p === 'wss') bits |= PROTOCOL_HTTPS;
  }
  return bits;
}

/** The entity's config with its schema's defaults filled in (an export usually has them already). */
function configWithDefaults(
  definition: AnyDefinition,
  raw: unknown,
  log: PluginLog,
  id: string,
): Record<string, unknown> {
  const input = (raw ?? {}) as Record<string, unknown>;
  const schema = definition.schema;
  const prepared = schema.prepare && typeof input === 'object' ? schema.prepare(input) : input;
  const result = validate({ name: schema.name, fields: schema.config, checks: schema.checks }, prepared);
  if (result.ok) return result.value;
  const problems = flattenErrors(result.errors)
    .map((e) => `${e.path}: ${e.message}`)
    .join('; ');
  log.warn(`plugin ${definition.name} ${id}: config does not validate here (${problems}); used as given`);
  return input;
}

function pluginLog(log: PluginLog, name: string): PluginLog {
  return {
    debug: (m) => log.debug(`[${name}] ${m}`),
    info: (m) => log.info(`[${name}] ${m}`),
    warn: (m) => log.warn(`[${name}] ${m}`),
    error: (m) => log.error(`[${name}] ${m}`),
  };
}

/** Creates every enabled entity's instance; a failing init fails the whole version (it is not served). */
async function buildEntries(config: DeclarativeConfig, options: PluginPlanOptions): Promise<PluginEntry[]> {
  const entries: PluginEntry[] = [];
  const logs = new Map<string, PluginLog>();
  for (const row of config.plugins ?? []) {
    if (row.enabled === false) continue;
    const name = String(row.name);
    const definition = options.definitions.get(name);
    if (!definition) {
      options.log.debug(`plugin ${name} ${String(row.id)}: no handler on this node, not run`);
      continue;
    }
    let log = logs.get(name);
    if (!log) logs.set(name, (log = pluginLog(options.log, name)));
    const id = String(row.id);
    const entity: PluginEntry = {
      id,
      name,
      priority: definition.priority,
      config: configWithDefaults(definition, row.config, options.log, id),
      scope: { route: idOf(row.route), service: idOf(row.service), consumer: idOf(row.consumer) },
      protocols: protocolBits(row.protocols),
      handlers: definition as Handlers,
      on: NO_HANDLERS,
      phases: 0,
      log,
      instance: null,
    };
    setHandlers(entity, definition as Handlers);
    if (definition.init) {
      try {
        const instance = await definition.init({
          config: entity.config,
          pluginId: id,
          log,
          node: options.node,
        });
        entity.instance = instance;
        setHandlers(entity, instance);
      } catch (err) {
        await closeEntries(entries, options.log);
        throw new Error(`plugin ${name} ${id}: init failed: ${(err as Error).message}`, { cause: err });
      }
    }
    entries.push(entity);
  }
  return entries;
}

async function closeEntries(entries: readonly PluginEntry[], log: PluginLog): Promise<void> {
  for (const entry of entries) {
    if (!entry.instance?.close) continue;
    try {
      await entry.instance.close();
    } catch (err) {
      log.warn(`plugin ${entry.name} ${entry.id}: close failed: ${(err as Error).message}`);
    }
  }
}

interface NameIndex {
  name: string;
  priority: number;
  definition: AnyDefinition;
  table: Map<string, PluginEntry>;
  /** Route and service ids some entity of the name is scoped to (with or without a consumer). */
  routes: Set<string>;
  services: Set<string>;
  /** Whether some entity is consumer-scoped, and to which routes/services (null: any). */
  consumerRoutes: Set<string>;
  consumerServices: Set<string>;
  consumerAnywhere: boolean;
}

/** Builds the plan of a configuration version (instances included). */
export async function buildPluginPlan(
  config: DeclarativeConfig,
  options: PluginPlanOptions,
): Promise<PluginPlan> {
  const entities = buildEntityLookup(config);
  const entries = await buildEntries(config, options);
  if (entries.length === 0) return emptyPlan(entities);

  const names = new Map<string, NameIndex>();
  for (const entry of entries) {
    let index = names.get(entry.name);
    if (!index) {
      index = {
        name: entry.name,
        priority: entry.priority,
        definition: options.definitions.get(entry.name)!,
        table: new Map(),
        routes: new Set(),
        services: new Set(),
        consumerRoutes: new Set(),
        consumerServices: new Set(),
        consumerAnywhere: false,
      };
      names.set(entry.name, index);
    }
    const { route, service, consumer } = entry.scope;
    // Kong's cache key is unique per scope: a second entity at the same scope can't exist in a valid export.
    index.table.set(scopeKey(route, service, consumer), entry);
    if (route !== null) index.routes.add(route);
    if (service !== null) index.services.add(service);
    if (consumer !== null) {
      if (route !== null) index.consumerRoutes.add(route);
      else if (service !== null) index.consumerServices.add(service);
      else index.consumerAnywhere = true;
    }
  }
  const ordered = [...names.values()].sort(byPriority);

  const slotsFor = (routeId: string | null, serviceId: string | null): PluginSlot[] => {
    const slots: PluginSlot[] = [];
    for (const index of ordered) {
      const def = index.definition.schema;
      const base = selectByScope(
        index.table,
        { route: routeId, service: serviceId, consumer: null },
        { noRoute: def.noRoute, noService: def.noService },
      );
      const consumerScoped =
        !def.noConsumer &&
        (index.consumerAnywhere ||
          (routeId !== null && index.consumerRoutes.has(routeId)) ||
          (serviceId !== null && index.consumerServices.has(serviceId)));
      // No entity applies; or the one that does has no handler at all (e.g. prometheus with nothing to record).
      if (!consumerScoped && (base === null || base.phases === 0)) continue;
      slots.push({
        name: index.name,
        priority: index.priority,
        base,
        consumerTable: consumerScoped ? index.table : null,
        definition: index.definition,
      });
    }
    return slots;
  };

  // Routes without a plugin scoped to them or to their service share one list (no combination with their
  // ids exists, so the consumer lookup needs none either).
  const scopedRoutes = new Set<string>();
  const scopedServices = new Set<string>();
  for (const index of ordered) {
    for (const r of index.routes) scopedRoutes.add(r);
    for (const s of index.services) scopedServices.add(s);
  }
  const sharedSlots = slotsFor(null, null);
  const shared: RoutePlugins | null = sharedSlots.length > 0 ? routePlugins(null, null, sharedSlots) : null;
  const byRoute = new Map<string, RoutePlugins | null>();
  for (const route of config.routes ?? []) {
    const serviceId = route.service?.id ?? null;
    if (!scopedRoutes.has(route.id) && !(serviceId !== null && scopedServices.has(serviceId))) continue;
    const slots = slotsFor(route.id, serviceId);
    byRoute.set(route.id, slots.length > 0 ? routePlugins(route.id, serviceId, slots) : null);
  }

  const globalOnly = sharedSlots.filter((slot) => slot.base !== null);
  const rewrite = ordered
    .map((index) => index.table.get(scopeKey(null, null, null)))
    .filter((entry): entry is PluginEntry => entry !== undefined && entry.on.rewrite !== null);
  return {
    empty: false,
    forRoute: (routeId) => {
      const plugins = byRoute.get(routeId);
      return plugins === undefined ? shared : plugins;
    },
    unrouted: globalOnly.length > 0 ? routePlugins(null, null, globalOnly) : null,
    rewrite,
    entities,
    entries,
    close: () => closeEntries(entries, options.log),
  };
}

/** The entity of a slot for a request whose consumer is now known (Kong re-collects after authentication). */
export function entryFor(
  slot: PluginSlot,
  plugins: RoutePlugins,
  consumerId: string | null,
): PluginEntry | null {
  if (consumerId === null || slot.consumerTable === null) return slot.base;
  const def = slot.definition.schema;
  return selectByScope(
    slot.consumerTable,
    { route: plugins.routeId, service: plugins.serviceId, consumer: consumerId },
    { noRoute: def.noRoute, noService: def.noService, noConsumer: def.noConsumer },
  );
}

/** Whether an entry has a handler for a phase (instances replace the definition's handlers). */
export function handles(entry: PluginEntry, phase: PluginPhase): boolean {
  return (entry.phases & PHASE_BITS[phase]) !== 0;
}

export function emptyPlan(entities?: EntityLookup): PluginPlan {
  return {
    empty: true,
    forRoute: () => null,
    unrouted: null,
    rewrite: [],
    entities: entities ?? buildEntityLookup({}),
    entries: [],
    close: async () => undefined,
  };
}
