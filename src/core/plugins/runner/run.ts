// One request through the plugins: the phases in Kong's order, each plugin's context, exits and failures.
// Handlers may be synchronous or return promises; a phase only becomes asynchronous when a handler is.
import type { OutgoingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ClientView } from '../../proxy/headers.js';
import type { ClientRequest, RouteEntity, ServiceEntity, RouteCaptures } from '../../proxy/types.js';
import type {
  ConsumerEntity,
  CredentialEntity,
  EntityLookup,
  PluginContext,
  PluginLog,
  PluginLogRecord,
  PluginPhase,
  PluginResponse,
  SharedState,
} from '../api.js';
import {
  PHASE_BODY_FILTER,
  PHASE_HEADER_FILTER,
  PHASE_LOG,
  entryFor,
  type PluginEntry,
  type PluginPlan,
  type RoutePlugins,
} from './plan.js';
import { lowerHeaderName } from './header-names.js';
import { RequestView, type BodyLimit } from './request.js';

/** How a request ended before (or instead of) the upstream: a plugin's exit. */
export interface PluginExit {
  status: number;
  body: unknown;
  headers: Record<string, string | string[]> | undefined;
}

/** The response on its way to the client; header changes made before the head exists wait for it. */
export class ResponseView implements PluginResponse {
  status = 0;
  headers: OutgoingHttpHeaders = {};
  fromPlugin = false;
  private pending: [string, string | number | string[] | undefined][] | null = null;
  private started = false;

  setHeader(name: string, value: string | number | string[] | undefined): void {
    const lower = lowerHeaderName(name);
    if (!this.started) {
      (this.pending ??= []).push([lower, value]);
      return;
    }
    if (value === undefined) delete this.headers[lower];
    else this.headers[lower] = value;
  }
  removeHeader(name: string): void {
    this.setHeader(name, undefined);
  }

  /** The head exists: headers set earlier (e.g. in access) are applied over it. */
  begin(status: number, headers: OutgoingHttpHeaders, fromPlugin: boolean): void {
    this.status = status;
    this.headers = headers;
    this.fromPlugin = fromPlugin;
    this.started = true;
    if (this.pending) for (const [name, value] of this.pending) this.setHeader(name, value);
    this.pending = null;
  }
}

export interface RequestRunInput {
  plan: PluginPlan;
  plugins: RoutePlugins;
  req: ClientRequest;
  client: ClientView;
  route: RouteEntity | null;
  service: ServiceEntity | null;
  /** The router's upstream path (the request path when no route matched). */
  upstreamPath: string;
  /** The route's regex path captures (request-transformer's `$(uri_captures…)`). */
  captures?: RouteCaptures | null;
  /** PROTOCOL_* bit of the request. */
  protocol: number;
  /** The proxy's log (failures are logged there with the plugin's name). */
  log: PluginLog;
  startedAt: number;
}

type Phase = PluginPhase;
type Handler = (ctx: PluginContext) => void | Promise<void>;

/** The context a handler receives: one per plugin entity per request, kept across phases. */
class HandlerContext implements PluginContext {
  private ownState: Map<string, unknown> | null = null;

  constructor(
    readonly entry: PluginEntry,
    private readonly run: RequestRun,
  ) {}

  get config(): Record<string, unknown> {
    return this.entry.config;
  }
  get pluginId(): string {
    return this.entry.id;
  }
  get request(): RequestView {
    return this.run.request;
  }
  get response(): ResponseView {
    return this.run.response;
  }
  get route(): RouteEntity | null {
    return this.run.route;
  }
  get service(): ServiceEntity | null {
    return this.run.service;
  }
  get consumer(): ConsumerEntity | null {
    return this.run.consumer;
  }
  get credential(): CredentialEntity | null {
    return this.run.credential;
  }
  authenticate(consumer: ConsumerEntity | null, credential: CredentialEntity | null): void {
    this.run.consumer = consumer;
    this.run.credential = credential;
  }
  get entities(): EntityLookup {
    return this.run.plan.entities;
  }
  get shared(): SharedState {
    return this.run.shared;
  }
  get state(): Map<string, unknown> {
    return (this.ownState ??= new Map());
  }
  get log(): PluginLog {
    return this.entry.log;
  }
  exit(status: number, body?: unknown, headers?: Record<string, string | string[]>): void {
    this.run.exitWith({ status, body, headers }, this.entry);
  }
  get logRecord(): PluginLogRecord | null {
    return this.run.logRecord;
  }
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as Promise<unknown>).then === 'function';

