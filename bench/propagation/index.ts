// Propagation benchmark: one real control plane (the CLI, SQLite in a temp prefix) and N data planes (the real
// cluster client, many in this process) over real mTLS WebSockets. Measures the time from an Admin API write
// returning to every data plane serving the new hash, the frame each data plane receives, the control plane's
// memory per idle data plane, and that each version is serialised once.
// Usage: npm run bench:propagation
//        node --import tsx bench/propagation/index.ts [--sizes 10,100,500] [--changes 20] [--base 50]
import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { startClusterClient, type ClusterClient } from '../../src/core/cluster/data-plane.js';
import { decodeReconfigure } from '../../src/core/cluster/frames.js';
import { EMPTY_CONFIG_HASH, MessageType, OUTLET_PATH } from '../../src/core/cluster/protocol.js';
import { loadConfig } from '../../src/core/config/index.js';
import { BUNDLED_PLUGINS } from '../../src/core/plugins/registry.js';
import { Logger } from '../../src/core/process/logger.js';
import { PACKAGE_VERSION } from '../../src/core/version.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,100,500' },
    changes: { type: 'string', default: '20' },
    /** Services (each with a route) in the configuration before measuring, so frames have a realistic size. */
    base: { type: 'string', default: '50' },
    /**
     * `light` (default): each simulated data plane speaks the protocol (mTLS WebSocket, basic_info, pings with
     * its hash) and frames are decoded and hash-checked once per content, since in a real fleet every data
     * plane does that on its own CPU in parallel; `real`: N instances of the data plane's cluster client,
     * each decoding and hashing every frame itself, serially on this process's one thread.
     */
    client: { type: 'string', default: 'light' },
  },
});
const CLIENT = values.client === 'real' ? 'real' : 'light';
const SIZES = values.sizes.split(',').map(Number);
const CHANGES = Number(values.changes);
const BASE = Number(values.base);
/** The whole run stays under three minutes; each wait is bounded too. */
const DEADLINE = Date.now() + 170_000;
const WAIT_MS = 30_000;
const CONNECT_WAVE = 50;
const TARGET = { n: 500, p99Ms: 500, kbPerIdleDp: 150 };

const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

function cli(args: string[], cwd: string): string {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env },
  });
  if (result.status !== 0)
    throw new Error(`hybrid ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function until<T>(
  probe: () => T | Promise<T>,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<NonNullable<T>> {
  const deadline = Math.min(Date.now() + timeoutMs, DEADLINE);
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Resident set size of a process, in bytes (Linux). */
function rss(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** Decoded frames by content: the first simulated data plane to receive a frame pays for checking it. */
const decoded = new Map<string, { hash: string; ms: number }>();
const shared = { cert: '', key: '' };

function verifyOnce(frame: Buffer): string {
  const id = createHash('sha256').update(frame).digest('hex');
  let entry = decoded.get(id);
  if (!entry) {
    const start = performance.now();
    const hash = decodeReconfigure(frame, 16 * 1024 * 1024).config_hash;
    entry = { hash, ms: performance.now() - start };
    decoded.set(id, entry);
  }
  return entry.hash;
}

/** One data plane reduced to the wire protocol; it trusts the control plane (the real client checks it). */
function lightDataPlane(
  clusterPort: number,
  plugins: { name: string; version: string }[],
  apply: (hash: string) => void,
): ClusterClient {
  const query = new URLSearchParams({
    node_id: randomUUID(),
    node_hostname: 'bench',
    node_version: PACKAGE_VERSION,
  });
  const ws = new WebSocket(`wss://127.0.0.1:${clusterPort}${OUTLET_PATH}?${query}`, {
    cert: shared.cert,
    key: shared.key,
    servername: 'kong_clustering',
    rejectUnauthorized: false,
    handshakeTimeout: 20_000,
  } as WebSocket.ClientOptions);
  let open = false;
  ws.on('open', () => {
    open = true;
    ws.send(JSON.stringify({ type: MessageType.basicInfo, plugins, labels: {} }));
    ws.ping(EMPTY_CONFIG_HASH);
  });
  ws.on('message', (data, isBinary) => {
    if (!isBinary) return;
    const hash = verifyOnce(data as Buffer);
    apply(hash);
    ws.ping(hash);
  });
  ws.on('error', (err) => process.stderr.write(`simulated data plane: ${err.message}\n`));
  ws.on('close', () => (open = false));
  return { connected: () => open, updateCertificates: () => undefined, close: async () => ws.terminate() };
}

