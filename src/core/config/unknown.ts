// Keys we do not know: tell a Kong setting Hybrid does not use apart from a typo, and suggest the closest key.
import { CONFIG_KEYS, KEY_ALIASES } from './keys.js';

/** Kong settings (or families of them) that Hybrid accepts and ignores, so real Kong configs still load. */
const KONG_ONLY_PREFIXES = [
  'nginx_',
  'lua_',
  'pg_',
  'cassandra_',
  'dns_',
  'vault_',
  'vaults',
  'pluginserver_',
  'admin_gui_',
  'portal_',
  'vitals',
  'smtp_',
  'ssl_',
  'client_ssl',
  'stream_',
  'proxy_stream_',
  'status_',
  'debug_',
  'tracing',
  'opentelemetry_',
  'wasm',
  'untrusted_lua',
  'cluster_',
  'db_',
  'mem_cache',
  'worker_',
  'router_',
  'anonymous_reports',
  'error_default_type',
  'error_template_',
  'allow_debug_header',
  'real_ip_recursive',
  'port_maps',
  'host_ports',
  'node_id',
  'kic',
  'konnect_mode',
  'enforce_rbac',
  'audit_log',
  'keyring_',
  'event_hooks_enabled',
  'fips',
  'legacy_worker_events',
  'openresty_path',
  'client_body_buffer_size',
  'client_max_body_size',
  'declarative_config_',
  'max_queued_batches',
  'admin_api_uri',
  'admin_ssl_',
  'dedicated_config_processing',
  'new_dns_client',
  'resolver_',
];

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The closest known key within two edits, if any. */
export function suggestKey(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of [...CONFIG_KEYS, ...KEY_ALIASES.keys()]) {
    const d = distance(name, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

/** Message and hint for a key that is not in the table. */
export function describeUnknownKey(name: string): { message: string; hint?: string } {
  const suggestion = suggestKey(name);
  if (suggestion !== undefined) {
    return { message: 'unknown key, ignored', hint: `Did you mean ${suggestion}?` };
  }
  if (KONG_ONLY_PREFIXES.some((p) => name.startsWith(p))) {
    return { message: 'is a Kong setting Hybrid does not use; ignored' };
  }
  return { message: 'unknown key, ignored', hint: 'See docs/configuration.md for the keys Hybrid reads.' };
}
