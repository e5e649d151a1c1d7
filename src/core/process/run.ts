// The node process itself (`hybrid start --foreground`, or the daemon's child): claim the prefix, start, obey signals.
import { writeFile } from 'node:fs/promises';
import type { HybridConfig } from '../config/index.js';
import { prefixPath } from '../config/index.js';
import { HybridError } from '../errors.js';
import { fileSink, Logger, stderrSink, type LogSink } from './logger.js';
import { readOrCreateNodeId } from './node-id.js';
import { startNode, type RunningNode } from './node.js';
import { claimPidFile, releasePidFile } from './pid-file.js';
import { prefixLayout, preparePrefix, type PrefixLayout } from './prefix.js';
import { handleReload, writeLaunchRecord, type LaunchRecord } from './reload.js';

/** Messages a daemon child sends its parent over IPC. */
export type ChildMessage =
  | { type: 'ready'; pid: number; nodeId: string; endpoints: string[] }
  | { type: 'error'; code: string; message: string; hint?: string };

export interface ForegroundOptions {
  config: HybridConfig;
  launch: LaunchRecord;
  /** Also log to stderr (foreground in a terminal, container or systemd). */
  logToStderr: boolean;
  /** Called once the node listens (the daemon parent is told through IPC). */
  onReady?: (message: Extract<ChildMessage, { type: 'ready' }>) => void;
}

/** Runs until a stop signal; resolves once the node has stopped and released its prefix. */
export async function runForeground(options: ForegroundOptions): Promise<void> {
  const { config } = options;
  const layout = prefixLayout(config.prefix);
  await preparePrefix(layout);
  await claimPidFile(layout.pidFile, process.pid);

  const sinks: LogSink[] = [];
  const errorLog = config.proxy_error_log ? fileSink(prefixPath(config, config.proxy_error_log)) : null;
  if (errorLog) sinks.push(errorLog);
  if (options.logToStderr) sinks.push(stderrSink);
  const logger = new Logger(config.log_level, sinks);

  let node: RunningNode | null = null;
  try {
    const nodeId = await readOrCreateNodeId(layout.nodeIdFile);
    await writeLaunchRecord(layout, options.launch);
    node = await startNode({ config, layout, nodeId, logger, runMigrations: options.launch.runMigrations });
    for (const endpoint of node.endpoints) logger.notice(`listening: ${endpoint}`);
    options.onReady?.({ type: 'ready', pid: process.pid, nodeId, endpoints: node.endpoints });
    await untilStopped(node, layout, logger, config);
  } finally {
    await node?.stop(0).catch(() => undefined);
    await releasePidFile(layout.pidFile, process.pid);
    await errorLog?.close();
  }
}

/** SIGTERM/SIGINT: stop now. SIGQUIT: stop accepting and let requests in flight finish. SIGHUP: reload. */
function untilStopped(
  node: RunningNode,
  layout: PrefixLayout,
  logger: Logger,
  config: HybridConfig,
): Promise<void> {
  return new Promise((resolve) => {
    let current = config;
    let stopping = false;
    const stop = (signal: NodeJS.Signals, graceMs: number) => {
      if (stopping) return;
      stopping = true;
      logger.notice(`received ${signal}, ${graceMs > 0 ? 'draining connections' : 'stopping'}`);
      for (const s of ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP'] as const) process.removeAllListeners(s);
      // A second TERM during a drain still has to win: re-arm it to stop at once.
      if (graceMs > 0) process.once('SIGTERM', () => void node.stop(0));
      node.stop(graceMs).then(() => {
        logger.notice('stopped');
        resolve();
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM', 0));
    process.on('SIGINT', () => stop('SIGINT', 0));
    process.on('SIGQUIT', () => stop('SIGQUIT', 24 * 3600_000));
    process.on('SIGHUP', () => {
      void handleReload(layout, current, logger, node.reload).then((next) => {
        current = next;
      });
    });
  });
}

/** Turns any start-up failure into the message a daemon parent prints. */
export function childError(err: unknown): Extract<ChildMessage, { type: 'error' }> {
  if (err instanceof HybridError)
    return { type: 'error', code: err.code, message: err.message, hint: err.hint };
  return { type: 'error', code: 'internal', message: (err as Error)?.stack ?? String(err) };
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, JSON.stringify(value, null, 2) + '\n', { mode: 0o644 });
}
