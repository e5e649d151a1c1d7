// Benchmark: the plugin path's own CPU per request, without sockets. For each plugin variant of bench/proxy,
// requests go through what the proxy does for a request some plugin applies to (proxy.ts handleWithPlugins,
// forward.ts applyPluginChanges and head): the request's run, rewrite and access, the log phase's listener,
// the plugins' request header changes, header_filter, the response head and body written into a real
// ServerResponse on a socket that drops what it is given, and the log phase. The plugin-free row does only the
// response, so a variant's difference is what its plugins add. Requests go 50 at a time, one batch per
// event-loop turn, as under load. Real plugin handlers (the redis variant needs Redis at 127.0.0.1:6379).
// CPU time over many requests in one process is far steadier than a data plane under wrk on a shared machine
// (bench/proxy/plugin-cost.ts measures that); what this leaves out (sockets, undici, the router) is the same
// with or without plugins, save the bytes the plugins' headers add. Other load only ever slows a round down,
// so each target's fastest round is its figure (the median is shown beside it).
// Usage: npm run bench:plugin-path [-- --requests 30000 --rounds 15 --only redis]
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { configTableOf } from '../../src/core/declarative/config-table.js';
import { BUNDLED_HANDLERS } from '../../src/core/plugins/handlers.js';
import { PROTOCOL_HTTP, buildPluginPlan, type PluginPlan } from '../../src/core/plugins/runner/plan.js';
import { applyHeaderChanges } from '../../src/core/plugins/runner/request.js';
import { RequestRun } from '../../src/core/plugins/runner/run.js';
import { clientView, headerObject } from '../../src/core/proxy/headers.js';
import { logWhenDone } from '../../src/core/proxy/plugin-response.js';
import { trustedIps } from '../../src/core/proxy/trusted-ips.js';
import type { DeclarativeConfig, RouteEntity, ServiceEntity } from '../../src/core/proxy/types.js';
import {
  API_KEY,
  BODY,
  EXTRA_PLUGIN_VARIANTS,
  PLUGIN_VARIANTS,
  routesConfig,
  variantConfig,
} from './harness.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '30000' },
    rounds: { type: 'string', default: '15' },
    only: { type: 'string' },
  },
});
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);
/** Requests started per event-loop turn. */
const BATCH = 50;

const quiet = { debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m) };
const body = Buffer.from(BODY);
const viewOptions = { trusted: trustedIps([]), realIpHeader: 'x-real-ip' };

/** A socket that takes every write and drops it (net.Socket's own write path and byte counting run). */
function droppingSocket(): Socket {
  const socket = new Socket();
  const drop = { _write: (...args: unknown[]) => (args[2] as () => void)() };
  const dropMany = { _writev: (...args: unknown[]) => (args[1] as () => void)() };
  Object.assign(socket, drop, dropMany);
  for (const [name, value] of Object.entries({ remoteAddress: '127.0.0.1', localAddress: '127.0.0.1' }))
    Object.defineProperty(socket, name, { value });
  Object.defineProperty(socket, 'localPort', { value: 8000 });
  return socket;
}

/** The client's request as wrk sends it to the benchmark route (with the API key). */
function clientRequest(socket: Socket): IncomingMessage {
  const req = new IncomingMessage(socket);
  req.method = 'GET';
  req.url = '/r5';
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  req.rawHeaders = ['Host', '127.0.0.1:8000', 'apikey', API_KEY];
  req.headers = { host: '127.0.0.1:8000', apikey: API_KEY };
  return req;
}

/** What upstreamRequestHeaders makes of that request. */
const UPSTREAM_HEADERS = [
  'Host',
  '',
  'apikey',
  API_KEY,
  'x-forwarded-for',
  '127.0.0.1',
  'x-forwarded-proto',
  'http',
  'x-forwarded-host',
  '127.0.0.1',
  'x-forwarded-port',
  '8000',
  'x-forwarded-path',
  '/r5',
  'x-real-ip',
  '127.0.0.1',
];

/** The upstream's response head (nginx `return 200`) as forward.ts has it: a lowercased flat list. */
const upstreamHead = (): string[] => [
  'server',
  'nginx',
  'date',
  'Thu, 26 Nov 2026 12:00:00 GMT',
  'content-type',
  'application/octet-stream',
  'content-length',
  String(body.length),
  'via',
  '1.1 hybrid/0.1.0',
];

interface Target {
  name: string;
  budgetUs?: number;
  plan: PluginPlan;
  route: RouteEntity;
  service: ServiceEntity;
  samples: number[];
}

