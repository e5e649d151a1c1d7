// Starts the Admin API on the `admin_listen` addresses and stops it; the one entry point other code calls.
import type { Socket } from 'node:net';
import type { SecureContextOptions } from 'node:tls';
import type { Listener } from '../config/index.js';
import { PACKAGE_VERSION } from '../version.js';
import { HybridError } from '../errors.js';
import { bindListeners, closeServers, type BoundServer } from '../http/listen.js';
import type { Store } from '../store/types.js';
import { AdminApp, consoleAdminLogger, type AdminLogger, type NodeRole } from './app.js';
import { DEFAULT_MAX_BODY_BYTES } from './body.js';
import type { AdminRoute } from './context.js';
import { entityRoutes, type AdminSchemaSource } from './entities.js';
import { defaultNodeInfo, infoRoutes, type NodeInfo, type SchemaDocuments } from './info.js';
import { bundledPlugins, storeSchemas } from './schemas.js';
import { notAControlPlaneRoutes } from './clustering.js';
import { tagRoutes } from './tags.js';

/**
 * One `admin_listen` entry, e.g. `127.0.0.1:8001` or `0.0.0.0:8444 ssl`: a parsed `Listener` from the
 * configuration, or just its address. Port 0 picks a free port.
 */
export type AdminListenAddress = Listener | { host: string; port: number; ssl?: boolean };

export interface AdminApiOptions {
  store: Store;
  /** Addresses to bind: the configuration's `admin_listen` (Kong's default is 127.0.0.1:8001). */
  listen: readonly AdminListenAddress[];
  /** A data plane refuses every write with 405. Default: traditional. */
  role?: NodeRole;
  /** Reported by `/`; missing parts get defaults (this package's version, the OS hostname). */
  nodeInfo?: Partial<NodeInfo>;
  /** Certificate and key (PEM) for `ssl` listeners (`admin_ssl_cert`, `admin_ssl_cert_key`). */
  tls?: SecureContextOptions;
  /** Routes of other subsystems (e.g. clustering's `/clustering/data-planes`); more via `register`. */
  routes?: AdminRoute[];
  /** Field types used to read form bodies, and the documents `/schemas/...` serves (default: the store's). */
  schemas?: AdminSchemaSource & SchemaDocuments;
  /** On a control plane: the hash of the configuration it sends data planes, shown by `/status`. */
  configurationHash?: () => string | null;
  /** Larger bodies are refused with 413. Default 10 MiB, Kong's default. */
  maxBodyBytes?: number;
  log?: AdminLogger;
  /** One line per request in nginx's combined format, e.g. appended to `<prefix>/logs/admin_access.log`. */
  accessLog?: (line: string) => void;
}

export interface BoundAdminAddress {
  host: string;
  port: number;
  ssl: boolean;
  /** e.g. `http://127.0.0.1:8001`. */
  url: string;
}

export interface AdminApi {
  addresses: BoundAdminAddress[];
  /** The bound servers (`src/core/http/listen.ts`), e.g. for the node's list of endpoints. */
  servers: BoundServer[];
  /** Adds a route while running; literal path segments take precedence over `:params`. */
  register(route: AdminRoute): void;
  /** Stops accepting; requests in flight get up to `graceMs` (default 0: dropped at once). */
  close(graceMs?: number): Promise<void>;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** A full `Listener` for an address given as just host, port and ssl. */
function asListener(address: AdminListenAddress): Listener {
  if ('listener' in address) return address;
  const ssl = Boolean(address.ssl);
  return {
    host: address.host,
    port: address.port,
    ssl,
    http2: false,
    reuseport: false,
    proxyProtocol: false,
    deferred: false,
    bind: false,
    flags: ssl ? ['ssl'] : [],
    listener: `${urlHost(address.host)}:${address.port}${ssl ? ' ssl' : ''}`,
  };
}

/**
 * Binds the Admin API to every `listen` address. Rejects (and binds nothing) when an address is
 * taken (`listen_failed`), or an `ssl` listener has no certificate (`admin_ssl_missing`).
 */
export async function startAdminApi(options: AdminApiOptions): Promise<AdminApi> {
  const log = options.log ?? consoleAdminLogger;
  const role = options.role ?? 'traditional';
  const given = Object.fromEntries(
    Object.entries(options.nodeInfo ?? {}).filter(([, v]) => v !== undefined),
  ) as Partial<NodeInfo>;
  const nodeInfo: NodeInfo = { ...defaultNodeInfo(PACKAGE_VERSION), ...given };
  if (given.plugins === undefined) nodeInfo.plugins = bundledPlugins(nodeInfo.version);
  const schemas = options.schemas ?? storeSchemas;
  if (options.listen.length === 0)
    throw new HybridError('admin_listen_empty', 'admin_listen has no address to bind', {
      hint: 'Set admin_listen, e.g. admin_listen = 127.0.0.1:8001',
    });
  if (options.listen.some((l) => l.ssl) && !options.tls)
    throw new HybridError('admin_ssl_missing', 'admin_listen has an ssl listener but no certificate', {
      hint: 'Set admin_ssl_cert and admin_ssl_cert_key, or remove "ssl" from admin_listen.',
    });

  const app = new AdminApp({
    role,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    log,
    serverHeader: `hybrid/${nodeInfo.version}`,
    accessLog: options.accessLog,
  });
  const routes = [
    ...infoRoutes({
      store: options.store,
      nodeInfo,
      stats: app.stats,
      patterns: () => app.router.patterns(),
      schemas,
      configurationHash: options.configurationHash,
    }),
    ...entityRoutes(options.store, schemas),
    ...tagRoutes(options.store),
    // On a control plane, clustering adds the real routes (`routes` or `register`).
    ...(role === 'control_plane' ? [] : notAControlPlaneRoutes),
    ...(options.routes ?? []),
  ];
  for (const route of routes) app.register(route);

  const servers = await bindListeners('admin', options.listen.map(asListener), app.handle, options.tls);
  for (const { server } of servers) {
    server.on('connection', (socket: Socket) => {
      app.stats.connectionsAccepted++;
      app.stats.connectionsActive++;
      socket.once('close', () => app.stats.connectionsActive--);
    });
  }
  const addresses: BoundAdminAddress[] = servers.map(({ listener, port }) => {
    const scheme = listener.ssl ? 'https' : 'http';
    return {
      host: listener.host,
      port,
      ssl: listener.ssl,
      url: `${scheme}://${urlHost(listener.host)}:${port}`,
    };
  });
  log.info(`listening on ${addresses.map((a) => a.url).join(', ')} (role ${role})`);

  let closing: Promise<void> | undefined;
  return {
    addresses,
    register: (route) => app.register(route),
    servers,
    close: (graceMs = 0) => {
      closing ??= closeServers(servers, graceMs).then(() => log.info('stopped'));
      return closing;
    },
  };
}
