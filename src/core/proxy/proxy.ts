// The data plane's proxy: routes each request on proxy_listen with the current configuration and forwards
// it; a newly applied configuration replaces the current one atomically, requests in flight keep theirs.
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import {
  NO_ROUTE,
  NO_SERVICE,
  UNEXPECTED,
  USE_HTTPS,
  sendAnswer,
  sendAnswerOnSocket,
  sendOnSocket,
  type KongAnswer,
} from './answers.js';
import { Forwarder, upstreamScheme } from './forward.js';
import {
  clientView,
  headerPolicy,
  type ClientView,
  type ClientViewOptions,
  type HeaderPolicy,
} from './headers.js';
import {
  buildRuntime,
  emptyRuntime,
  type ProxyComponents,
  type ProxyLog,
  type ProxyRuntime,
} from './runtime.js';
import { trustedIps } from './trusted-ips.js';
import { UpstreamPools } from './upstream-pools.js';
import type { ClientRequest, ClientResponse, DeclarativeConfig, RouteMatch, RouteRequest } from './types.js';
import { tunnel } from './websocket.js';
import type { PluginDefinition } from '../plugins/api.js';
import { buildPluginPlan, PROTOCOL_HTTP, PROTOCOL_HTTPS, type RoutePlugins } from '../plugins/runner/plan.js';
import type { Trust } from '../pki/index.js';
import { RequestRun } from '../plugins/runner/run.js';
import { answerStopped, answerThroughPlugins, exitParts, logWhenDone } from './plugin-response.js';

/** The node settings the proxy reads (kong.conf names). */
export interface ProxySettings {
  upstream_keepalive_pool_size: number;
  upstream_keepalive_max_requests: number;
  upstream_keepalive_idle_timeout: number;
  headers: readonly string[];
  trusted_ips: readonly string[];
  real_ip_header: string;
  /** The depth of https health-check verification. */
  lua_ssl_verify_depth: number;
}

export interface ProxyOptions {
  settings: ProxySettings;
  components: ProxyComponents;
  log: ProxyLog;
  /** The package version, for `Via: 1.1 hybrid/<version>` and `Server: hybrid/<version>`. */
  version: string;
  /** The plugins this node runs, by name (none when absent: configured plugins are not run). */
  plugins?: ReadonlyMap<string, PluginDefinition<Record<string, unknown>>>;
  /** The node's id, handed to plugin instances. */
  nodeId?: string;
  /**
   * What the node trusts (lua_ssl_trusted_certificate, see nodeTrust): upstreams of services that verify without
   * ca_certificates, and https health checks. Default: Node's CA list.
   */
  trust?: Trust;
}

export interface DataPlaneProxy {
  /** The request handler for every proxy listener: Node's server's, and the plain listener's (plain-listener.ts). */
  handle(req: ClientRequest, res: ClientResponse): void;
  /** The `upgrade` handler for HTTP/1.1 proxy listeners. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** TLS SNICallback for https proxy listeners: the configuration's certificate for the name, else the default. */
  sniCallback(servername: string, callback: (err: Error | null, context?: SecureContext) => void): void;
  /**
   * Builds a configuration (router, balancers with their first DNS answers, certificates) without serving it;
   * throws when it can't be built, and the current one stays.
   */
  prepare(config: DeclarativeConfig): Promise<ProxyRuntime>;
  /** Makes a prepared configuration current; requests in flight finish on theirs. */
  activate(next: ProxyRuntime): void;
  /** prepare + activate. */
  apply(config: DeclarativeConfig): Promise<void>;
  /**
   * What upstream verification and https health checks trust from now on (a reload); configurations prepared
   * after it use it.
   */
  setTrust(trust: Trust, healthCheckDepth: number): void;
  /** The configuration version being served. */
  readonly runtime: ProxyRuntime;
  /** Requests received since the start (upgrades included), for /status total_requests. */
  readonly requests: number;
  /** Closes balancers and upstream connections (after the listeners stopped). */
  close(): Promise<void>;
}

type Routed =
  | { answer: KongAnswer; location?: string }
  | { match: RouteMatch & { service: NonNullable<RouteMatch['service']> } };

