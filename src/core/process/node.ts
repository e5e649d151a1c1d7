// A running node in its role: binds the role's listeners, and stops or reloads them on request.
import { hostname } from 'node:os';
import { startAdminApi, type AdminApi } from '../admin/index.js';
import { clusteringRoutes } from '../admin/clustering.js';
import { startClusterListener, type ClusterListener } from '../cluster/control-plane.js';
import { DataPlaneRegistry } from '../cluster/registry.js';
import { startClusterClient, type ClusterClient } from '../cluster/data-plane.js';
import { CLUSTER_CERTIFICATE_KEYS } from '../cluster/certificates.js';
import { enabledPlugins, type ConfigKey, type HybridConfig } from '../config/index.js';
import { BUNDLED_PLUGINS } from '../plugins/registry.js';
import { PACKAGE_VERSION } from '../version.js';
import { openStore, storeOptionsFromConfig, type Store } from '../store/index.js';
import { bindListeners, closeServers, type BoundServer } from '../http/listen.js';
import type { ConfigCache } from '../dataplane/config-cache.js';
import { loadInitialConfig, openNodeConfigCache } from '../dataplane/initial-config.js';
import { DATA_PLANE_COMPONENTS } from '../proxy/components.js';
import { bindProxyListeners } from '../proxy/listeners.js';
import { createProxy, type DataPlaneProxy } from '../proxy/proxy.js';
import type { DeclarativeConfig } from '../proxy/types.js';
import { statusHandler } from '../status/status-api.js';
import { defaultTlsFor } from './default-cert.js';
import type { Logger } from './logger.js';
import type { PrefixLayout } from './prefix.js';

export interface NodeContext {
  config: HybridConfig;
  /** Apply pending PostgreSQL migrations before serving (`start --run-migrations`). */
  runMigrations?: boolean;
  layout: PrefixLayout;
  nodeId: string;
  logger: Logger;
}

export interface RunningNode {
  /** Listeners bound, as `name url` pairs, for the start-up message. */
  endpoints: string[];
  /** Graceful: stop accepting, let requests in flight finish for up to `graceMs`. */
  stop(graceMs: number): Promise<void>;
  /** Applies reloaded keys (see RELOADABLE_KEYS) to the running listeners; throws to refuse them. */
  reload(next: HybridConfig, applied: ConfigKey[]): void;
}

