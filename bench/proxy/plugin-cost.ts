// Benchmark: what each plugin variant of bench/proxy costs in data plane CPU per request. Real data planes
// (plugin-free and one per variant) proxy to a 100-byte nginx upstream under wrk; the data plane's CPU time
// (/proc/<pid>/stat, every thread) over a run divided by the responses wrk counted gives µs per request, which
// load from other processes on the machine changes far less than req/s does. Each variant runs right beside a
// plugin-free run, and its cost is the median of those pairs' differences. Both user + system time and user
// time alone are reported: most of the system time is socket reads and writes, the same work with or without
// plugins but the noisiest part on a shared machine, so the plugins' own cost shows best in user time.
// Usage: npm run bench:plugin-cost [-- --duration 3 --rounds 5 --connections 50 --only prometheus --control
//        --compare <checkout> --profile <dir>]
//   --control          a second plugin-free data plane measured as a variant: the noise floor of the machine
//   --compare <dir>    also run every data plane from another checkout (built), e.g. main, measured in the same
//                      rounds, and print both builds' costs side by side
//   --profile <dir>    run the data planes under node --cpu-prof; the profiles are written to <dir>
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { genCert } from '../../src/core/pki/gen-cert.js';
import {
  API_KEY,
  BIN,
  PLUGIN_VARIANTS,
  cpuTimes,
  ensureTools,
  routesConfig,
  startProxy,
  startUpstream,
  stopAll,
  variantConfig,
  wrk,
  type PluginVariant,
  type ServedProxy,
} from './harness.js';
import type { ChildProcess } from 'node:child_process';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '50' },
    /** Substring of the variant names to measure (the plugin-free data plane always runs). */
    only: { type: 'string' },
    control: { type: 'boolean', default: false },
    compare: { type: 'string' },
    profile: { type: 'string' },
  },
});
const DURATION = Number(values.duration);
const ROUNDS = Number(values.rounds);
const CONNECTIONS = Number(values.connections);

/** Per-request budgets of the plugin path's own CPU (issue 6, for a ~30 µs plugin-free path). */
const BUDGET_US: Record<string, number> = {
  'key-auth + rate-limiting (local)': 4,
  'rate-limiting (redis)': 9,
  prometheus: 4,
};

/** Beside the bench/proxy variants: prometheus with every metric family on (its default records none). */
const EXTRA_VARIANTS: readonly PluginVariant[] = [
  {
    name: 'prometheus (all metrics)',
    budget: 0.15,
    plugins: [],
    global: [
      {
        name: 'prometheus',
        config: { status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true },
      },
    ],
  },
];

interface Sample {
  /** User + system CPU µs per response. */
  total: number;
  /** User CPU µs per response. */
  user: number;
  rps: number;
  non2xx: number;
}

/** One data plane and what was measured on it. */
interface Target {
  name: string;
  proxy: ServedProxy;
  samples: Sample[];
  /** Against the plugin-free data plane of the same build, run beside it. */
  diffs: { total: number; user: number }[];
  /** Responses served, warm-up included (to read a CPU profile per request). */
  served: number;
}

