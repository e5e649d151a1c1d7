// What the proxy benchmarks share: wrk and nginx on 127.0.0.1, real data planes (`hybrid start --foreground`
// serving a declarative_config, compiled code), their configurations and the plugin variants they measure.
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../../test/helpers/tmp.js';

const execFileAsync = promisify(execFile);

export const BODY = 'x'.repeat(99) + '\n';
export const API_KEY = 'bench-key';
/** This checkout's CLI (compiled: `npm run build` first). */
export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

/** Installs wrk and nginx from Debian when missing (needs root). */
export function ensureTools(): void {
  const missing = ['wrk', 'nginx'].filter(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0,
  );
  if (missing.length === 0) return;
  console.log(`installing ${missing.join(', ')} from Debian…`);
  execFileSync(
    'sh',
    ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx-light'],
    {
      stdio: 'inherit',
    },
  );
}

/** nginx (1 worker, no access log) with `serverBlock` as its one server. */
export async function startNginx(
  dir: string,
  name: string,
  serverBlock: string,
  upstreamBlock = '',
): Promise<ChildProcess> {
  const conf = join(dir, `${name}.conf`);
  await writeFile(
    conf,
    `worker_processes 1;
daemon off;
pid ${join(dir, `${name}.pid`)};
error_log ${join(dir, `${name}.error.log`)} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  keepalive_requests 1000000;
  ${upstreamBlock}
  server {
    ${serverBlock}
  }
}
`,
  );
  const child = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'inherit' });
  return child;
}

/** The 100-byte `return 200` upstream every benchmark proxies to. */
export async function startUpstream(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = await startNginx(
    dir,
    'upstream',
    `listen 127.0.0.1:${port}; location / { return 200 '${BODY}'; }`,
  );
  await firstOk(port, '/');
  return { child, port };
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Polls until `port` answers 200 on `path`; resolves with the milliseconds it took. */
export async function firstOk(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if ((await get(port, path, headers)) === 200) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`127.0.0.1:${port}${path} did not answer 200 within ${timeoutMs} ms`);
}

export interface WrkResult {
  rps: number;
  /** Responses completed in the run. */
  requests: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: string;
}

function toMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

export interface WrkOptions {
  seconds: number;
  connections: number;
  headers?: Record<string, string>;
}

function wrkArgs(port: number, path: string, options: WrkOptions): string[] {
  const headerArgs = Object.entries(options.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  return [
    '-t1',
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    '--latency',
    ...headerArgs,
    `http://127.0.0.1:${port}${path}`,
  ];
}

function parseWrk(out: string): WrkResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const p50 = toMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '');
  const p99 = toMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '');
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const errors = /Socket errors:.*$/m.exec(out)?.[0] ?? '';
  return { rps, requests, p50, p99, non2xx, errors };
}

/** `wrk -t1 -c<connections> -d<seconds>s --latency` against 127.0.0.1:<port><path>. */
export function wrk(port: number, path: string, options: WrkOptions): WrkResult {
  const out = execFileSync('wrk', wrkArgs(port, path, options), {
    encoding: 'utf8',
    timeout: (options.seconds + 30) * 1000,
  });
  return parseWrk(out);
}

/** The same, without blocking (several wrk runs at once). */
export async function wrkAsync(port: number, path: string, options: WrkOptions): Promise<WrkResult> {
  const { stdout } = await execFileAsync('wrk', wrkArgs(port, path, options), {
    encoding: 'utf8',
    timeout: (options.seconds + 30) * 1000,
  });
  return parseWrk(stdout);
}

/** A decK file: one service, `count` routes, and `plugins` on every route. */
export function routesConfig(
  count: number,
  upstreamPort: number,
  plugins: object[] = [],
): Record<string, unknown> {
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'bench',
        url: `http://127.0.0.1:${upstreamPort}`,
        routes: Array.from({ length: count }, (_, i) => ({
          name: `route-${i}`,
          paths: [`/r${i}`],
          strip_path: false,
          ...(plugins.length > 0 ? { plugins } : {}),
        })),
      },
    ],
    consumers: [{ username: 'bench', keyauth_credentials: [{ key: API_KEY }] }],
  };
}

export interface PluginVariant {
  name: string;
  /** The largest share of the plugin-free req/s the variant may cost (issue 6). */
  budget: number;
  /** The most CPU µs per request the plugin path may add (issue 6, for a ~30 µs plugin-free path). */
  budgetUs?: number;
  /** Plugins on every route. */
  plugins: object[];
  /** Global plugins. */
  global?: object[];
}