export async function startNode(ctx: NodeContext): Promise<RunningNode> {
  const { config, logger } = ctx;
  const servers: BoundServer[] = [];
  let store: Store | undefined;
  let admin: AdminApi | undefined;
  let listener: ClusterListener | undefined;
  let registry: DataPlaneRegistry | undefined;
  let cluster: ClusterClient | undefined;
  let cache: ConfigCache | undefined;
  let proxy: DataPlaneProxy | undefined;
  const endpoints: string[] = [];
  const record = (name: string, bound: BoundServer[]) => {
    servers.push(...bound);
    for (const b of bound) {
      const scheme = b.listener.ssl ? 'https' : 'http';
      endpoints.push(`${name} ${scheme}://${hostPort(b.listener.host, b.port)}`);
    }
  };

  try {
    if (config.role === 'data_plane') {
      // Cache → declarative_config → empty, before any listener; each configuration the control plane sends
      // is built, cached, then swapped in.
      cache = openNodeConfigCache(config, logger);
      const initial = loadInitialConfig(config, cache, logger);
      let served = initial.table ? { hash: initial.hash, table: initial.table } : null;
      const configHash = (): string | null => served?.hash ?? null;
      const tls = config.proxy_listen.some((l) => l.ssl) ? await defaultTlsFor(ctx, 'proxy') : undefined;
      proxy = createProxy({
        settings: config,
        components: DATA_PLANE_COMPONENTS,
        log: logger.child('proxy'),
        version: PACKAGE_VERSION,
      });
      if (served) {
        try {
          await proxy.apply(served.table as DeclarativeConfig);
        } catch (err) {
          logger.error(`the ${initial.source} configuration cannot be served: ${(err as Error).message}`);
          served = null;
        }
      }
      record('proxy', await bindProxyListeners(proxy, config.proxy_listen, tls));
      if (config.status_listen.length > 0) {
        const handler = statusHandler({ configHash, activeConnections: () => 0 });
        const statusTls = config.status_listen.some((l) => l.ssl)
          ? await defaultTlsFor(ctx, 'status')
          : undefined;
        record('status', await bindListeners('status', config.status_listen, handler, statusTls));
      }
      cluster = startClusterClient({
        config,
        nodeId: ctx.nodeId,
        version: PACKAGE_VERSION,
        plugins: enabledPlugins(config, BUNDLED_PLUGINS).map((name) => ({ name, version: PACKAGE_VERSION })),
        logger,
        currentHash: configHash,
        apply: async (table, hash) => {
          // Built first (a config that cannot be built is rejected whole), then cached, then swapped in:
          // a crash after the swap still restarts on this config (a failed save is logged).
          const next = await proxy!.prepare(table as DeclarativeConfig);
          await cache?.save({ hash, table });
          proxy!.activate(next);
          served = { hash, table };
        },
      });
    } else {
      store = await openStore(storeOptionsFromConfig(config), { migrate: ctx.runMigrations ?? false });
      logger.notice(`${config.role} ${ctx.nodeId} using the ${store.engine} store`);
      if (config.role === 'control_plane') {
        registry = new DataPlaneRegistry({
          rows: store.dataPlanes,
          controlPlaneId: ctx.nodeId,
          purgeDelaySeconds: config.cluster_data_plane_purge_delay,
          log: logger.child('clustering'),
        });
        await registry.start();
      }
      admin = await startAdminFor(ctx, store, () => listener?.configHash() ?? null);
      for (const address of admin.addresses) endpoints.push(`admin ${address.url}`);
      if (config.role === 'control_plane') {
        listener = await startClusterListener({ config, store, logger, version: PACKAGE_VERSION, registry });
        for (const a of listener.addresses) endpoints.push(`cluster wss://${hostPort(a.host, a.port)}`);
      }
    }
  } catch (err) {
    await closeAll(0);
    throw err;
  }

  async function closeAll(graceMs: number): Promise<void> {
    await cluster?.close();
    await Promise.all([closeServers(servers, graceMs), admin?.close(), listener?.close()]);
    await registry?.close();
    await proxy?.close();
    await store?.close();
    await cache?.close();
  }

  const reload = (next: HybridConfig, applied: ConfigKey[]): void => {
    if (!applied.some((key) => CLUSTER_CERTIFICATE_KEYS.includes(key))) return;
    listener?.updateCertificates(next);
    cluster?.updateCertificates(next);
  };

  return { endpoints, stop: closeAll, reload };
}

/** The Admin API of a control plane (or traditional node) on admin_listen, logging under [admin]. */
async function startAdminFor(
  ctx: NodeContext,
  store: Store,
  configurationHash: () => string | null,
): Promise<AdminApi> {
  const { config, logger } = ctx;
  const log = logger.child('admin');
  const needsTls = config.admin_listen.some((l) => l.ssl);
  const tls = needsTls ? await defaultTlsFor(ctx, 'admin') : undefined;
  return startAdminApi({
    store,
    listen: config.admin_listen.map((l) => ({ host: l.host, port: l.port, ssl: l.ssl })),
    role: config.role,
    ...(config.role === 'control_plane'
      ? {
          routes: clusteringRoutes({
            rows: store.dataPlanes,
            purgeDelaySeconds: config.cluster_data_plane_purge_delay,
          }),
          configurationHash,
        }
      : {}),
    nodeInfo: {
      node_id: ctx.nodeId,
      hostname: hostname(),
      configuration: config as unknown as Record<string, unknown>,
    },
    tls: tls ? { cert: firstPem(tls.cert), key: firstPem(tls.key) } : undefined,
    log: { info: log.info, warn: log.warn, error: log.error },
  });
}

function firstPem(value: unknown): string {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : String(first);
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
