// Commands that act on a node from outside: start it as a daemon, stop, quit, reload, ask its health.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ExitCode, HybridError } from '../errors.js';
import { isAlive, alreadyRunning, runningPid } from './pid-file.js';
import { prefixLayout, preparePrefix, type PrefixLayout } from './prefix.js';
import { writeLaunchRecord, type LaunchRecord, type ReloadAck } from './reload.js';
import type { ChildMessage } from './run.js';

const POLL_MS = 50;

export class NodeNotRunningError extends HybridError {
  constructor(
    layout: PrefixLayout,
    exitCode: (typeof ExitCode)['invalid' | 'environment'] = ExitCode.environment,
  ) {
    super('node_not_running', `no node is running in prefix ${layout.root}`, {
      hint: 'Check the prefix (-p), or start one with hybrid start.',
      exitCode,
    });
  }
}

export interface DaemonStarted {
  pid: number;
  nodeId: string;
  endpoints: string[];
  prefix: string;
}

/**
 * Starts the node as a detached child running `start --foreground` and returns once it listens.
 * A child that fails reports its error over IPC (or its output is read from the prefix) and this throws it.
 */
export async function startDaemon(
  record: LaunchRecord,
  env: NodeJS.ProcessEnv,
  timeoutMs = 30_000,
): Promise<DaemonStarted> {
  const layout = prefixLayout(record.prefix);
  const childArgs = [
    'start',
    '--daemon-child',
    '-p',
    layout.root,
    ...(record.confPath ? ['-c', record.confPath] : []),
    ...(record.runMigrations ? ['--run-migrations'] : []),
  ];
  const existing = await runningPid(layout.pidFile);
  if (existing !== null) throw alreadyRunning(layout.pidFile, existing);
  await preparePrefix(layout);

  const out = openSync(layout.stdLog, 'a', 0o644);
  const child = spawn(process.execPath, [process.argv[1]!, ...childArgs], {
    detached: true,
    env,
    stdio: ['ignore', out, out, 'ipc'],
  });
  closeSync(out);

  const message = await new Promise<ChildMessage | { type: 'exit'; code: number | null }>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      resolve({
        type: 'error',
        code: 'start_timeout',
        message: `the node did not report ready within ${timeoutMs} ms`,
      });
    }, timeoutMs);
    child.once('message', (m: ChildMessage) => {
      clearTimeout(timer);
      resolve(m);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ type: 'exit', code });
    });
  });

  if (message.type === 'ready') {
    child.disconnect();
    child.unref();
    return { pid: message.pid, nodeId: message.nodeId, endpoints: message.endpoints, prefix: layout.root };
  }
  if (message.type === 'error') throw new HybridError(message.code, message.message, { hint: message.hint });
  const output = (await readFile(layout.stdLog, 'utf8').catch(() => ''))
    .trim()
    .split('\n')
    .slice(-20)
    .join('\n');
  throw new HybridError(
    'start_failed',
    `the node exited (code ${message.code}) before it was ready${output ? `:\n${output}` : ''}`,
    {
      hint: `See ${layout.stdLog} and the error log in ${layout.logsDir}.`,
    },
  );
}

export interface StopResult {
  pid: number;
  prefix: string;
  /** How the node ended: by the first signal, or only after SIGTERM when a quit's timeout ran out. */
  forced: boolean;
}

/** `stop`: SIGTERM, then wait for the process to exit. */
export async function stopNode(prefix: string, timeoutMs = 10_000): Promise<StopResult> {
  const layout = prefixLayout(prefix);
  const pid = await requireRunning(layout);
  process.kill(pid, 'SIGTERM');
  if (!(await waitForExit(pid, timeoutMs))) {
    throw new HybridError('stop_timeout', `node (pid ${pid}) did not stop within ${timeoutMs} ms`, {
      hint: `Inspect it; as a last resort: kill -9 ${pid}`,
    });
  }
  return { pid, prefix: layout.root, forced: false };
}

/** `quit`: SIGQUIT (finish requests in flight), and SIGTERM once `timeoutMs` has passed. */
export async function quitNode(prefix: string, timeoutMs: number): Promise<StopResult> {
  const layout = prefixLayout(prefix);
  const pid = await requireRunning(layout);
  process.kill(pid, 'SIGQUIT');
  if (await waitForExit(pid, timeoutMs)) return { pid, prefix: layout.root, forced: false };
  process.kill(pid, 'SIGTERM');
  if (await waitForExit(pid, 10_000)) return { pid, prefix: layout.root, forced: true };
  throw new HybridError('stop_timeout', `node (pid ${pid}) did not stop after SIGTERM`, {
    hint: `kill -9 ${pid}`,
  });
}

export interface HealthResult {
  healthy: boolean;
  pid: number | null;
  prefix: string;
}

export async function nodeHealth(prefix: string): Promise<HealthResult> {
  const layout = prefixLayout(prefix);
  const pid = await runningPid(layout.pidFile);
  return { healthy: pid !== null, pid, prefix: layout.root };
}

/** `reload`: record how to load the new configuration, SIGHUP, and wait for the node's answer. */
export async function reloadNode(
  record: LaunchRecord,
  timeoutMs = 10_000,
): Promise<ReloadAck & { pid: number }> {
  const layout = prefixLayout(record.prefix);
  const pid = await requireRunning(layout);
  const requestId = randomUUID();
  await writeLaunchRecord(layout, { ...record, requestId });
  process.kill(pid, 'SIGHUP');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ack = await readFile(layout.reloadAckFile, 'utf8')
      .then((text) => JSON.parse(text) as ReloadAck)
      .catch(() => null);
    if (ack?.requestId === requestId) return { ...ack, pid };
    await delay(POLL_MS);
  }
  throw new HybridError(
    'reload_timeout',
    `node (pid ${pid}) did not acknowledge the reload within ${timeoutMs} ms`,
    {
      hint: `See the error log in ${layout.logsDir}.`,
    },
  );
}

async function requireRunning(layout: PrefixLayout): Promise<number> {
  const pid = await runningPid(layout.pidFile);
  if (pid === null) throw new NodeNotRunningError(layout);
  return pid;
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await delay(POLL_MS);
  }
  return !isAlive(pid);
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
