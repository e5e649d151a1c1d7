// Benchmark: real data planes (`hybrid start --foreground` with a declarative_config, compiled code) beside
// nginx on 127.0.0.1, with wrk -t1 -c50 -d10s against a 100-byte nginx upstream: the upstream alone, nginx as
// reverse proxy (1 worker, keepalive 64), our data plane with 10 routes and with 10,000 routes, and with
// plugins on the route (key-auth + rate-limiting local; rate-limiting redis; prometheus); then the cold start
// of the 10k-route configuration and the data plane's RSS.
// The three proxies are measured in interleaved rounds and compared by their medians, so that load from other
// processes on the machine hits them alike.
// Usage: npm run bench:proxy [-- --duration 10 --connections 50 --routes 10000 --rounds 3 --no-plugins]
// Installs wrk and nginx from Debian when missing (needs root).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { genCert } from '../../src/core/pki/gen-cert.js';
import { freePort } from '../../test/helpers/tmp.js';
import {
  API_KEY,
  BODY,
  EXTRA_PLUGIN_VARIANTS,
  PLUGIN_VARIANTS,
  ensureTools,
  firstOk,
  routesConfig,
  rssMb,
  startNginx,
  startProxy,
  startUpstream,
  stopAll,
  variantConfig,
  wrk as runWrk,
  type ServedProxy,
  type WrkResult,
} from './harness.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    routes: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
    'no-plugins': { type: 'boolean', default: false },
  },
});
const DURATION = Number(values.duration);
const CONNECTIONS = Number(values.connections);
const MANY_ROUTES = Number(values.routes);
const ROUNDS = Number(values.rounds);
const BARE = fileURLToPath(new URL('./bare-undici.ts', import.meta.url));

/** Targets from the task: ratios against nginx in the same run. */
const TARGETS = { throughput: 0.35, p99: 3, manyRoutes: 0.9, rssMb: 200 };

function wrk(
  port: number,
  path: string,
  seconds = DURATION,
  headers: Record<string, string> = {},
): WrkResult {
  return runWrk(port, path, { seconds, connections: CONNECTIONS, headers });
}

/** The per-field median of several runs (req/s, p50, p99 each on their own). */
function median(results: WrkResult[]): WrkResult {
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    rps: mid(results.map((r) => r.rps)),
    requests: mid(results.map((r) => r.requests)),
    p50: mid(results.map((r) => r.p50)),
    p99: mid(results.map((r) => r.p99)),
    non2xx: results.reduce((n, r) => n + r.non2xx, 0),
    errors: results
      .map((r) => r.errors)
      .filter(Boolean)
      .join('; '),
  };
}

function row(name: string, r: WrkResult, nginx: WrkResult | null): string {
  const ratio = nginx ? `${(r.rps / nginx.rps).toFixed(2)}×` : '';
  const p99Ratio = nginx ? `${(r.p99 / nginx.p99).toFixed(2)}×` : '';
  const extra = [r.non2xx ? `${r.non2xx} non-2xx` : '', r.errors].filter(Boolean).join('; ');
  return `| ${name} | ${Math.round(r.rps)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${ratio} | ${p99Ratio} | ${extra} |`;
}