export class RequestRun {
  readonly plan: PluginPlan;
  readonly plugins: RoutePlugins;
  readonly route: RouteEntity | null;
  readonly service: ServiceEntity | null;
  readonly request: RequestView;
  readonly response = new ResponseView();
  readonly startedAt: number;
  consumer: ConsumerEntity | null = null;
  credential: CredentialEntity | null = null;
  /** Set by a plugin's exit (or a body over its limit): the answer instead of the upstream's. */
  exit: PluginExit | null = null;
  /** The plugin and phase that threw: the request is answered 500. */
  failure: { name: string; phase: Phase } | null = null;
  /** Filled by the proxy for the log record. */
  upstreamSentAt = 0;
  upstreamHeadAt = 0;
  upstreamAddress: string | null = null;
  requestBodyBytes = 0;
  responseBytes = 0;
  /** A streamed body passed the limit a plugin set: the proxy answers the exit. */
  bodyLimitHit = false;
  private sharedState: SharedState | null = null;
  /** Contexts of the plugins that apply, in order; header_filter, body_filter and log run these. */
  private readonly collected: HandlerContext[] = [];
  /** PHASE_* bits of the handlers the collected plugins have. */
  private needs = 0;
  private readonly log: PluginLog;
  private readonly protocol: number;
  private phase: Phase = 'rewrite';
  /** When the log phase began, and the status it logs; the record is built only if a plugin reads it. */
  private endedAt = 0;
  private loggedStatus = 0;
  private record: PluginLogRecord | null = null;

  constructor(input: RequestRunInput) {
    this.plan = input.plan;
    this.plugins = input.plugins;
    this.route = input.route;
    this.service = input.service;
    this.startedAt = input.startedAt;
    this.log = input.log;
    this.protocol = input.protocol;
    this.request = new RequestView(input.req, input.client, input.upstreamPath, this);
    this.request.captures = input.captures ?? null;
  }

  get shared(): SharedState {
    return (this.sharedState ??= new Map());
  }

  /** True once the request will not go upstream (an exit or a failure). */
  get stopped(): boolean {
    return this.exit !== null || this.failure !== null;
  }

  exitWith(exit: PluginExit, entry: PluginEntry): void {
    if (this.phase !== 'rewrite' && this.phase !== 'access') {
      entry.log.warn(`exit() in ${this.phase} ignored: the response is already under way`);
      return;
    }
    this.exit ??= exit;
  }

  /** A body already read is over a limit set afterwards (RequestView calls this). */
  limitExceeded(limit: BodyLimit): void {
    this.exit ??= { status: limit.status, body: limit.body, headers: undefined };
  }

  /** A streamed body passed its limit (the proxy counted it): the limit's answer replaces the upstream's. */
  bodyLimitExceeded(): void {
    const limit = this.request.bodyLimit!;
    this.bodyLimitHit = true;
    this.exit = { status: limit.status, body: limit.body, headers: undefined };
  }

  private contextFor(entry: PluginEntry): HandlerContext {
    return contextIn(this.collected, entry) ?? new HandlerContext(entry, this);
  }

  private collect(ctx: HandlerContext): void {
    this.collected.push(ctx);
    this.needs |= ctx.entry.phases;
  }