/** The plugin variants the benchmarks measure against the same data plane without plugins. */
export const PLUGIN_VARIANTS: readonly PluginVariant[] = [
  {
    name: 'key-auth + rate-limiting (local)',
    budget: 0.15,
    budgetUs: 4,
    plugins: [
      { name: 'key-auth' },
      { name: 'rate-limiting', config: { hour: 1_000_000_000, policy: 'local' } },
    ],
  },
  {
    name: 'rate-limiting (redis)',
    budget: 0.3,
    budgetUs: 9,
    plugins: [
      {
        name: 'rate-limiting',
        config: { hour: 1_000_000_000, policy: 'redis', redis: { host: '127.0.0.1', port: 6379 } },
      },
    ],
  },
  { name: 'prometheus', budget: 0.15, budgetUs: 4, plugins: [], global: [{ name: 'prometheus' }] },
];

/**
 * Measured beside those by the CPU benchmarks: prometheus with its metric families on (its default config
 * records nothing per request, so a data plane with it takes the plugin-free path).
 */
export const EXTRA_PLUGIN_VARIANTS: readonly PluginVariant[] = [
  {
    name: 'prometheus (all metrics)',
    budget: 0.15,
    budgetUs: 4,
    plugins: [],
    global: [
      {
        name: 'prometheus',
        config: { status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true },
      },
    ],
  },
];

/** The configuration of a variant: 10 routes with its plugins. */
export function variantConfig(variant: PluginVariant, upstreamPort: number): Record<string, unknown> {
  const doc = routesConfig(10, upstreamPort, variant.plugins);
  if (variant.global) doc.plugins = variant.global;
  return doc;
}

/**
 * kong.conf of a benchmark data plane (cluster.crt/key in its working directory) whose control plane never
 * answers, so it serves what it starts with; `extra` lines are appended.
 */
export async function lonelyDataPlaneConf(proxyPort: number, extra: string[] = []): Promise<string> {
  return [
    'role = data_plane',
    'database = off',
    'cluster_cert = cluster.crt',
    'cluster_cert_key = cluster.key',
    `cluster_control_plane = 127.0.0.1:${await freePort()}`,
    `proxy_listen = 127.0.0.1:${proxyPort}`,
    ...extra,
    '',
  ].join('\n');
}

export interface ServedProxy {
  child: ChildProcess;
  port: number;
  /** From spawn to the first 200. */
  coldStartMs: number;
}

/**
 * A real data plane (`hybrid start --foreground`) serving `doc` as its declarative_config, in `dir` (which
 * holds cluster.crt and cluster.key). `nodeOptions` go to node before the CLI (e.g. --cpu-prof); `bin` is the CLI
 * to run (another checkout's, to compare builds).
 */
export async function startProxy(
  dir: string,
  name: string,
  doc: Record<string, unknown>,
  probePath: string,
  probeHeaders: Record<string, string> = {},
  nodeOptions: string[] = [],
  bin = BIN,
): Promise<ServedProxy> {
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(doc));
  const port = await freePort();
  const conf = join(dir, `${name}.conf`);
  await writeFile(
    conf,
    await lonelyDataPlaneConf(port, [
      `declarative_config = ${file}`,
      'data_plane_config_cache_mode = off',
      'log_level = crit',
    ]),
  );
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [...nodeOptions, bin, 'start', '-c', conf, '-p', join(dir, name), '--foreground'],
    {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  child.once('exit', (code) => {
    if (code !== null && code !== 0) console.error(`${name} exited with ${code}`);
  });
  await firstOk(port, probePath, probeHeaders);
  return { child, port, coldStartMs: performance.now() - started };
}

/** Stops the processes (SIGTERM) and waits for them to exit. */
export async function stopAll(children: readonly ChildProcess[]): Promise<void> {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(
    children.map((c) =>
      c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : null,
    ),
  );
}

export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU time the process (every thread) used so far in user space and in the kernel, in µs. */
export async function cpuTimes(pid: number): Promise<{ user: number; system: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime, fields 14 and 15 of proc(5).
  return {
    user: (Number(fields[11]) * 1e6) / TICKS_PER_SECOND,
    system: (Number(fields[12]) * 1e6) / TICKS_PER_SECOND,
  };
}
