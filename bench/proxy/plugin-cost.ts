// Benchmark: what each plugin variant of bench/proxy costs in data plane CPU per request. Real data planes
// (plugin-free and one per variant) proxy to a 100-byte nginx upstream under wrk; the data plane's CPU time
// (/proc/<pid>/stat, every thread) over a run divided by the responses wrk counted gives µs per request. Each
// variant runs right beside a plugin-free run, each measured run after a warm-up run. Load from other processes
// moves CPU per request less than req/s, but on a shared machine still by tens of percent from one run to the
// next, and only ever upwards: a data plane's fastest run is its figure, and a variant's cost its fastest run
// over the plugin-free one's (the median of the pairs' differences is printed beside it). Many short rounds
// give each data plane quiet runs; --control (two identical plugin-free data planes) shows what is left of
// the noise. For the plugin path's own work without sockets, steadier still, see plugin-path.ts.
// Usage: npm run bench:plugin-cost [-- --duration 1 --rounds 15 --connections 50 --only prometheus --control
//        --compare <checkout> --profile <dir>]
//   --control          a second plugin-free data plane measured as a variant: the noise floor of the machine
//   --warm <s>         unmeasured load on a data plane right before each of its measured runs (default 1)
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
  wrk,
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
    warm: { type: 'string', default: '1' },
    compare: { type: 'string' },
    profile: { type: 'string' },
  },
});
const DURATION = Number(values.duration);
const ROUNDS = Number(values.rounds);
const CONNECTIONS = Number(values.connections);
/** Seconds of unmeasured load right before each measured run. */
const WARM = Number(values.warm);

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

/** wrk on a target; its CPU per response over that run. */
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

/** A target's fastest run (other load only ever adds CPU to a run), user + system and user. */
const fastest = (t: Target) => ({
  total: Math.min(...t.samples.map((s) => s.total)),
  user: Math.min(...t.samples.map((s) => s.user)),
});

/** A variant's cost: its fastest run over the plugin-free one's, and the median of its pairs' differences. */
function costOf(t: Target, base: Target) {
  const [v, a] = [fastest(t), fastest(base)];
  return {
    total: v.total - a.total,
    user: v.user - a.user,
    pairedTotal: median(t.diffs.map((d) => d.total)),
    pairedUser: median(t.diffs.map((d) => d.user)),
  };
}

function printBuild(build: Build): void {
  const rps = (t: Target) => Math.round(median(t.samples.map((s) => s.rps)));
  const non2xx = (t: Target) => {
    const n = t.samples.reduce((sum, s) => sum + s.non2xx, 0);
    return n > 0 ? ` (${n} non-2xx)` : '';
  };
  const us = (n: number) => n.toFixed(1);
  console.log(
    `\n${build.label}: µs of data plane CPU per request, user + system / user. Other load only ever adds CPU ` +
      "to a run, so a data plane's fastest run is its figure; the median run and the median of the pairs' " +
      'differences are beside it.',
  );
  console.log(
    '| data plane | fastest run | cost over plugin-free | median run | median of pair differences | budget | req/s |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const t of [build.base, ...build.variants]) {
    const f = fastest(t);
    const mid = `${us(median(t.samples.map((s) => s.total)))} / ${us(median(t.samples.map((s) => s.user)))}`;
    let cost = '';
    let paired = '';
    if (t !== build.base) {
      const c = costOf(t, build.base);
      cost = `${us(c.total)} / ${us(c.user)}`;
      paired = `${us(c.pairedTotal)} / ${us(c.pairedUser)}`;
    }
    const budget = t.budgetUs === undefined ? '' : `≤ ${t.budgetUs}`;
    console.log(
      `| ${t.name} | ${us(f.total)} / ${us(f.user)} | ${cost} | ${mid} | ${paired} | ${budget} | ${rps(t)}${non2xx(t)} |`,
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
      `wrk -t1 -c${CONNECTIONS} -d${DURATION}s per run after ${WARM}s of warm-up, ${ROUNDS} rounds; data plane CPU per response`,
    );
    // Warm-up (JIT, upstream pools, Redis connection) so the rounds measure steady state.
    for (const build of builds) for (const t of [build.base, ...build.variants]) await measure(t, 2);
    // Each variant runs right beside its build's plugin-free data plane (which of the two first alternates by
    // round, the builds of a variant one after the other), so load from other processes hits both runs of a pair
    // alike; each measured run comes right after a warm-up run of its own data plane, so neither has idled (an
    // idle V8 shrinks its heap, and the CPU caches go to other processes).
    const warmed = async (target: Target): Promise<Sample> => {
      await measure(target, WARM);
      return measure(target, DURATION);
    };
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
          if (round % 2 === 0) {
            a = await warmed(build.base);
            v = await warmed(variant);
          } else {
            v = await warmed(variant);
            a = await warmed(build.base);
          }
          build.base.samples.push(a);
          variant.samples.push(v);
          variant.diffs.push({ total: v.total - a.total, user: v.user - a.user });
          const tag = builds.length > 1 ? ` [${build.label}]` : '';
          line.push(
            `${variant.name}${tag} ${v.total.toFixed(1)}/${v.user.toFixed(1)} vs ${a.total.toFixed(1)}/${a.user.toFixed(1)}`,
          );
        }
      }
      console.log(`round ${round + 1} (µs user + system / user, variant vs plugin-free): ${line.join('; ')}`);
    }

    for (const build of builds) printBuild(build);
    if (builds.length > 1) {
      console.log(
        `\ncost over plugin-free (fastest runs), µs user + system / user: ${builds[1]!.label} → this checkout`,
      );
      const costs = (t: Target, base: Target) => {
        const c = costOf(t, base);
        return `${c.total.toFixed(1)} / ${c.user.toFixed(1)}`;
      };
      for (let i = 0; i < count; i++) {
        const [now, then] = [builds[0]!.variants[i]!, builds[1]!.variants[i]!];
        console.log(`  ${now.name}: ${costs(then, builds[1]!.base)} → ${costs(now, builds[0]!.base)}`);
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
