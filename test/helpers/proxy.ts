// In-process proxy for tests: createProxy with the test doubles on a real 127.0.0.1 listener, upstream
// servers on free ports, and a small HTTP client that reports status, headers and body.
import {
  createServer,
  request,
  type Agent,
  type IncomingMessage,
  type RequestListener,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TlsOptions } from 'node:tls';
import { parseListener } from '../../src/core/config/listen.js';
import { closeServers, type BoundServer } from '../../src/core/http/listen.js';
import { bindProxyListeners } from '../../src/core/proxy/listeners.js';
import { createProxy, type DataPlaneProxy, type ProxySettings } from '../../src/core/proxy/proxy.js';
import type { PluginDefinition } from '../../src/core/plugins/api.js';
import type { Trust } from '../../src/core/pki/index.js';
import type { ProxyComponents, ProxyLog } from '../../src/core/proxy/runtime.js';
import type { DeclarativeConfig, RouteEntity, ServiceEntity } from '../../src/core/proxy/types.js';
import { doubleComponents } from './proxy-doubles.js';

/** kong.conf defaults of the settings the proxy reads. */
export const PROXY_SETTINGS: ProxySettings = {
  upstream_keepalive_pool_size: 512,
  upstream_keepalive_max_requests: 1000,
  upstream_keepalive_idle_timeout: 60,
  headers: ['server_tokens', 'latency_tokens', 'x-kong-request-id'],
  trusted_ips: [],
  real_ip_header: 'X-Real-IP',
  lua_ssl_verify_depth: 1,
};

export const TEST_VERSION = '0.1.0';

export interface TestProxy {
  proxy: DataPlaneProxy;
  port: number;
  bound: BoundServer[];
  close(): Promise<void>;
}

export interface TestProxyOptions {
  config?: DeclarativeConfig;
  settings?: Partial<ProxySettings>;
  components?: ProxyComponents;
  tls?: TlsOptions;
  /** Also serve HTTP/2 (with `tls`). */
  http2?: boolean;
  /** Plugins the proxy runs, by name. */
  plugins?: ReadonlyMap<string, PluginDefinition<Record<string, unknown>>>;
  /** The proxy's log (errors go to the console by default). */
  log?: ProxyLog;
  /** The node's trust (lua_ssl_trusted_certificate); default: Node's CA list. */
  trust?: Trust;
}

export async function startTestProxy(options: TestProxyOptions = {}): Promise<TestProxy> {
  const proxy = createProxy({
    settings: { ...PROXY_SETTINGS, ...options.settings },
    components: options.components ?? doubleComponents(),
    log: options.log ?? {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: console.error,
    },
    version: TEST_VERSION,
    plugins: options.plugins,
    trust: options.trust,
  });
  if (options.config) await proxy.apply(options.config);
  // Parsed with a placeholder port, then bound to an ephemeral one.
  const parsed = parseListener(`127.0.0.1:1${options.tls ? ' ssl' : ''}${options.http2 ? ' http2' : ''}`);
  if (!parsed.ok) throw new Error(parsed.message);
  const bound = await bindProxyListeners(proxy, [{ ...parsed.value, port: 0 }], options.tls);
  return {
    proxy,
    port: bound[0]!.port,
    bound,
    async close() {
      await closeServers(bound, 0);
      await proxy.close();
    },
  };
}

export interface Upstream {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export async function startUpstream(handler: RequestListener): Promise<Upstream> {
  const server = createServer({ keepAliveTimeout: 60_000 }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What the echo upstream saw, sent back as JSON. */
export interface Echo {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  body: string;
  port: number;
}

/** An upstream that answers 200 with what it received (and `x-upstream-port`). */
export async function startEchoUpstream(extraHeaders: Record<string, string> = {}): Promise<Upstream> {
  const holder: { port: number } = { port: 0 };
  const upstream = await startUpstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const echo: Echo = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString('utf8'),
        port: holder.port,
      };
      const body = JSON.stringify(echo);
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-upstream-port': String(holder.port),
        ...extraHeaders,
      });
      res.end(body);
    });
  });
  holder.port = upstream.port;
  return upstream;
}

/** What `proxySuite` gives the suite that calls it. */
export interface ProxySuite {
  /** The suite's upstream: its fields are set before the suite's first test; it is closed after the last. */
  readonly upstream: Upstream;
  /** Starts a proxy as `startTestProxy` does; it is closed after the test that started it. */
  startProxy(options?: TestProxyOptions): Promise<TestProxy>;
}

/**
 * The lifecycle proxy suites share, as hooks of the `describe` that calls it: one upstream for the suite (an echo
 * upstream unless `startSuiteUpstream` makes another) and the proxies each test starts.
 */
export function proxySuite(
  startSuiteUpstream: () => Promise<Upstream> = () => startEchoUpstream(),
): ProxySuite {
  // One object from the start, so a suite can destructure `upstream` before the hook has started it.
  const upstream = {} as Upstream;
  const proxies: TestProxy[] = [];
  before(async () => {
    Object.assign(upstream, await startSuiteUpstream());
  });
  after(async () => upstream.close());
  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  });
  return {
    upstream,
    async startProxy(options) {
      const proxy = await startTestProxy(options);
      proxies.push(proxy);
      return proxy;
    },
  };
}

export interface Reply {
  status: number;
  headers: IncomingMessage['headers'];
  text: string;
}

/** A reply with its body as received (binary bodies, exact lengths). */
export interface RawReply extends Reply {
  bytes: Buffer;
  /** The request went on a kept-alive connection (only with an agent that keeps them). */
  reused: boolean;
}

/** One request on its own connection, or on `agent`'s (keep-alive ones reuse theirs). */
export function send(
  port: number,
  options: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    agent?: Agent;
  } = {},
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path ?? '/',
        headers: options.headers,
        agent: options.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: bytes.toString('utf8'),
            bytes,
            reused: req.reusedSocket,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A configuration with one service and routes to it (defaults: strip_path off, preserve_host off). */
export function serviceConfig(
  service: Partial<ServiceEntity> & { host: string; port: number },
  routes: Partial<RouteEntity>[] = [{ paths: ['/'] }],
  extra: Partial<DeclarativeConfig> = {},
): DeclarativeConfig {
  const svc: ServiceEntity = { id: 'svc-1', protocol: 'http', ...service };
  return {
    _format_version: '3.0',
    services: [svc],
    routes: routes.map((r, i) => ({
      id: `route-${i + 1}`,
      protocols: ['http', 'https'],
      strip_path: false,
      preserve_host: false,
      service: { id: svc.id },
      ...r,
    })),
    ...extra,
  };
}

/** One plugin entity as the control plane exports it (enabled, http/https), scoped by `scope` (route, service…). */
export function pluginEntity(
  name: string,
  config: Record<string, unknown>,
  scope: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    name,
    enabled: true,
    protocols: ['http', 'https'],
    config,
    ...scope,
  };
}
