// Cold start of a real data plane process from a 10,000-route configuration cache, with its control plane
// unreachable: time from `hybrid start --foreground` to the first proxied 200, and the node's RSS.
// Usage: npm run build && node --import tsx bench/proxy/cold-start.ts [routes] [rounds]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { configHash } from '../../src/core/cluster/hash.js';
import { openConfigCache } from '../../src/core/dataplane/config-cache.js';
import { freePort } from '../../src/core/http/free-port.js';
import { genCert } from '../../src/core/pki/gen-cert.js';
import { largeConfig } from '../../test/integration/dataplane/large-config.js';
import { lonelyDataPlaneConf } from './harness.js';

const BIN = new URL('../../bin/run.js', import.meta.url).pathname;
const ROUTES = Number(process.argv[2] ?? 10_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const TARGET_MS = 1_500;
const TARGET_RSS_MB = 200;

const upstream = createServer((_req, res) => res.end('ok'));
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const upstreamPort = (upstream.address() as { port: number }).port;

const dir = await mkdtemp(join(tmpdir(), 'hybrid-cold-start-'));
try {
  const cert = await genCert({
    certPath: join(dir, 'cluster.crt'),
    keyPath: join(dir, 'cluster.key'),
    days: 30,
    force: false,
  });
  const table = largeConfig(ROUTES, 'bench');
  for (const service of table.services as { port: number }[]) service.port = upstreamPort;
  const hash = configHash(table).hash;

  const timings: number[] = [];
  let rssMb = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const prefix = join(dir, `dp-${round}`);
    const cache = openConfigCache({
      path: join(prefix, 'dbless.lmdb'),
      mapSize: 2 * 1024 ** 3,
      mode: 'unencrypted',
      clusterKeyPem: readFileSync(cert.key, 'utf8'),
      log: { warn: (m: string) => console.error(m), info: () => undefined },
    });
    await cache.save({ hash, table });
    await cache.close();
    const proxyPort = await freePort();
    const conf = join(dir, `dp-${round}.conf`);
    await writeFile(conf, await lonelyDataPlaneConf(proxyPort));

    const started = performance.now();
    const node = spawn(process.execPath, [BIN, 'start', '-c', conf, '-p', prefix, '--foreground'], {
      cwd: dir,
      stdio: 'ignore',
    });
    try {
      // The last route of the configuration: a router that scanned would take longest to find it.
      const last = ROUTES - 1;
      const url = `http://127.0.0.1:${proxyPort}/s${Math.floor(last / 10)}/r${last % 10}`;
      const headers = { host: `h${Math.floor(last / 10)}.example.com` };
      for (;;) {
        const status = await get(url, headers);
        if (status === 200) break;
        if (performance.now() - started > 30_000) {
          const log = readFileSync(join(prefix, 'logs', 'error.log'), 'utf8');
          throw new Error(`no 200 within 30 s (last status ${status}); the node log:\n${log}`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      timings.push(performance.now() - started);
      const loaded = /loaded configuration .*/.exec(readFileSync(join(prefix, 'logs', 'error.log'), 'utf8'));
      console.log(
        `round ${round + 1}: first 200 after ${timings.at(-1)!.toFixed(0)} ms; ${loaded?.[0] ?? ''}`,
      );
      const status = readFileSync(`/proc/${node.pid}/status`, 'utf8');
      rssMb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    } finally {
      node.kill('SIGTERM');
      await new Promise((r) => node.once('exit', r));
    }
  }
  timings.sort((a, b) => a - b);
  const median = timings[Math.floor(timings.length / 2)]!;
  console.log(
    `data plane cold start from a ${ROUTES}-route cache, control plane unreachable, ${ROUNDS} rounds`,
  );
  console.log(
    `start to first proxied 200: ${timings.map((t) => t.toFixed(0)).join(', ')} ms (median ${median.toFixed(0)})`,
  );
  console.log(`RSS of the node serving ${ROUTES} routes: ${rssMb.toFixed(0)} MB`);
  console.log(`${median <= TARGET_MS ? 'PASS' : 'MISS'} cold start ≤ ${TARGET_MS} ms`);
  console.log(`${rssMb <= TARGET_RSS_MB ? 'PASS' : 'MISS'} RSS ≤ ${TARGET_RSS_MB} MB`);
} finally {
  upstream.close();
  await rm(dir, { recursive: true, force: true });
}

/** The status of a GET (fetch cannot set Host); 0 when the connection fails. */
function get(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { headers, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}
