// `hybrid quickstart`: a local control plane and data plane on embedded defaults, a sample upstream, service
// and route configured through the Admin API, and one request proxied through the data plane.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ExitCode, HybridError } from '../errors.js';
import { freePort } from '../http/free-port.js';
import { genCert } from '../pki/gen-cert.js';
import { DEFAULT_CERT_DAYS } from '../pki/self-signed.js';
import { DEFAULT_WARN_DAYS } from '../pki/index.js';
import { checkClusterStatus } from '../cluster/status-client.js';
import type { ClusterStatusReport } from '../cluster/status-report.js';
import { startDaemon, stopNode } from '../process/control.js';
import { prepareLaunch } from '../process/launch.js';

export interface QuickstartStep {
  /** What is being done, in a few words. */
  title: string;
  /** The equivalent command an operator would type. */
  command?: string;
  /** What it printed or answered. */
  output?: string;
  /** The cluster's state, for the step that shows it. */
  cluster?: ClusterStatusReport;
}

export interface QuickstartOptions {
  /** Where to put certificates, configurations and both prefixes; a new temporary directory when absent. */
  dir?: string;
  /** Called for every step as it completes. */
  onStep?: (step: QuickstartStep) => void;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the data plane to route the new configuration. */
  syncTimeoutMs?: number;
}

export interface QuickstartRequest {
  url: string;
  status: number;
  body: string;
  /** Milliseconds from the route's creation on the control plane to the first proxied 200. */
  propagationMs: number;
}

export interface Quickstart {
  dir: string;
  temporary: boolean;
  controlPlane: { prefix: string; adminUrl: string; clusterPort: number };
  dataPlane: { prefix: string; proxyUrl: string; statusUrl: string };
  request: QuickstartRequest;
  /** `hybrid cluster status` as the control plane sees it once the data plane reported the new hash. */
  cluster: ClusterStatusReport;
  /** Stops both nodes and the sample upstream; removes the directory when it was temporary. */
  stop(): Promise<void>;
}

/** Everything the quickstart made so far, so a failure (or Ctrl-C) at any step can undo it. */
interface Started {
  prefixes: string[];
  upstream: Server | null;
}

