// A control plane (or traditional node): the store, the Admin API on admin_listen and, for a control plane,
// the data plane registry and the cluster listener that pushes the configuration to data planes.
import { hostname } from 'node:os';
import { startAdminApi, type AdminApi } from '../admin/index.js';
import { allDataPlaneRows, clusteringRoutes } from '../admin/clustering.js';
import { metricsRoute } from '../admin/metrics.js';
import { adminExposition } from '../plugins/prometheus/exporter.js';
import { CLUSTER_CERTIFICATE_KEYS } from '../cluster/certificates.js';
import { startClusterListener, type ClusterListener } from '../cluster/control-plane.js';
import { DataPlaneRegistry } from '../cluster/registry.js';
import { closeServers } from '../http/listen.js';
import { loadPlugins } from '../plugins/handlers.js';
import { openStore, storeOptionsFromConfig, type Store } from '../store/index.js';
import { PACKAGE_VERSION } from '../version.js';
import { defaultTlsFor } from './default-cert.js';
import { endpointRecorder, hostPort, type NodeContext, type RunningNode } from './node.js';

export async function startControlPlane(ctx: NodeContext): Promise<RunningNode> {
  const { config, logger } = ctx;
  const { servers, endpoints } = endpointRecorder();
  let store: Store | undefined;
  let admin: AdminApi | undefined;
  let listener: ClusterListener | undefined;
  let registry: DataPlaneRegistry | undefined;

  async function closeAll(graceMs: number): Promise<void> {
    await Promise.all([closeServers(servers, graceMs), admin?.close(), listener?.close()]);
    await registry?.close();
    await store?.close();
  }

  try {
    // Custom plugins load here too: the Admin API validates their config with their schemas.
    const plugins = await loadPlugins(config);
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
    admin = await startAdminFor(ctx, store, () => listener?.configHash() ?? null, plugins.announced);
    for (const address of admin.addresses) endpoints.push(`admin ${address.url}`);
    if (config.role === 'control_plane') {
      listener = await startClusterListener({
        config,
        store,
        logger,
        version: PACKAGE_VERSION,
        plugins: plugins.announced,
        registry,
      });
      for (const a of listener.addresses) endpoints.push(`cluster wss://${hostPort(a.host, a.port)}`);
    }
  } catch (err) {
    await closeAll(0);
    throw err;
  }

  return {
    endpoints,
    stop: closeAll,
    reload: (next, applied) => {
      if (applied.some((key) => CLUSTER_CERTIFICATE_KEYS.includes(key))) listener?.updateCertificates(next);
    },
  };
}

/** The Admin API of a control plane (or traditional node) on admin_listen, logging under [admin]. */
async function startAdminFor(
  ctx: NodeContext,
  store: Store,
  configurationHash: () => string | null,
  plugins: { name: string; version: string }[],
): Promise<AdminApi> {
  const { config, logger } = ctx;
  const log = logger.child('admin');
  const needsTls = config.admin_listen.some((l) => l.ssl);
  const tls = needsTls ? await defaultTlsFor(ctx, 'admin') : undefined;
  const isControlPlane = config.role === 'control_plane';
  const metrics = metricsRoute(() =>
    adminExposition({
      nodeId: ctx.nodeId,
      version: PACKAGE_VERSION,
      datastoreReachable: () =>
        store.version().then(
          () => true,
          () => false,
        ),
      ...(isControlPlane
        ? { dataPlanes: () => allDataPlaneRows(store.dataPlanes), configHash: configurationHash }
        : {}),
    }),
  );
  return startAdminApi({
    store,
    listen: config.admin_listen.map((l) => ({ host: l.host, port: l.port, ssl: l.ssl })),
    role: config.role,
    routes: [
      metrics,
      ...(isControlPlane
        ? clusteringRoutes({
            rows: store.dataPlanes,
            purgeDelaySeconds: config.cluster_data_plane_purge_delay,
          })
        : []),
    ],
    ...(isControlPlane ? { configurationHash } : {}),
    nodeInfo: {
      node_id: ctx.nodeId,
      hostname: hostname(),
      configuration: config as unknown as Record<string, unknown>,
      // `plugins` as enabled on this node, custom ones included (Kong's available_on_server).
      plugins: Object.fromEntries(plugins.map((p) => [p.name, { version: p.version }])),
    },
    tls: tls ? { cert: firstPem(tls.cert), key: firstPem(tls.key) } : undefined,
    log: { info: log.info, warn: log.warn, error: log.error },
  });
}

function firstPem(value: unknown): string {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : String(first);
}
