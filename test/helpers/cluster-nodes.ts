// Control plane and data plane processes for cluster tests: write kong.conf, start through the CLI, read logs and status.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runningPid } from '../../src/core/process/pid-file.js';
import { prefixLayout } from '../../src/core/process/prefix.js';
import { runCli, type CliResult } from './cli.js';
import { freePort } from './tmp.js';

/** Fast pings and reconnects, so tests wait on events, not on Kong's 30 s intervals. */
export const FAST_CLUSTER_ENV = {
  HYBRID_CLUSTER_PING_INTERVAL_MS: '300',
  HYBRID_CLUSTER_PING_TIMEOUT_MS: '3000',
  HYBRID_CLUSTER_RECONNECT_MIN_MS: '100',
};

export interface ClusterNode {
  prefix: string;
  conf: string;
  /** Data planes: status_listen port. */
  status?: number;
  /** Control planes: admin_listen and cluster_listen ports. */
  admin?: number;
  cluster?: number;
}

export type ControlPlane = ClusterNode & { admin: number; cluster: number };
export type DataPlane = ClusterNode & { status: number };

/** The node's error log (empty until the node has written one). */
export const nodeLog = (node: Pick<ClusterNode, 'prefix'>): string => {
  const path = join(node.prefix, 'logs', 'error.log');
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
};

/** The id the node keeps in its prefix. */
export const nodeId = (node: Pick<ClusterNode, 'prefix'>): string =>
  readFileSync(prefixLayout(node.prefix).nodeIdFile, 'utf8').trim();

/** A data plane's proxy_listen port, from the kong.conf it was started with. */
export const proxyPort = (dp: Pick<ClusterNode, 'conf'>): number =>
  Number(/^proxy_listen = 127\.0\.0\.1:(\d+)$/m.exec(readFileSync(dp.conf, 'utf8'))![1]);

/** A data plane's readiness and the hash of the configuration it serves, from its status API. */
export async function dpStatus(node: DataPlane): Promise<{ ready: boolean; hash: string }> {
  const ready = await fetch(`http://127.0.0.1:${node.status}/status/ready`);
  const body = (await (await fetch(`http://127.0.0.1:${node.status}/status`)).json()) as {
    configuration_hash: string;
  };
  return { ready: ready.status === 200, hash: body.configuration_hash };
}

/** The hash the control plane announced for its latest configuration, if any yet. */
export const cpHash = (cp: Pick<ClusterNode, 'prefix'>): string | undefined =>
  [...nodeLog(cp).matchAll(/config version \d+ \(hash ([0-9a-f]{32})/g)].at(-1)?.[1];

/** POSTs one entity to the control plane's Admin API and expects it created. */
export async function adminCreate(
  cp: ControlPlane,
  path: string,
  body: Record<string, unknown>,
): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${cp.admin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 201, await res.text());
}

/** Writes configurations into `dir` and starts/stops nodes through the CLI; `stopAll` in afterEach. */
export class ClusterNodes {
  private readonly running = new Set<ClusterNode>();

  constructor(readonly dir: string) {}

  async controlPlane(name: string, lines: string[], clusterPort?: number): Promise<ControlPlane> {
    const node = {
      prefix: join(this.dir, name),
      conf: join(this.dir, `${name}.conf`),
      admin: await freePort(),
      cluster: clusterPort ?? (await freePort()),
    };
    writeFileSync(
      node.conf,
      [
        'role = control_plane',
        'log_level = info',
        ...lines,
        `admin_listen = 127.0.0.1:${node.admin}`,
        `cluster_listen = 127.0.0.1:${node.cluster}`,
        `cluster_telemetry_listen = 127.0.0.1:${await freePort()}`,
        '',
      ].join('\n'),
    );
    return node;
  }

  async dataPlane(name: string, cluster: number, lines: string[]): Promise<DataPlane> {
    const node = {
      prefix: join(this.dir, name),
      conf: join(this.dir, `${name}.conf`),
      status: await freePort(),
    };
    writeFileSync(
      node.conf,
      [
        'role = data_plane',
        'database = off',
        ...lines,
        `cluster_control_plane = 127.0.0.1:${cluster}`,
        `proxy_listen = 127.0.0.1:${await freePort()}`,
        `status_listen = 127.0.0.1:${node.status}`,
        '',
      ].join('\n'),
    );
    return node;
  }

  /** `hybrid start` for the node, expected to succeed; `args` are extra flags (`--run-migrations`). */
  async start(node: ClusterNode, env: Record<string, string> = {}, args: string[] = []): Promise<CliResult> {
    const result = await this.tryStart(node, env, args);
    assert.equal(result.exitCode, 0, result.stderr);
    return result;
  }

  /** `hybrid start` for the node, for starts that may fail: the result is the test's to check. */
  async tryStart(
    node: ClusterNode,
    env: Record<string, string> = {},
    args: string[] = [],
  ): Promise<CliResult> {
    this.running.add(node);
    return runCli(['start', '-c', node.conf, '-p', node.prefix, ...args], {
      cwd: this.dir,
      env: { ...FAST_CLUSTER_ENV, ...env },
    });
  }

  async stop(node: ClusterNode): Promise<void> {
    assert.equal((await runCli(['stop', '-p', node.prefix])).exitCode, 0);
    this.running.delete(node);
  }

  /** Stops every node still running (a crashed one's stale pid file is passed over); each stop must succeed. */
  async stopAll(): Promise<void> {
    const nodes = [...this.running];
    this.running.clear();
    // Every stop runs to its end before a failure is reported, so none is left running behind it.
    const stops = await Promise.allSettled(
      nodes.map(async (node) => {
        if ((await runningPid(prefixLayout(node.prefix).pidFile)) === null) return;
        const result = await runCli(['stop', '-p', node.prefix]);
        assert.equal(result.exitCode, 0, `stop ${node.prefix}: ${result.stderr}`);
      }),
    );
    const failed = stops.find((stop) => stop.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