export function createProxy(options: ProxyOptions): DataPlaneProxy {
  const { settings, components, log, version } = options;
  const definitions = options.plugins ?? new Map<string, PluginDefinition<Record<string, unknown>>>();
  const node = { id: options.nodeId ?? '', version };
  const policy: HeaderPolicy = headerPolicy(settings.headers);
  const via = `1.1 hybrid/${version}`;
  const viewOptions: ClientViewOptions = {
    trusted: trustedIps(settings.trusted_ips),
    realIpHeader: settings.real_ip_header.toLowerCase(),
  };
  const pools = new UpstreamPools({
    poolSize: settings.upstream_keepalive_pool_size,
    maxRequests: settings.upstream_keepalive_max_requests,
    idleTimeoutSec: settings.upstream_keepalive_idle_timeout,
  });
  const forwarder = new Forwarder({ pools, policy, via, server: `hybrid/${version}`, log });
  let tlsSettings = {
    trust: options.trust ?? { system: true, pems: [] },
    healthCheckDepth: settings.lua_ssl_verify_depth,
  };
  let current: ProxyRuntime = emptyRuntime();

  const route = (rt: ProxyRuntime, req: ClientRequest, client: ClientView): Routed => {
    const request: RouteRequest = {
      method: req.method ?? 'GET',
      host: client.host,
      port: client.port,
      path: client.path,
      headers: req.headers,
      sni: client.sni,
      protocol: client.proto,
    };
    const match = rt.router.match(request);
    if (!match) return { answer: NO_ROUTE };
    const protocols = match.route.protocols;
    const secureOnly =
      (protocols.includes('https') || protocols.includes('wss')) &&
      !protocols.includes('http') &&
      !protocols.includes('ws');
    if (secureOnly && client.forwardedProto !== 'https') {
      const code = match.route.https_redirect_status_code ?? 426;
      if (code === 426) return { answer: USE_HTTPS };
      return {
        answer: { status: code, message: null },
        location: `https://${client.forwardedHost}${req.url ?? '/'}`,
      };
    }
    if (!match.service) return { answer: NO_SERVICE };
    return { match: match as RouteMatch & { service: NonNullable<RouteMatch['service']> } };
  };

  const flowContext: FlowContext = { forwarder, log };

  let requests = 0;

  const handle = (req: ClientRequest, res: ClientResponse): void => {
    requests++;
    const startedAt = performance.now();
    const rt = current;
    try {
      const client = clientView(req, viewOptions);
      const routed = route(rt, req, client);
      const plugins = 'answer' in routed ? rt.plugins.unrouted : rt.plugins.forRoute(routed.match.route.id);
      if (plugins !== null) {
        const pending = new PluginFlow(flowContext, rt, plugins, req, res, client, routed, startedAt).start();
        pending?.catch((err: unknown) => {
          log.error(`proxying ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
          forwarder.answer(req, res, startedAt, UNEXPECTED, null);
        });
        return;
      }
      if ('answer' in routed) {
        const extra = forwarder.ownHeaders(startedAt, null);
        if (routed.location) extra.location = routed.location;
        sendAnswer(req, res, routed.answer, extra);
        return;
      }
      const { match } = routed;
      const balancer = rt.balancers.forHost(match.service.host);
      forwarder.forward(req, res, client, match, match.service, balancer, rt.upstreamTls, startedAt);
    } catch (err) {
      log.error(`proxying ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
      forwarder.answer(req, res, startedAt, UNEXPECTED, null);
    }
  };

  /** Rewrite and access for an upgrade request; resolves to the run when it may go on to the upstream. */
  const upgradeWithPlugins = async (
    rt: ProxyRuntime,
    plugins: RoutePlugins,
    req: IncomingMessage,
    socket: Duplex,
    client: ClientView,
    match: Extract<Routed, { match: unknown }>['match'],
    startedAt: number,
  ): Promise<RequestRun | null> => {
    const run = new RequestRun({
      plan: rt.plugins,
      plugins,
      req,
      client,
      route: match.route,
      service: match.service,
      upstreamPath: match.upstreamPath,
      captures: match.captures,
      protocol: client.proto === 'https' ? PROTOCOL_HTTPS : PROTOCOL_HTTP,
      log,
      startedAt,
    });
    const rewriting = run.rewrite();
    if (rewriting) await rewriting;
    const access = run.access();
    if (access) await access;
    if (!run.stopped) return run;
    const own = forwarder.ownHeaders(startedAt, null);
    if (run.exit !== null && run.failure === null) {
      const { status, headers, body } = exitParts(run.exit, own);
      sendOnSocket(socket, status, headers, body);
    } else sendAnswerOnSocket(socket, UNEXPECTED, own);
    return null;
  };

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    requests++;
    const startedAt = performance.now();
    const rt = current;
    const ownHeaders = () => forwarder.ownHeaders(startedAt, null);
    try {
      const client = clientView(req, viewOptions);
      const routed = route(rt, req, client);
      if ('answer' in routed) {
        const extra = ownHeaders();
        if (routed.location) extra.location = routed.location;
        sendAnswerOnSocket(socket, routed.answer, extra);
        return;
      }
      const { match } = routed;
      const scheme = upstreamScheme(match.service.protocol);
      if (scheme === null) {
        sendAnswerOnSocket(socket, UNEXPECTED, ownHeaders());
        return;
      }
      const open = (changed?: RequestRun) =>
        tunnel({
          req,
          socket,
          head,
          client,
          match,
          service: match.service,
          balancer: rt.balancers.forHost(match.service.host),
          scheme,
          tls: scheme === 'https' ? rt.upstreamTls.forService(match.service) : null,
          log,
          via: policy.via ? via : null,
          requestId: null,
          ownHeaders,
          changed: changed?.request,
        });
      const plugins = rt.plugins.forRoute(match.route.id);
      if (plugins === null) {
        open();
        return;
      }
      // Upgrades go through rewrite and access too (authentication plugins guard WebSocket routes as well);
      // the response is the upstream's raw bytes, so header_filter, body_filter and log don't run.
      upgradeWithPlugins(rt, plugins, req, socket, client, match, startedAt)
        .then((run) => (run ? open(run) : undefined))
        .catch((err: unknown) => {
          log.error(`proxying upgrade ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
          sendAnswerOnSocket(socket, UNEXPECTED, ownHeaders());
        });
    } catch (err) {
      log.error(`proxying upgrade ${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`);
      sendAnswerOnSocket(socket, UNEXPECTED, ownHeaders());
    }
  };

  return {
    handle,
    upgrade,
    sniCallback(servername, callback) {
      try {
        callback(null, current.certificates.contextFor(servername) ?? undefined);
      } catch (err) {
        log.error(`certificate for ${servername}: ${(err as Error).message}`);
        callback(null, undefined);
      }
    },
    async prepare(config) {
      const next = buildRuntime(config, components, log, tlsSettings, current.balancers);
      try {
        await next.balancers.ready?.();
        next.plugins = await buildPluginPlan(config, { definitions, log, node });
      } catch (err) {
        await next.balancers.close();
        throw err;
      }
      return next;
    },
    activate(next) {
      const previous = current;
      current = next;
      pools.retain(next.addresses, next.upstreamTls.keys);
      void Promise.resolve()
        .then(() => previous.balancers.close())
        .catch((err: unknown) => log.warn(`closing the previous balancers: ${(err as Error).message}`));
      // The previous version's plugin instances are closed after the swap (the plugin contract).
      void previous.plugins.close();
      log.debug(`serving ${next.router.routeCount} routes, ${next.certificates.count} certificate names`);
    },
    async apply(config) {
      this.activate(await this.prepare(config));
    },
    setTrust(trust, healthCheckDepth) {
      tlsSettings = { trust, healthCheckDepth };
    },
    get runtime() {
      return current;
    },
    get requests() {
      return requests;
    },
    async close() {
      await current.balancers.close();
      await current.plugins.close();
      await pools.destroy();
    },
  };
}

/** What every request's PluginFlow shares. */
interface FlowContext {
  forwarder: Forwarder;
  log: ProxyLog;
}

/**
 * A request some plugin applies to: rewrite and access, then forwarded (or answered), filtered, logged. Its
 * steps are methods, continued synchronously unless a handler returned a promise, so a request allocates
 * this one object rather than a closure per step.
 */
class PluginFlow {
  private readonly run: RequestRun;
  private readonly match: Extract<Routed, { match: unknown }>['match'] | null;

  constructor(
    private readonly context: FlowContext,
    private readonly rt: ProxyRuntime,
    plugins: RoutePlugins,
    private readonly req: ClientRequest,
    private readonly res: ClientResponse,
    private readonly client: ClientView,
    private readonly routed: Routed,
    private readonly startedAt: number,
  ) {
    this.match = 'match' in routed ? routed.match : null;
    const match = this.match;
    this.run = new RequestRun({
      plan: rt.plugins,
      plugins,
      req,
      client,
      route: match?.route ?? null,
      service: match?.service ?? null,
      upstreamPath: match?.upstreamPath ?? client.path,
      captures: match?.captures ?? null,
      protocol: client.proto === 'https' ? PROTOCOL_HTTPS : PROTOCOL_HTTP,
      log: this.context.log,
      startedAt,
    });
  }

  start(): void | Promise<void> {
    const rewriting = this.run.rewrite();
    return rewriting ? rewriting.then(() => this.afterRewrite()) : this.afterRewrite();
  }

  /** The proxy's own headers for an answer it gives (made only on those paths). */
  private own(): () => Record<string, string> {
    return () => this.context.forwarder.ownHeaders(this.startedAt, null);
  }

  private afterRewrite(): void | Promise<void> {
    const { run, req, res } = this;
    if (this.match === null) {
      // No route: Kong's answer, through the global plugins' header_filter and log.
      run.collectWithoutAccess();
      logWhenDone(run, req, res, this.context.log);
      const own = this.own();
      if (run.stopped) return answerStopped(run, req, res, own);
      const { answer, location } = this.routed as Extract<Routed, { answer: KongAnswer }>;
      answerThroughPlugins(run, req, res, answer, () => (location ? { ...own(), location } : own()));
      return;
    }
    const access = run.access();
    return access ? access.then(() => this.afterAccess()) : this.afterAccess();
  }

  private afterAccess(): void | Promise<void> {
    const run = this.run;
    logWhenDone(run, this.req, this.res, this.context.log);
    // A plugin that started reading the body without waiting for it: the body goes once it is all there.
    if (!run.stopped && run.request.bodyTaken && run.request.body === null) {
      return run.request.getBody().then(() => this.forward());
    }
    this.forward();
  }

  private forward(): void {
    const { run, req, res, match } = this;
    if (run.stopped) return answerStopped(run, req, res, this.own());
    this.context.forwarder.forward(
      req,
      res,
      this.client,
      match!,
      match!.service,
      this.rt.balancers.forHost(match!.service.host),
      this.rt.upstreamTls,
      this.startedAt,
      run,
    );
  }
}
