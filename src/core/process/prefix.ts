// The prefix directory of a node: where its pid file, logs, node id and runtime files live.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Every path a running node uses inside its prefix, named once. */
export interface PrefixLayout {
  root: string;
  pidFile: string;
  logsDir: string;
  /** Where a daemonised node's stdout/stderr go, so a crash is never silent. */
  stdLog: string;
  nodeIdFile: string;
  /** How the node was started (config path, KONG_* environment, cwd): what `reload` re-reads. */
  envFile: string;
  /** The node's answer to the last reload request. */
  reloadAckFile: string;
}

export function prefixLayout(prefix: string): PrefixLayout {
  const root = resolve(prefix);
  return {
    root,
    pidFile: join(root, 'pids', 'hybrid.pid'),
    logsDir: join(root, 'logs'),
    stdLog: join(root, 'logs', 'stdio.log'),
    nodeIdFile: join(root, 'node.id'),
    envFile: join(root, '.hybrid_env.json'),
    reloadAckFile: join(root, 'pids', 'reload.ack.json'),
  };
}

/** Creates the prefix and its subdirectories (0755, like Kong's); existing ones are kept. */
export async function preparePrefix(layout: PrefixLayout): Promise<void> {
  for (const dir of [layout.root, join(layout.root, 'pids'), layout.logsDir]) {
    await mkdir(dir, { recursive: true, mode: 0o755 });
  }
}
