// Node-level endpoints: `/` (node info), `/status`, `/plugins/enabled`, `/endpoints`, `/schemas/...`.
import { hostname } from 'node:os';
import type { EntityName, Store } from '../store/types.js';
import type { AdminRoute } from './context.js';
import type { ServerStats } from './app.js';
import { notFound, ok } from './responses.js';

export interface PluginInfo {
  version: string;
  /** Execution priority, once the plugin's handler is known (Kong reports it). */
  priority?: number;
}

/** What `/` reports about this node; the start-up code fills it from the configuration. */
export interface NodeInfo {
  version: string;
  hostname: string;
  node_id: string | null;
  /** Effective configuration; secrets are masked before it is served. */
  configuration: Record<string, unknown>;
  /** Plugins this node can run, by name (Kong's `plugins.available_on_server`). */
  plugins: Record<string, PluginInfo>;
}

/** JSON descriptions served by `/schemas/{entity}` and `/schemas/plugins/{name}` (Kong's shape). */
export interface SchemaDocuments {
  entity(entity: string): unknown;
  plugin(name: string): unknown;
}

const SECRET_KEY = /password|secret|(^|_)key$|token/i;

/** Kong's `remove_sensitive`: masks secrets and inline private keys so `/` never leaks them. */
export function maskSensitive(configuration: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(configuration)) {
    const inlineKey = typeof value === 'string' && value.includes('PRIVATE KEY');
    out[key] =
      (SECRET_KEY.test(key) && value !== null && value !== undefined && value !== '') || inlineKey
        ? '******'
        : value;
  }
  return out;
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

/** Distinct plugin names configured anywhere in the store (Kong's `enabled_in_cluster`). */
async function pluginsInUse(store: Store): Promise<string[]> {
  const names = new Set<string>();
  let offset: string | undefined;
  do {
    const page = await store.list('plugins', { size: 1000, offset });
    for (const row of page.data) if (typeof row.name === 'string') names.add(row.name);
    offset = page.offset;
  } while (offset !== undefined);
  return [...names].sort();
}

export interface InfoRouteOptions {
  store: Store;
  nodeInfo: NodeInfo;
  stats: ServerStats;
  /** Route patterns, for `/endpoints`. */
  patterns: () => string[];
  schemas?: SchemaDocuments;
  /** A control plane's current configuration hash (`configuration_hash`, the field a data plane's /status has). */
  configurationHash?: () => string | null;
}

export function defaultNodeInfo(version: string): NodeInfo {
  return { version, hostname: hostname(), node_id: null, configuration: {}, plugins: {} };
}

export function infoRoutes(options: InfoRouteOptions): AdminRoute[] {
  const { store, nodeInfo, stats, schemas } = options;
  return [
    {
      method: 'GET',
      path: '/',
      handler: async () =>
        ok({
          tagline: 'Welcome to hybrid',
          version: nodeInfo.version,
          hostname: nodeInfo.hostname,
          node_id: nodeInfo.node_id,
          plugins: {
            available_on_server: nodeInfo.plugins,
            enabled_in_cluster: await pluginsInUse(store),
          },
          configuration: maskSensitive(nodeInfo.configuration),
          pids: { master: process.pid, workers: [process.pid] },
        }),
    },
    {
      method: 'GET',
      path: '/status',
      handler: async () => {
        let reachable = true;
        let configVersion: number | null = null;
        try {
          configVersion = await store.version();
        } catch {
          reachable = false;
        }
        const memory = process.memoryUsage();
        return ok({
          database: { reachable },
          server: {
            connections_accepted: stats.connectionsAccepted,
            connections_active: stats.connectionsActive,
            connections_handled: stats.connectionsAccepted,
            connections_reading: 0,
            connections_writing: stats.connectionsActive > 0 ? 1 : 0,
            connections_waiting: Math.max(0, stats.connectionsActive - 1),
            total_requests: stats.totalRequests,
          },
          memory: {
            rss: mebibytes(memory.rss),
            heap_used: mebibytes(memory.heapUsed),
            heap_total: mebibytes(memory.heapTotal),
          },
          config_version: configVersion,
          ...(options.configurationHash ? { configuration_hash: options.configurationHash() } : {}),
        });
      },
    },
    {
      method: 'GET',
      path: '/plugins/enabled',
      handler: () => ok({ enabled_plugins: Object.keys(nodeInfo.plugins).sort() }),
    },
    {
      method: 'GET',
      path: '/endpoints',
      handler: () => ok({ data: options.patterns().sort((a, b) => a.localeCompare(b)) }),
    },
    {
      method: 'GET',
      path: '/schemas/plugins/:name',
      handler: (req) => {
        const doc = schemas?.plugin(req.params.name!);
        return doc ? ok(doc) : notFound(`No plugin named '${req.params.name}'`);
      },
    },
    {
      method: 'GET',
      path: '/schemas/:entity',
      handler: (req) => {
        const doc = schemas?.entity(req.params.entity! as EntityName);
        return doc ? ok(doc) : notFound(`No entity named '${req.params.entity}'`);
      },
    },
  ];
}