interface ControlPlane {
  prefix: string;
  admin: number;
  cluster: number;
  pid: number;
  log: () => string;
}

async function startControlPlane(dir: string, name: string): Promise<ControlPlane> {
  const [admin, cluster, telemetry] = [await freePort(), await freePort(), await freePort()];
  const conf = join(dir, `${name}.conf`);
  writeFileSync(
    conf,
    [
      'role = control_plane',
      'log_level = info',
      'cluster_cert = shared.crt',
      'cluster_cert_key = shared.key',
      `admin_listen = 127.0.0.1:${admin}`,
      `cluster_listen = 127.0.0.1:${cluster}`,
      `cluster_telemetry_listen = 127.0.0.1:${telemetry}`,
      '',
    ].join('\n'),
  );
  const prefix = join(dir, name);
  cli(['start', '-c', conf, '-p', prefix], dir);
  const pid = Number(readFileSync(join(prefix, 'pids', 'hybrid.pid'), 'utf8').trim());
  return { prefix, admin, cluster, pid, log: () => readFileSync(join(prefix, 'logs', 'error.log'), 'utf8') };
}

/** One Admin API write on its own connection (no keep-alive race with the server's idle timeout). */
function post(cp: ControlPlane, path: string, body: unknown): Promise<void> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: cp.admin,
        path,
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk));
        res.on('end', () =>
          res.statusCode === 201 ? resolve() : reject(new Error(`POST ${path}: ${res.statusCode} ${text}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Every "config version N (hash H, B bytes)" line the control plane logged. */
function versionLines(cp: ControlPlane): { version: number; hash: string; bytes: number }[] {
  return [...cp.log().matchAll(/config version (\d+) \(hash ([0-9a-f]{32}), (\d+) bytes\)/g)].map((m) => ({
    version: Number(m[1]),
    hash: m[2]!,
    bytes: Number(m[3]),
  }));
}

interface Row {
  n: number;
  allP50: number;
  allP99: number;
  dpP50: number;
  dpP99: number;
  frameBytes: number;
  rssPerDp: number;
  serialisations: string;
  connectMs: number;
}

async function measure(dir: string, n: number): Promise<Row> {
  const cp = await startControlPlane(dir, `cp-${n}`);
  const clients: ClusterClient[] = [];
  try {
    for (let i = 0; i < BASE; i += 1) {
      await post(cp, '/services', { name: `base-${i}`, url: `http://127.0.0.1:9/${i}` });
      await post(cp, `/services/base-${i}/routes`, { name: `base-route-${i}`, paths: [`/base/${i}`] });
    }
    const latestHash = () => versionLines(cp).at(-1)?.hash;
    const baseHash = await until(() => {
      const last = versionLines(cp).at(-1);
      return last && last.version >= BASE * 2 ? last.hash : undefined;
    }, 'the base configuration');
    const rssBefore = rss(cp.pid);

    const dpConf = join(dir, 'dp.conf');
    writeFileSync(
      dpConf,
      [
        'role = data_plane',
        'database = off',
        'cluster_cert = shared.crt',
        'cluster_cert_key = shared.key',
        `cluster_control_plane = 127.0.0.1:${cp.cluster}`,
        '',
      ].join('\n'),
    );
    const loaded = loadConfig({ path: dpConf, env: {}, cwd: dir, searchPaths: [] });
    if (!loaded.valid)
      throw new Error(`data plane config: ${loaded.errors.map((e) => e.message).join('; ')}`);
    const silent = new Logger('warn', [{ write: (line) => void process.stderr.write(line) }]);
    const served: (string | null)[] = Array.from({ length: n }, () => null);
    const appliedAt: number[] = Array.from({ length: n }, () => 0);
    const plugins = BUNDLED_PLUGINS.map((name) => ({ name, version: PACKAGE_VERSION }));

    const connectStart = performance.now();
    for (let i = 0; i < n; i += 1) {
      // Data planes join in waves, as a fleet rolls out; hundreds of simultaneous TLS handshakes on one
      // shared core would only measure this process's queue.
      if (i > 0 && i % CONNECT_WAVE === 0) {
        await until(() => clients.every((c) => c.connected()), `wave of ${CONNECT_WAVE} connected`);
      }
      const apply = (hash: string) => {
        served[i] = hash;
        appliedAt[i] = performance.now();
      };
      clients.push(
        CLIENT === 'real'
          ? startClusterClient({
              config: loaded.config,
              nodeId: randomUUID(),
              version: PACKAGE_VERSION,
              plugins,
              logger: silent,
              currentHash: () => served[i]!,
              apply: async (_table, hash) => apply(hash),
            })
          : lightDataPlane(cp.cluster, plugins, apply),
      );
    }
    await until(() => served.every((h) => h === baseHash), `${n} data planes on the base configuration`);
    const connectMs = performance.now() - connectStart;
    // Idle: connected, synced, nothing in flight; give the control plane a moment to release handshake buffers.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const rssPerDp = (rss(cp.pid) - rssBefore) / n;

    const versionsBefore = versionLines(cp).length;
    const allDp: number[] = [];
    const perDp: number[] = [];
    for (let k = 0; k < CHANGES; k += 1) {
      const previous = latestHash();
      await post(cp, '/services', { name: `change-${k}`, url: `http://127.0.0.1:9/change/${k}` });
      const returned = performance.now();
      const next = await until(() => {
        const hash = latestHash();
        return hash !== previous ? hash : undefined;
      }, `change ${k} announced`);
      await until(() => served.every((h) => h === next), `change ${k} on all ${n} data planes`);
      // A data plane may apply before the HTTP response is read; that counts as no delay.
      const delays = appliedAt.map((t) => Math.max(0, t - returned));
      perDp.push(...delays);
      allDp.push(Math.max(...delays));
    }
    const changeLines = versionLines(cp).slice(versionsBefore);
    const versions = new Set(changeLines.map((l) => l.version));
    return {
      n,
      allP50: percentile(allDp, 50),
      allP99: percentile(allDp, 99),
      dpP50: percentile(perDp, 50),
      dpP99: percentile(perDp, 99),
      frameBytes: changeLines.reduce((sum, l) => sum + l.bytes, 0) / changeLines.length,
      rssPerDp,
      serialisations: `${changeLines.length}/${versions.size}`,
      connectMs,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    cli(['stop', '-p', cp.prefix], dir);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'hybrid-bench-propagation-'));
try {
  cli(['gen_cert', 'shared.crt', 'shared.key'], dir);
  shared.cert = readFileSync(join(dir, 'shared.crt'), 'utf8');
  shared.key = readFileSync(join(dir, 'shared.key'), 'utf8');
  console.log(
    `propagation (${CLIENT} clients): ${CHANGES} changes per size, ${BASE} services + ${BASE} routes preloaded, ` +
      `load average ${loadavg()[0]!.toFixed(1)} on this machine, ${new Date().toISOString()}`,
  );
  const rows: Row[] = [];
  for (const n of SIZES) rows.push(await measure(dir, n));
  const header = [
    'DPs',
    'connect ms',
    'all-DP p50',
    'all-DP p99',
    'per-DP p50',
    'per-DP p99',
    'frame B/DP/change',
    'CP RSS KB/idle DP',
    'serialised/versions',
  ];
  console.log(header.map((h, i) => (i === 0 ? h.padEnd(5) : h.padStart(h.length + 2))).join(''));
  for (const r of rows) {
    const cells = [
      r.connectMs.toFixed(0),
      r.allP50.toFixed(1),
      r.allP99.toFixed(1),
      r.dpP50.toFixed(1),
      r.dpP99.toFixed(1),
      r.frameBytes.toFixed(0),
      (r.rssPerDp / 1024).toFixed(1),
      r.serialisations,
    ];
    console.log(String(r.n).padEnd(5) + cells.map((c, i) => c.padStart(header[i + 1]!.length + 2)).join(''));
  }
  const target = rows.find((r) => r.n === TARGET.n);
  if (target) {
    const p99ok = target.allP99 <= TARGET.p99Ms;
    const memOk = target.rssPerDp / 1024 <= TARGET.kbPerIdleDp;
    console.log(
      `targets at N=${TARGET.n}: all-DP p99 ≤ ${TARGET.p99Ms} ms: ${p99ok ? 'ok' : 'OVER'} (${target.allP99.toFixed(1)}); ` +
        `≤ ${TARGET.kbPerIdleDp} KB per idle DP: ${memOk ? 'ok' : 'OVER'} (${(target.rssPerDp / 1024).toFixed(1)})`,
    );
  }
  console.log(
    'latencies in ms from the Admin API write returning; "all-DP" = until the last data plane applied it',
  );
  if (CLIENT === 'light') {
    const costs = [...decoded.values()].map((d) => d.ms);
    console.log(
      `each data plane also decodes and hash-checks a frame on its own CPU: p50 ${percentile(costs, 50).toFixed(1)} ms, ` +
        `max ${Math.max(...costs).toFixed(1)} ms here (not in the latencies above; --client real includes it, serialised)`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