  private failed(ctx: HandlerContext, phase: Phase, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.log.error(`plugin ${ctx.entry.name} (${phase}) failed: ${message}`);
    if (phase !== 'log') this.failure ??= { name: ctx.entry.name, phase };
  }

  /**
   * Calls one handler (null: none for the phase); a throw is the plugin's failure. Returns the handler's promise
   * when it returned one: the phase goes on through `resume` once it settles.
   */
  private call(ctx: HandlerContext, handler: Handler | null, phase: Phase): Promise<unknown> | undefined {
    if (handler === null) return;
    let result: unknown;
    try {
      result = handler.call(ctx.entry.handlers, ctx);
    } catch (err) {
      this.failed(ctx, phase, err);
      return;
    }
    if (result instanceof Promise) return result;
    if (isThenable(result)) return Promise.resolve(result);
  }

  /** The rest of a phase after a handler's promise: a rejection is the plugin's failure, then the phase goes on. */
  private resume(
    pending: Promise<unknown>,
    ctx: HandlerContext,
    phase: Phase,
    next: () => void | Promise<void>,
  ): Promise<void> {
    return pending.then(next, (err: unknown) => {
      this.failed(ctx, phase, err);
      return next();
    });
  }

  /** Global plugins' rewrite handlers (Kong knows no route yet in rewrite). */
  rewrite(): void | Promise<void> {
    this.phase = 'rewrite';
    if (this.plan.rewrite.length === 0) return;
    return this.rewriteFrom(0);
  }

  // The phase loops are methods resumed at an index rather than per-request closures: the synchronous path
  // allocates nothing, and a continuation exists only when a handler returned a promise.
  private rewriteFrom(i: number): void | Promise<void> {
    const entries = this.plan.rewrite;
    for (; i < entries.length && !this.stopped; i++) {
      const entry = entries[i]!;
      if ((entry.protocols & this.protocol) === 0) continue;
      const ctx = this.contextFor(entry);
      // Kept for access and later phases, so its per-request state carries over.
      if (!this.collected.includes(ctx)) this.collect(ctx);
      const pending = this.call(ctx, entry.on.rewrite, 'rewrite');
      if (pending) {
        const next = i + 1;
        return this.resume(pending, ctx, 'rewrite', () => this.rewriteFrom(next));
      }
    }
  }

  /**
   * Access handlers in priority order. Each plugin's entity is chosen when its turn comes, with the consumer
   * known by then (Kong re-collects after authentication plugins). After an exit or a failure the remaining
   * plugins are still collected for header_filter and log, but their access handlers don't run.
   */
  access(): void | Promise<void> {
    this.phase = 'access';
    return this.accessFrom(0, this.takeCollected());
  }

  private accessFrom(i: number, earlier: readonly HandlerContext[]): void | Promise<void> {
    const plugins = this.plugins;
    // Without consumer scopes the entries are known before the request (worked out once per route).
    const fixed = plugins.fixed === null ? null : plugins.fixed[this.protocol]!;
    const count = fixed === null ? plugins.slots.length : fixed.length;
    for (; i < count; i++) {
      let entry: PluginEntry | null;
      if (fixed !== null) entry = fixed[i]!;
      else {
        entry = entryFor(plugins.slots[i]!, plugins, this.consumer?.id ?? null);
        if (entry === null || (entry.protocols & this.protocol) === 0) continue;
      }
      const ctx =
        (earlier.length === 0 ? undefined : contextIn(earlier, entry)) ?? new HandlerContext(entry, this);
      this.collect(ctx);
      if (this.stopped) continue;
      const pending = this.call(ctx, entry.on.access, 'access');
      if (pending) {
        const next = i + 1;
        return this.resume(pending, ctx, 'access', () => this.accessFrom(next, earlier));
      }
    }
  }

  /** The contexts collected so far (rewrite's), leaving the list empty to collect again. */
  private takeCollected(): readonly HandlerContext[] {
    this.needs = 0;
    return this.collected.length === 0 ? NONE : this.collected.splice(0);
  }