function finish(res: ServerResponse, socket: Socket): void {
  res.detachSocket(socket);
  res.emit('close');
}

/** After access: as the proxy forwards (plugin changes applied), gets the head and answers. */
function respond(run: RequestRun, req: IncomingMessage, res: ServerResponse, socket: Socket): void {
  logWhenDone(run, req, res, quiet);
  void run.request.upstreamTarget;
  if (run.request.headerChanges) applyHeaderChanges(UPSTREAM_HEADERS.slice(), run.request.headerChanges);
  run.upstreamSentAt = performance.now();
  run.upstreamAddress = '127.0.0.1:9';
  run.upstreamHeadAt = performance.now();
  // The plugins see the head as an object.
  const head = headerObject(upstreamHead());
  if (!run.filtersBody) void run.headerFilter(200, head, false);
  res.assignSocket(socket);
  res.writeHead(run.response.status, run.response.headers);
  res.end(body);
  finish(res, socket);
}

/** One request; a promise when a plugin's access went asynchronous. */
function request(target: Target, socket: Socket): Promise<void> | void {
  const startedAt = performance.now();
  const req = clientRequest(socket);
  const client = clientView(req, viewOptions);
  const res = new ServerResponse(req);
  const plugins = target.plan.forRoute(target.route.id);
  if (plugins === null) {
    res.assignSocket(socket);
    res.writeHead(200, upstreamHead());
    res.end(body);
    finish(res, socket);
    return;
  }
  const run = new RequestRun({
    plan: target.plan,
    plugins,
    req,
    client,
    route: target.route,
    service: target.service,
    upstreamPath: client.path,
    captures: null,
    protocol: PROTOCOL_HTTP,
    log: quiet,
    startedAt,
  });
  const rewriting = run.rewrite();
  if (rewriting) throw new Error('no variant has a rewrite handler');
  const access = run.access();
  if (access) return access.then(() => respond(run, req, res, socket));
  respond(run, req, res, socket);
}

async function round(target: Target, sockets: Socket[]): Promise<number> {
  const started = process.cpuUsage();
  for (let i = 0; i < REQUESTS; i += BATCH) {
    const pending: Promise<void>[] = [];
    for (let j = 0; j < BATCH; j++) {
      const p = request(target, sockets[j]!);
      if (p) pending.push(p);
    }
    if (pending.length > 0) await Promise.all(pending);
    // The next batch in a later turn, as requests arrive under load.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / REQUESTS;
}

async function main(): Promise<void> {
  const node = { id: 'bench', version: '0' };
  const load = async (name: string, doc: Record<string, unknown>, budgetUs?: number): Promise<Target> => {
    const table = configTableOf(doc, name) as unknown as DeclarativeConfig;
    const plan = await buildPluginPlan(table, { definitions: BUNDLED_HANDLERS, log: quiet, node });
    const route = table.routes!.find((r) => r.name === 'route-5')!;
    const service = table.services!.find((s) => s.id === route.service!.id)!;
    return { name, budgetUs, plan, route, service, samples: [] };
  };
  const targets = [await load('plugin-free', routesConfig(10, 9))];
  for (const variant of [...PLUGIN_VARIANTS, ...EXTRA_PLUGIN_VARIANTS]) {
    if (values.only !== undefined && !variant.name.includes(values.only)) continue;
    targets.push(await load(variant.name, variantConfig(variant, 9), variant.budgetUs));
  }
  const sockets = Array.from({ length: BATCH }, droppingSocket);
  try {
    // Warm-up (JIT, the Redis connection).
    for (const t of targets) await round(t, sockets);
    for (let r = 0; r < ROUNDS; r++) for (const t of targets) t.samples.push(await round(t, sockets));
  } finally {
    for (const t of targets) await t.plan.close();
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = { min: Math.min(...targets[0]!.samples), median: median(targets[0]!.samples) };
  console.log(
    `${REQUESTS} requests × ${ROUNDS} rounds per target, ${BATCH} per event-loop turn; CPU µs per request`,
  );
  console.log(
    '| target | fastest round | plugin path (over plugin-free) | median round | plugin path | budget |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const t of targets) {
    const min = Math.min(...t.samples);
    const mid = median(t.samples);
    const first = t === targets[0];
    const budget = t.budgetUs === undefined ? '' : `≤ ${t.budgetUs}`;
    console.log(
      `| ${t.name} | ${min.toFixed(2)} | ${first ? '' : (min - base.min).toFixed(2)} | ${mid.toFixed(2)} | ` +
        `${first ? '' : (mid - base.median).toFixed(2)} | ${budget} |`,
    );
  }
}

await main();
