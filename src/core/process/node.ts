// A running node in its role: the role's module binds its listeners, and stops or reloads them on request.
// Each role's module is loaded only by nodes of that role, so a data plane never loads the store or Admin API.
import type { ConfigKey, HybridConfig } from '../config/index.js';
import type { BoundServer } from '../http/listen.js';
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
  if (ctx.config.role === 'data_plane') return (await import('./data-plane-node.js')).startDataPlane(ctx);
  return (await import('./control-plane-node.js')).startControlPlane(ctx);
}

/** Collects bound listeners and their `name url` lines. */
export function endpointRecorder() {
  const servers: BoundServer[] = [];
  const endpoints: string[] = [];
  return {
    servers,
    endpoints,
    record(name: string, bound: BoundServer[]): void {
      servers.push(...bound);
      for (const b of bound) {
        const scheme = b.listener.ssl ? 'https' : 'http';
        endpoints.push(`${name} ${scheme}://${hostPort(b.listener.host, b.port)}`);
      }
    },
  };
}

export function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
