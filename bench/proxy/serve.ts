// Benchmark child: a data plane proxy alone in its process, serving a configuration file on a port.
// Usage: node --import tsx bench/proxy/serve.ts <config.json> <port>
// Prints one JSON line when listening: { "applyMs": …, "routes": … }.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseListener } from '../../src/core/config/listen.js';
import { DATA_PLANE_COMPONENTS } from '../../src/core/proxy/components.js';
import { bindProxyListeners } from '../../src/core/proxy/listeners.js';
import { createProxy } from '../../src/core/proxy/proxy.js';
import type { DeclarativeConfig } from '../../src/core/proxy/types.js';
import { PACKAGE_VERSION } from '../../src/core/version.js';
import { PROXY_SETTINGS } from '../../test/helpers/proxy.js';

const [file, port] = process.argv.slice(2);
const config = JSON.parse(readFileSync(file!, 'utf8')) as DeclarativeConfig;
const proxy = createProxy({
  settings: PROXY_SETTINGS,
  components: DATA_PLANE_COMPONENTS,
  log: { debug: () => undefined, info: () => undefined, warn: console.error, error: console.error },
  version: PACKAGE_VERSION,
});
const started = performance.now();
await proxy.apply(config);
const applyMs = performance.now() - started;
const listener = parseListener(`127.0.0.1:${port}`);
if (!listener.ok) throw new Error(listener.message);
await bindProxyListeners(proxy, [listener.value]);
process.stdout.write(`${JSON.stringify({ applyMs, routes: proxy.runtime.router.routeCount })}\n`);
// Exit normally on signals so `node --cpu-prof` writes its profile.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