export async function runQuickstart(options: QuickstartOptions = {}): Promise<Quickstart> {
  const env = options.env ?? process.env;
  const onStep = options.onStep ?? (() => {});
  const temporary = options.dir === undefined;
  const dir = temporary ? await mkdtemp(join(tmpdir(), 'hybrid-quickstart-')) : resolve(options.dir!);
  if (!temporary) await requireEmptyDir(dir);
  const started: Started = { prefixes: [], upstream: null };
  onStep({ title: `working directory ${dir}${temporary ? ' (temporary, removed at the end)' : ''}` });
  const stopNodes = async () => {
    started.upstream?.closeAllConnections();
    await new Promise((r) => (started.upstream ? started.upstream.close(r) : r(null)));
    started.upstream = null;
    for (const prefix of started.prefixes.splice(0).reverse()) await stopNode(prefix).catch(() => {});
  };
  const stop = async () => {
    await stopNodes();
    if (temporary) await rm(dir, { recursive: true, force: true });
  };

  try {
    const cert = await genCert({
      certPath: join(dir, 'cluster.crt'),
      keyPath: join(dir, 'cluster.key'),
      days: DEFAULT_CERT_DAYS,
      force: false,
    });
    onStep({
      title: 'shared-mode cluster certificate',
      command: `hybrid gen_cert cluster.crt cluster.key --days ${DEFAULT_CERT_DAYS}`,
      output: `${cert.subject}, valid until ${cert.notAfter}`,
    });

    const [admin, clusterPort, telemetry, proxy, status, sample] = await Promise.all(
      [1, 2, 3, 4, 5, 6].map(() => freePort()),
    );
    const cpConf = join(dir, 'cp.conf');
    const dpConf = join(dir, 'dp.conf');
    await writeFile(
      cpConf,
      [
        'role = control_plane',
        'cluster_cert = cluster.crt',
        'cluster_cert_key = cluster.key',
        `admin_listen = 127.0.0.1:${admin}`,
        `cluster_listen = 127.0.0.1:${clusterPort}`,
        `cluster_telemetry_listen = 127.0.0.1:${telemetry}`,
        '',
      ].join('\n'),
    );
    await writeFile(
      dpConf,
      [
        'role = data_plane',
        'database = off',
        'cluster_cert = cluster.crt',
        'cluster_cert_key = cluster.key',
        `cluster_control_plane = 127.0.0.1:${clusterPort}`,
        `proxy_listen = 127.0.0.1:${proxy}`,
        `status_listen = 127.0.0.1:${status}`,
        '',
      ].join('\n'),
    );

    const adminUrl = `http://127.0.0.1:${admin}`;
    const proxyUrl = `http://127.0.0.1:${proxy}`;
    const statusUrl = `http://127.0.0.1:${status}`;
    for (const [role, conf, prefix] of [
      ['control plane', cpConf, join(dir, 'cp')],
      ['data plane', dpConf, join(dir, 'dp')],
    ] as const) {
      const launch = prepareLaunch({ conf, prefix, env, cwd: dir });
      const node = await startDaemon(launch.record, env);
      started.prefixes.push(node.prefix);
      onStep({
        title: `${role} started (pid ${node.pid})`,
        command: `hybrid start -c ${conf.slice(dir.length + 1)} -p ${prefix.slice(dir.length + 1)}`,
        output: node.endpoints.join('\n'),
      });
    }

    started.upstream = await startSampleUpstream(sample!);
    onStep({
      title: 'sample upstream server (echoes each request it receives)',
      output: `http://127.0.0.1:${sample}`,
    });

    const created = [
      ['/upstreams', { name: 'example-upstream' }],
      ['/upstreams/example-upstream/targets', { target: `127.0.0.1:${sample}`, weight: 100 }],
      ['/services', { name: 'example-service', host: 'example-upstream', path: '/' }],
      ['/services/example-service/routes', { name: 'example-route', paths: ['/example'] }],
    ] as const;
    let routeCreatedAt = 0;
    for (const [path, body] of created) {
      const answer = await adminCall(adminUrl, path, body);
      routeCreatedAt = Date.now();
      onStep({
        title: `created ${path.split('/').pop()!.replace(/s$/, '')}`,
        command: `curl -X POST ${adminUrl}${path} --json '${JSON.stringify(body)}'`,
        output: `HTTP 201 ${answer}`,
      });
    }

    const request = await firstProxied(`${proxyUrl}/example/hello?from=quickstart`, routeCreatedAt, {
      timeoutMs: options.syncTimeoutMs ?? 15_000,
    });
    onStep({
      title: `proxied through the data plane (configuration arrived in ${request.propagationMs} ms)`,
      command: `curl ${request.url}`,
      output: `HTTP ${request.status}\n${request.body}`,
    });

    const cluster = await healthyCluster(adminUrl, options.syncTimeoutMs ?? 15_000);
    onStep({
      title: 'the control plane sees its data plane in sync',
      command: `hybrid cluster status --admin-url ${adminUrl} --min-dps 1`,
      cluster,
    });

    return {
      dir,
      cluster,
      temporary,
      controlPlane: { prefix: join(dir, 'cp'), adminUrl, clusterPort: clusterPort! },
      dataPlane: { prefix: join(dir, 'dp'), proxyUrl, statusUrl },
      request,
      stop,
    };
  } catch (err) {
    // The directory stays, so the nodes' logs can tell what went wrong.
    await stopNodes();
    if (err instanceof HybridError && !err.hint) {
      throw new HybridError(err.code, err.message, {
        exitCode: err.exitCode,
        hint: `The nodes' logs are in ${dir}/cp/logs and ${dir}/dp/logs.`,
      });
    }
    throw err;
  }
}

async function requireEmptyDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const entries = await readdir(dir);
  if (entries.length > 0) {
    throw new HybridError('quickstart_dir_not_empty', `${dir} is not empty`, {
      hint: 'Give an empty or new directory, or leave --dir out for a temporary one.',
      exitCode: ExitCode.environment,
    });
  }
}

/** A small HTTP server that answers every request with what it received, as JSON. */
async function startSampleUpstream(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers }, null, 2);
    res.writeHead(200, { 'content-type': 'application/json' }).end(`${body}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

async function adminCall(adminUrl: string, path: string, body: object): Promise<string> {
  const res = await fetch(`${adminUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 201) {
    throw new HybridError('quickstart_admin', `POST ${path} answered ${res.status}: ${text}`);
  }
  const created = JSON.parse(text) as { id?: string; name?: string };
  return `id ${created.id}${created.name ? `, name ${created.name}` : ''}`;
}

/** Polls the proxy until the route is served (the data plane got the configuration), or times out. */
async function firstProxied(
  url: string,
  since: number,
  { timeoutMs }: { timeoutMs: number },
): Promise<QuickstartRequest> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const res = await fetch(url).catch((err: Error) => err);
    if (!(res instanceof Error)) {
      const body = await res.text();
      if (res.status === 200) return { url, status: res.status, body, propagationMs: Date.now() - since };
      last = `HTTP ${res.status} ${body.trim()}`;
    } else {
      last = res.message;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new HybridError(
    'quickstart_no_proxy',
    `the data plane did not route ${url} within ${timeoutMs} ms (last answer: ${last})`,
  );
}

/** Polls `cluster status` until the data plane is listed in sync (the registry is written about once a second). */
async function healthyCluster(adminUrl: string, timeoutMs: number): Promise<ClusterStatusReport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const report = await checkClusterStatus(adminUrl, { minDataPlanes: 1, warnDays: DEFAULT_WARN_DAYS });
    if (report.healthy || Date.now() > deadline) return report;
    await new Promise((r) => setTimeout(r, 100));
  }
}
