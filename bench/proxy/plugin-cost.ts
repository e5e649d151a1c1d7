// Benchmark: what each plugin variant of bench/proxy costs in data plane CPU per request. Real data planes
// (plugin-free and one per variant) proxy to a 100-byte nginx upstream under wrk; the data plane's CPU time
// (/proc/<pid>/stat, every thread) over a run divided by the responses wrk counted gives µs per request. Each
// variant runs right beside a plugin-free run and its cost is the median of those pairs' differences, user +
// system and user alone. Load from other processes moves CPU per request less than req/s, but on a shared
// machine still by tens of percent from one run to the next: many short rounds and --control (the spread
// between two identical plugin-free data planes) tell how far to trust a difference. For the plugin path's
// own work without sockets, precisely, see bench/proxy/plugin-path.ts.
// Usage: npm run bench:plugin-cost [-- --duration 1 --rounds 15 --connections 50 --only prometheus --control
//        --compare <checkout> --profile <dir>]
//   --control          a second plugin-free data plane measured as a variant: the noise floor of the machine
//   --together         run each variant and its plugin-free data plane at the same time, not one after the other
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
  EXTRA_PLUGIN_VARIANTS,
  PLUGIN_VARIANTS,
  cpuTimes,
  ensureTools,
  routesConfig,
  startProxy,
  startUpstream,
  stopAll,
  variantConfig,
  wrkAsync,
  type ServedProxy,
} from './harness.js';
import type { ChildProcess } from 'node:child_process';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '50' },
    /** Substring of the variant names to measure (the plugin-free data plane always runs). */
    only: { type: 'string' },
    control: { type: 'boolean', default: false },
    together: { type: 'boolean', default: false },
    compare: { type: 'string' },
    profile: { type: 'string' },
  },
});
const DURATION = Number(values.duration);
const ROUNDS = Number(values.rounds);
const CONNECTIONS = Number(values.connections);

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
  budgetUs?: number;
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

/** wrk on each target at the same time; each one's CPU per response over that run. */
async function measure(targets: readonly Target[], seconds: number): Promise<Sample[]> {
  const before = await Promise.all(targets.map((t) => cpuTimes(t.proxy.child.pid!)));
  const runs = await Promise.all(
    targets.map((t) =>
      wrkAsync(t.proxy.port, '/r5', { seconds, connections: CONNECTIONS, headers: { apikey: API_KEY } }),
    ),
  );
  const after = await Promise.all(targets.map((t) => cpuTimes(t.proxy.child.pid!)));
  return targets.map((t, i) => {
    const run = runs[i]!;
    t.served += run.requests;
    const user = after[i]!.user - before[i]!.user;
    const total = user + after[i]!.system - before[i]!.system;
    return { total: total / run.requests, user: user / run.requests, rps: run.rps, non2xx: run.non2xx };
  });
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
    const budget = t.budgetUs;
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

    const chosen = [...PLUGIN_VARIANTS, ...EXTRA_PLUGIN_VARIANTS].filter(
      (v) => values.only === undefined || v.name.includes(values.only),
    );
    const checkouts = [{ label: 'this checkout', bin: BIN, tag: '' }];
    if (values.compare) {
      const other = resolve(values.compare);
      checkouts.push({ label: other, bin: join(other, 'bin/run.js'), tag: 'compare-' });
    }
    const builds: Build[] = [];
    for (const checkout of checkouts) {
      const start = async (
        name: string,
        doc: Record<string, unknown>,
        budgetUs?: number,
      ): Promise<Target> => {
        const file = checkout.tag + name.replace(/\W+/g, '-');
        const options = profileDir
          ? [
              '--cpu-prof',
              `--cpu-prof-dir=${profileDir}`,
              `--cpu-prof-name=${file}.cpuprofile`,
              '--cpu-prof-interval=250',
            ]
          : [];
        const proxy = await startProxy(dir, file, doc, '/r5', { apikey: API_KEY }, options, checkout.bin);
        children.push(proxy.child);
        return { name, budgetUs, proxy, samples: [], diffs: [], served: 0 };
      };
      const base = await start('plugin-free', routesConfig(10, upstream.port));
      const variants: Target[] = [];
      if (values.control)
        variants.push(await start('plugin-free (control)', routesConfig(10, upstream.port)));
      for (const variant of chosen)
        variants.push(await start(variant.name, variantConfig(variant, upstream.port), variant.budgetUs));
      builds.push({ label: checkout.label, base, variants });
    }

    console.log(
      `wrk -t1 -c${CONNECTIONS} -d${DURATION}s per run, ${ROUNDS} rounds; data plane CPU (user + system) per response`,
    );
    // Warm-up (JIT, upstream pools, Redis connection) so the rounds measure steady state.
    for (const build of builds) for (const t of [build.base, ...build.variants]) await measure([t], 2);
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
          let a: Sample;
          let v: Sample;
          if (!values.together) {
            // One after the other, which one first alternating by round.
            const first = round % 2 === 0 ? build.base : variant;
            const [x] = await measure([first], DURATION);
            const [y] = await measure([first === variant ? build.base : variant], DURATION);
            [a, v] = first === variant ? [y!, x!] : [x!, y!];
          } else [a, v] = (await measure([build.base, variant], DURATION)) as [Sample, Sample];
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
