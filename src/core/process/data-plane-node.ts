// A data plane: its configuration (cache, declarative_config, then the control plane), the proxy on
// proxy_listen, /status on status_listen, and the cluster client that keeps the configuration current.
import { startClusterClient, type ClusterClient } from '../cluster/data-plane.js';
import { CLUSTER_CERTIFICATE_KEYS } from '../cluster/certificates.js';
import type { ConfigCache } from '../dataplane/config-cache.js';
import { loadInitialConfig, openNodeConfigCache } from '../dataplane/initial-config.js';
import { bindListeners, closeServers, ConnectionCount } from '../http/listen.js';
import { loadPlugins } from '../plugins/handlers.js';
import { nodeTrust, TRUST_KEYS } from '../pki/index.js';
import { certificateExpiry, dataPlaneExposition, upstreamHealth } from '../plugins/prometheus/exporter.js';
import { DATA_PLANE_COMPONENTS } from '../proxy/components.js';
import { bindProxyListeners } from '../proxy/listeners.js';
import { createProxy, type DataPlaneProxy } from '../proxy/proxy.js';
import type { DeclarativeConfig } from '../proxy/types.js';
import { statusHandler } from '../status/status-api.js';
import { PACKAGE_VERSION } from '../version.js';
import { defaultTlsFor } from './default-cert.js';
import { endpointRecorder, type NodeContext, type RunningNode } from './node.js';

export async function startDataPlane(ctx: NodeContext): Promise<RunningNode> {
  const { config, logger } = ctx;
  const { servers, endpoints, record } = endpointRecorder();
  let cluster: ClusterClient | undefined;
  let cache: ConfigCache | undefined;
  let proxy: DataPlaneProxy | undefined;
  /** The configuration being served and its hash. */
  let served: { hash: string; table: unknown } | null = null;
  // kong_data_plane_cluster_cert_expiry_timestamp; follows certificate reloads.
  let clusterCertExpiry = certificateExpiry(config.cluster_cert?.pem);

  // Configurations are built and swapped one at a time (the control plane's, and a reload's rebuild).
  let turn: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const result = turn.then(work, work);
    turn = result.catch(() => undefined);
    return result;
  };

  async function closeAll(graceMs: number): Promise<void> {
    await cluster?.close();
    await closeServers(servers, graceMs);
    await proxy?.close();
    await cache?.close();
  }

  try {
    // Custom plugins load before anything else: a listed plugin that can't be loaded stops the start.
    const plugins = await loadPlugins(config);
    // Cache → declarative_config → empty, before any listener; each configuration the control plane sends
    // is built, cached, then swapped in.
    cache = openNodeConfigCache(config, logger);
    const initial = loadInitialConfig(config, cache, logger);
    served = initial.table ? { hash: initial.hash, table: initial.table } : null;
    const configHash = (): string | null => served?.hash ?? null;
    const tls = config.proxy_listen.some((l) => l.ssl) ? await defaultTlsFor(ctx, 'proxy') : undefined;
    proxy = createProxy({
      settings: config,
      components: DATA_PLANE_COMPONENTS,
      log: logger.child('proxy'),
      version: PACKAGE_VERSION,
      plugins: plugins.definitions,
      nodeId: ctx.nodeId,
      trust: nodeTrust(config),
    });
    if (served) {
      try {
        await proxy.apply(served.table as DeclarativeConfig);
      } catch (err) {
        logger.error(`the ${initial.source} configuration cannot be served: ${(err as Error).message}`);
        served = null;
      }
    }
    // connections_active of /status: every listener's open client connections (the status request's too).
    const connections = new ConnectionCount();
    const proxyServers = await bindProxyListeners(proxy, config.proxy_listen, tls);
    connections.watch(proxyServers);
    record('proxy', proxyServers);
    if (config.status_listen.length > 0) {
      const handler = statusHandler({
        configHash,
        activeConnections: () => connections.open,
        acceptedConnections: () => connections.accepted,
        totalRequests: () => proxy!.requests,
        metrics: () =>
          dataPlaneExposition({
            nodeId: ctx.nodeId,
            version: PACKAGE_VERSION,
            controlPlaneConnected: cluster?.connected() ?? false,
            clusterCertExpiry,
            upstreamHealth: () =>
              upstreamHealth(
                ((served?.table as DeclarativeConfig | undefined)?.upstreams ?? []).map((u) => u.name),
                (name) => proxy!.runtime.balancers.forHost(name),
              ),
          }),
      });
      const statusTls = config.status_listen.some((l) => l.ssl)
        ? await defaultTlsFor(ctx, 'status')
        : undefined;
      const statusServers = await bindListeners('status', config.status_listen, handler, statusTls);
      connections.watch(statusServers);
      record('status', statusServers);
    }
    cluster = startClusterClient({
      config,
      nodeId: ctx.nodeId,
      version: PACKAGE_VERSION,
      plugins: plugins.announced,
      logger,
      currentHash: configHash,
      apply: (table, hash) =>
        inTurn(async () => {
          // Built first (a config that cannot be built is rejected whole), then cached, then swapped in:
          // a crash after the swap still restarts on this config (a failed save is logged).
          const next = await proxy!.prepare(table as DeclarativeConfig);
          await cache?.save({ hash, table });
          proxy!.activate(next);
          served = { hash, table };
        }),
    });
  } catch (err) {
    await closeAll(0);
    throw err;
  }

  return {
    endpoints,
    stop: closeAll,
    reload: async (next, applied) => {
      const certificates = applied.some((key) => CLUSTER_CERTIFICATE_KEYS.includes(key));
      // The cluster's trust is part of the node's (see nodeTrust): rotated cluster certificates change it too.
      const trust = certificates || applied.some((key) => TRUST_KEYS.includes(key));
      if (!trust) return;
      // Checked first: refused certificates leave everything as it was.
      cluster?.updateCertificates(next);
      if (certificates) clusterCertExpiry = certificateExpiry(next.cluster_cert?.pem);
      proxy?.setTrust(nodeTrust(next), next.lua_ssl_verify_depth);
      // The configuration in service is built again with the new trust (new upstream connections use it).
      await inTurn(async () => {
        if (served) proxy?.activate(await proxy.prepare(served.table as DeclarativeConfig));
      });
    },
  };
}
