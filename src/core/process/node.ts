// A running node in its role: binds the role's listeners, and stops or reloads them on request.
import type { HybridConfig } from '../config/index.js';
import { EMPTY_CONFIG_HASH } from '../cluster/protocol.js';
import { bindListeners, closeServers, type BoundServer } from '../http/listen.js';
import { answerNoRoute } from '../proxy/empty-proxy.js';
import { statusHandler } from '../status/status-api.js';
import { defaultTlsFor } from './default-cert.js';
import type { Logger } from './logger.js';
import type { PrefixLayout } from './prefix.js';

export interface NodeContext {
  config: HybridConfig;
  layout: PrefixLayout;
  nodeId: string;
  logger: Logger;
}

export interface RunningNode {
  /** Listeners bound, as `name url` pairs, for the start-up message. */
  endpoints: string[];
  /** Graceful: stop accepting, let requests in flight finish for up to `graceMs`. */
  stop(graceMs: number): Promise<void>;
}

export async function startNode(ctx: NodeContext): Promise<RunningNode> {
  const { config, logger } = ctx;
  const servers: BoundServer[] = [];
  const endpoints: string[] = [];
  const record = (name: string, bound: BoundServer[]) => {
    servers.push(...bound);
    for (const b of bound) {
      const scheme = b.listener.ssl ? 'https' : 'http';
      const host = b.listener.host.includes(':') ? `[${b.listener.host}]` : b.listener.host;
      endpoints.push(`${name} ${scheme}://${host}:${b.port}`);
    }
  };

  try {
    if (config.role === 'data_plane') {
      // No configuration source is wired yet: the proxy answers as Kong does with an empty config.
      const configHash = (): string | null => null;
      const tls = config.proxy_listen.some((l) => l.ssl) ? await defaultTlsFor(ctx, 'proxy') : undefined;
      record('proxy', await bindListeners('proxy', config.proxy_listen, answerNoRoute, tls));
      if (config.status_listen.length > 0) {
        const handler = statusHandler({ configHash, activeConnections: () => 0 });
        const statusTls = config.status_listen.some((l) => l.ssl)
          ? await defaultTlsFor(ctx, 'status')
          : undefined;
        record('status', await bindListeners('status', config.status_listen, handler, statusTls));
      }
      logger.notice(`data plane ${ctx.nodeId} serving an empty configuration (hash ${EMPTY_CONFIG_HASH})`);
    } else {
      logger.notice(`${config.role} ${ctx.nodeId} started`);
    }
  } catch (err) {
    await closeServers(servers, 0);
    throw err;
  }

  return {
    endpoints,
    stop: async (graceMs) => {
      await closeServers(servers, graceMs);
    },
  };
}