/** The data planes of one checkout: plugin-free first, then the variants. */
interface Build {
  label: string;
  base: Target;
  variants: Target[];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const range = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;

async function measure(target: Target, seconds: number): Promise<Sample> {
  const pid = target.proxy.child.pid!;
  const before = await cpuTimes(pid);
  const run = wrk(target.proxy.port, '/r5', {
    seconds,
    connections: CONNECTIONS,
    headers: { apikey: API_KEY },
  });
  const after = await cpuTimes(pid);
  target.served += run.requests;
  const user = after.user - before.user;
  const total = user + after.system - before.system;
  return { total: total / run.requests, user: user / run.requests, rps: run.rps, non2xx: run.non2xx };
}

function printBuild(build: Build): void {
  const rps = (t: Target) => Math.round(median(t.samples.map((s) => s.rps)));
  const non2xx = (t: Target) => {
    const n = t.samples.reduce((sum, s) => sum + s.non2xx, 0);
    return n > 0 ? ` (${n} non-2xx)` : '';
  };
  const of = (t: Target, key: keyof Sample) => t.samples.map((s) => s[key]);
  const base = { total: median(of(build.base, 'total')), user: median(of(build.base, 'user')) };
  console.log(`\n${build.label}: µs of data plane CPU per request, median of the rounds (range)`);
  console.log(
    '| data plane | user + system | cost over plugin-free | user | cost over plugin-free | budget | req/s |',
  );
  console.log('|---|---|---|---|---|---|---|');
  const cell = (xs: number[]) => `${median(xs).toFixed(1)} (${range(xs)})`;
  const cost = (xs: number[], baseUs: number) =>
    `${median(xs).toFixed(1)} (${range(xs)}) ${((median(xs) / baseUs) * 100).toFixed(0)} %`;
  console.log(
    `| plugin-free | ${cell(of(build.base, 'total'))} | | ${cell(of(build.base, 'user'))} | | | ${rps(build.base)}${non2xx(build.base)} |`,
  );
  for (const t of build.variants) {
    const budget = BUDGET_US[t.name];
    console.log(
      `| ${t.name} | ${cell(of(t, 'total'))} | ${cost(
        t.diffs.map((d) => d.total),
        base.total,
      )} | ${cell(of(t, 'user'))} | ${cost(
        t.diffs.map((d) => d.user),
        base.user,
      )} | ${budget === undefined ? '' : `≤ ${budget}`} | ${rps(t)}${non2xx(t)} |`,
    );
  }
}

async function main(): Promise<void> {
  ensureTools();
  const dir = await mkdtemp(join(tmpdir(), 'hybrid-bench-plugin-cost-'));
  const profileDir = values.profile ? resolve(values.profile) : null;
  const children: ChildProcess[] = [];
  try {
    const upstream = await startUpstream(dir);
    children.push(upstream.child);
    await genCert({
      certPath: join(dir, 'cluster.crt'),
      keyPath: join(dir, 'cluster.key'),
      days: 30,
      force: false,
    });
    if (profileDir) await mkdir(profileDir, { recursive: true });

    const chosen = [...PLUGIN_VARIANTS, ...EXTRA_VARIANTS].filter(
      (v) => values.only === undefined || v.name.includes(values.only),
    );
    const checkouts = [{ label: 'this checkout', bin: BIN, tag: '' }];
    if (values.compare) {
      const other = resolve(values.compare);
      checkouts.push({ label: other, bin: join(other, 'bin/run.js'), tag: 'compare-' });
    }
    const builds: Build[] = [];
    for (const checkout of checkouts) {
      const start = async (name: string, doc: Record<string, unknown>): Promise<Target> => {
        const file = checkout.tag + name.replace(/\W+/g, '-');
        const options = profileDir
          ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${file}.cpuprofile`]
          : [];
        const proxy = await startProxy(dir, file, doc, '/r5', { apikey: API_KEY }, options, checkout.bin);
        children.push(proxy.child);
        return { name, proxy, samples: [], diffs: [], served: 0 };
      };
      const base = await start('plugin-free', routesConfig(10, upstream.port));
      const variants: Target[] = [];
      if (values.control)
        variants.push(await start('plugin-free (control)', routesConfig(10, upstream.port)));
      for (const variant of chosen)
        variants.push(await start(variant.name, variantConfig(variant, upstream.port)));
      builds.push({ label: checkout.label, base, variants });
    }

    console.log(
      `wrk -t1 -c${CONNECTIONS} -d${DURATION}s per run, ${ROUNDS} rounds; data plane CPU (user + system) per response`,
    );
    // Warm-up (JIT, upstream pools, Redis connection) so the rounds measure steady state.
    for (const build of builds) for (const t of [build.base, ...build.variants]) await measure(t, 2);
    // Each variant runs right beside its build's plugin-free data plane (which one runs first alternates by
    // round), and the builds of a variant one after the other, so load from other processes hits them alike.
    const count = builds[0]!.variants.length;
    for (let round = 0; round < ROUNDS; round++) {
      const line: string[] = [];
      for (let k = 0; k < count; k++) {
        const index = (k + round) % count;
        for (let b = 0; b < builds.length; b++) {
          const build = builds[(b + round) % builds.length]!;
          const variant = build.variants[index]!;
          const pair: [Target, Target] = round % 2 === 0 ? [build.base, variant] : [variant, build.base];
          const [first, second] = [await measure(pair[0], DURATION), await measure(pair[1], DURATION)];
          const [a, v] = round % 2 === 0 ? [first, second] : [second, first];
          build.base.samples.push(a);
          variant.samples.push(v);
          variant.diffs.push({ total: v.total - a.total, user: v.user - a.user });
          const tag = builds.length > 1 ? ` [${build.label}]` : '';
          line.push(
            `${variant.name}${tag} ${v.total.toFixed(1)}/${v.user.toFixed(1)} vs ${a.total.toFixed(1)}/${a.user.toFixed(1)}`,
          );
        }
      }
      console.log(`round ${round + 1} (µs total/user, variant vs plugin-free): ${line.join('; ')}`);
    }

    for (const build of builds) printBuild(build);
    if (builds.length > 1) {
      console.log(`\ncost over plugin-free, µs user + system / user: ${builds[1]!.label} → this checkout`);
      const costs = (t: Target) =>
        `${median(t.diffs.map((d) => d.total)).toFixed(1)} / ${median(t.diffs.map((d) => d.user)).toFixed(1)}`;
      for (let i = 0; i < count; i++) {
        const [now, then] = [builds[0]!.variants[i]!, builds[1]!.variants[i]!];
        console.log(`  ${now.name}: ${costs(then)} → ${costs(now)}`);
      }
    }
    if (profileDir) {
      console.log(
        `\nCPU profiles in ${profileDir}; responses served (warm-up included), to read them per request:`,
      );
      for (const build of builds)
        for (const t of [build.base, ...build.variants])
          console.log(`  ${builds.length > 1 ? `[${build.label}] ` : ''}${t.name}: ${t.served}`);
    }
  } finally {
    // SIGTERM lets the data planes exit normally, which is when --cpu-prof writes the profiles.
    await stopAll(children);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