  /** For requests no plugin's access ran on (no route): the plugins that apply are the global ones. */
  collectWithoutAccess(): void {
    this.phase = 'access';
    const earlier = this.takeCollected();
    for (const slot of this.plugins.slots) {
      const entry = slot.base;
      if (entry === null || (entry.protocols & this.protocol) === 0) continue;
      this.collect(contextIn(earlier, entry) ?? new HandlerContext(entry, this));
    }
  }

  /** The response head (upstream's, an exit's or the proxy's own) through header_filter handlers. */
  headerFilter(status: number, headers: OutgoingHttpHeaders, fromPlugin: boolean): void | Promise<void> {
    this.phase = 'header_filter';
    this.response.begin(status, headers, fromPlugin);
    if ((this.needs & PHASE_HEADER_FILTER) === 0) return;
    return this.headerFilterFrom(0);
  }

  private headerFilterFrom(i: number): void | Promise<void> {
    const list = this.collected;
    for (; i < list.length && this.failure === null; i++) {
      const ctx = list[i]!;
      const pending = this.call(ctx, ctx.entry.on.header_filter, 'header_filter');
      if (pending) {
        const next = i + 1;
        return this.resume(pending, ctx, 'header_filter', () => this.headerFilterFrom(next));
      }
    }
  }

  /** Whether a plugin that applies filters the body (then the proxy buffers the response body). */
  get filtersBody(): boolean {
    return (this.needs & PHASE_BODY_FILTER) !== 0;
  }

  /** The whole response body through body_filter handlers; each may return a replacement. */
  async bodyFilter(body: Buffer): Promise<Buffer> {
    this.phase = 'body_filter';
    let current = body;
    for (const ctx of this.collected) {
      const handler = ctx.entry.on.body_filter;
      if (!handler || this.failure !== null) continue;
      try {
        const replaced = await handler.call(ctx.entry.handlers, ctx, current);
        if (replaced !== undefined) current = replaced;
      } catch (err) {
        this.failed(ctx, 'body_filter', err);
      }
    }
    return current;
  }

  /** Whether some plugin that applies has a log handler. */
  get logs(): boolean {
    return (this.needs & PHASE_LOG) !== 0;
  }

  /** The log phase, once the response finished; failures are only logged. A promise only if a handler returned one. */
  runLog(status: number): void | Promise<void> {
    this.phase = 'log';
    this.endedAt = performance.now();
    this.loggedStatus = status;
    return this.logFrom(0);
  }

  /** The log-phase record (null before the log phase), made when a plugin first reads it. */
  get logRecord(): PluginLogRecord | null {
    if (this.phase !== 'log') return null;
    if (this.record !== null) return this.record;
    const latencyMs = this.endedAt - this.startedAt;
    const upstreamLatencyMs = this.upstreamHeadAt > 0 ? this.upstreamHeadAt - this.upstreamSentAt : null;
    this.record = {
      startedAt: performance.timeOrigin + this.startedAt,
      latencyMs,
      upstreamLatencyMs,
      proxyLatencyMs: latencyMs - (upstreamLatencyMs ?? 0),
      requestBytes: this.request.headBytes() + this.requestBodyBytes,
      responseBytes: this.responseBytes,
      status: this.loggedStatus,
      upstreamAddress: this.upstreamAddress,
    };
    return this.record;
  }

  private logFrom(i: number): void | Promise<void> {
    const list = this.collected;
    for (; i < list.length; i++) {
      const ctx = list[i]!;
      const pending = this.call(ctx, ctx.entry.on.log, 'log');
      if (pending) {
        const next = i + 1;
        return this.resume(pending, ctx, 'log', () => this.logFrom(next));
      }
    }
  }
}

const NONE: readonly HandlerContext[] = [];

function contextIn(contexts: readonly HandlerContext[], entry: PluginEntry): HandlerContext | undefined {
  for (const ctx of contexts) if (ctx.entry === entry) return ctx;
  return undefined;
}