async function main(): Promise<void> {
  ensureTools();
  const dir = await mkdtemp(join(tmpdir(), 'hybrid-bench-proxy-'));
  const children: ChildProcess[] = [];
  try {
    const upstream = await startUpstream(dir);
    children.push(upstream.child);
    const upstreamPort = upstream.port;
    const nginxProxyPort = await freePort();
    children.push(
      await startNginx(
        dir,
        'reverse-proxy',
        `listen 127.0.0.1:${nginxProxyPort};
    location / { proxy_pass http://bench_upstream; proxy_http_version 1.1; proxy_set_header Connection ""; }`,
        `upstream bench_upstream { server 127.0.0.1:${upstreamPort}; keepalive 64; }`,
      ),
    );
    await firstOk(nginxProxyPort, '/');

    await genCert({
      certPath: join(dir, 'cluster.crt'),
      keyPath: join(dir, 'cluster.key'),
      days: 30,
      force: false,
    });
    const barePort = await freePort();
    const bare = spawn(process.execPath, ['--import', 'tsx', BARE, String(upstreamPort), String(barePort)], {
      stdio: 'ignore',
    });
    children.push(bare);
    await firstOk(barePort, '/');
    const few = await startProxy(dir, 'routes-10', routesConfig(10, upstreamPort), '/r5');
    children.push(few.child);
    const many = await startProxy(
      dir,
      `routes-${MANY_ROUTES}`,
      routesConfig(MANY_ROUTES, upstreamPort),
      `/r${MANY_ROUTES >> 1}`,
    );
    children.push(many.child);
    const auth = { apikey: API_KEY };
    const variants: (ServedProxy & { name: string; budget: number })[] = [];
    if (!values['no-plugins']) {
      // prometheus's default config records nothing per request (Kong 3's): it is measured with its metric
      // families on as well.
      for (const variant of [...PLUGIN_VARIANTS, ...EXTRA_PLUGIN_VARIANTS]) {
        const doc = variantConfig(variant, upstreamPort);
        const served = await startProxy(dir, variant.name.replace(/\W+/g, '-'), doc, '/r5', auth);
        children.push(served.child);
        variants.push({ ...served, name: variant.name, budget: variant.budget });
      }
    }

    console.log(
      `wrk -t1 -c${CONNECTIONS} -d${DURATION}s on 127.0.0.1, upstream nginx return 200 (${BODY.length}-byte body), ${ROUNDS} rounds`,
    );
    const direct = wrk(upstreamPort, '/');
    // Warm-up (JIT, pools) so the rounds measure steady state.
    for (const [port, path] of [
      [few.port, '/r5'],
      [many.port, `/r${MANY_ROUTES >> 1}`],
      ...variants.map((v) => [v.port, '/r5'] as const),
    ] as const)
      wrk(port, path, 2, auth);
    const rounds: {
      nginx: WrkResult;
      bare: WrkResult;
      ours: WrkResult;
      oursMany: WrkResult;
      plugins: WrkResult[];
    }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // Every target is measured once per round, in an order rotated each round, so that no target always
      // runs first (right after nginx, or on a machine just quieted down).
      const runs: (() => WrkResult)[] = [
        () => wrk(nginxProxyPort, '/'),
        () => wrk(barePort, '/r5'),
        () => wrk(few.port, '/r5', DURATION, auth),
        () => wrk(many.port, `/r${MANY_ROUTES >> 1}`, DURATION, auth),
        ...variants.map((v) => () => wrk(v.port, '/r5', DURATION, auth)),
      ];
      const results: WrkResult[] = new Array<WrkResult>(runs.length);
      for (let k = 0; k < runs.length; k++) {
        const index = (k + i) % runs.length;
        results[index] = runs[index]!();
      }
      const [nginxRun, bareRun, oursRun, oursManyRun, ...pluginRuns] = results as [
        WrkResult,
        WrkResult,
        WrkResult,
        WrkResult,
        ...WrkResult[],
      ];
      rounds.push({
        nginx: nginxRun,
        bare: bareRun,
        ours: oursRun,
        oursMany: oursManyRun,
        plugins: pluginRuns,
      });

      const r = rounds[i]!;
      console.log(
        `round ${i + 1}: nginx ${Math.round(r.nginx.rps)} req/s p99 ${r.nginx.p99.toFixed(2)} ms; ` +
          `10 routes ${Math.round(r.ours.rps)} (${(r.ours.rps / r.nginx.rps).toFixed(2)}×) p99 ${r.ours.p99.toFixed(2)} ms; ` +
          `${MANY_ROUTES} routes ${Math.round(r.oursMany.rps)} (${(r.oursMany.rps / r.nginx.rps).toFixed(2)}×) p99 ${r.oursMany.p99.toFixed(2)} ms` +
          variants.map((v, j) => `; ${v.name} ${Math.round(r.plugins[j]!.rps)}`).join(''),
      );
    }
    const nginx = median(rounds.map((r) => r.nginx));
    const bareUndici = median(rounds.map((r) => r.bare));
    const ours = median(rounds.map((r) => r.ours));
    const oursMany = median(rounds.map((r) => r.oursMany));
    const withPlugins = variants.map((_, j) => median(rounds.map((r) => r.plugins[j]!)));
    const rss = await rssMb(many.child.pid!);

    console.log(
      '\n| target (median of rounds) | req/s | p50 ms | p99 ms | × nginx req/s | × nginx p99 | notes |',
    );
    console.log('|---|---|---|---|---|---|---|');
    console.log(row('upstream directly (one run)', direct, null));
    console.log(row('nginx reverse proxy (1 worker, keepalive 64)', nginx, nginx));
    console.log(row('bare undici Pool.stream proxy (reference, no routing)', bareUndici, nginx));
    console.log(row('hybrid data plane, 10 routes', ours, nginx));
    console.log(row(`hybrid data plane, ${MANY_ROUTES} routes`, oursMany, nginx));
    for (const [j, v] of variants.entries())
      console.log(row(`hybrid data plane, ${v.name}`, withPlugins[j]!, nginx));

    const checks: [string, boolean][] = [
      [`10 routes ≥ ${TARGETS.throughput}× nginx req/s`, ours.rps / nginx.rps >= TARGETS.throughput],
      [`10 routes p99 ≤ ${TARGETS.p99}× nginx p99`, ours.p99 <= TARGETS.p99 * nginx.p99],
      [
        `${MANY_ROUTES} routes ≥ ${TARGETS.manyRoutes}× 10 routes`,
        oursMany.rps / ours.rps >= TARGETS.manyRoutes,
      ],
      [`RSS with ${MANY_ROUTES} routes ≤ ${TARGETS.rssMb} MB`, rss <= TARGETS.rssMb],
    ];
    for (const [j, v] of variants.entries()) {
      const cost = 1 - withPlugins[j]!.rps / ours.rps;
      console.log(`${v.name}: costs ${(cost * 100).toFixed(1)} % of plugin-free req/s`);
      checks.push([`${v.name} costs ≤ ${v.budget * 100} %`, cost <= v.budget]);
    }
    console.log(
      `\ndata plane, 10 routes: ${(ours.rps / bareUndici.rps).toFixed(2)}× the bare undici proxy's req/s`,
    );
    console.log(`${MANY_ROUTES} routes: ${(oursMany.rps / ours.rps).toFixed(2)}× the 10-route req/s`);
    console.log(
      `${MANY_ROUTES}-route declarative_config: process start to first 200 ${many.coldStartMs.toFixed(0)} ms (cold start from the cache: npm run bench:cold-start)`,
    );
    console.log(`data plane RSS with ${MANY_ROUTES} routes after the run: ${rss.toFixed(0)} MB`);
    for (const [label, ok] of checks) console.log(`${ok ? 'PASS' : 'MISS'} ${label}`);
  } finally {
    await stopAll(children);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
