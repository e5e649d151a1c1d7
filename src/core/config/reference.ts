// Renders the key table as Markdown (docs/configuration.md), so the reference cannot drift from the code.
import { CONFIG_KEYS, KEY_DEFINITIONS, envName, type KeyDefinition } from './keys.js';

const GROUP_TITLES: Record<KeyDefinition<unknown>['group'], string> = {
  general: 'General',
  listeners: 'Listeners',
  clustering: 'Clustering (hybrid mode)',
  certificates: 'Certificates',
  datastore: 'Datastore and config cache',
  proxy: 'Proxy behaviour',
  logging: 'Logging',
};

const cell = (s: string): string => s.replace(/\|/g, '\\|');

export function renderConfigReference(): string {
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/core/config/keys.ts by `node --import tsx scripts/config-reference.ts`; do not edit by hand. -->',
    '',
    'Hybrid reads a Kong-style `kong.conf`: one `key = value` per line, `#` starts a comment (write `\\#` for a',
    'literal hash), blank lines are ignored, whitespace around keys and values is trimmed. Every key can be',
    'overridden by the environment variable `KONG_<KEY>` (upper case). Precedence: a command’s own flag (such as',
    '`-p` for `prefix`) > environment > file > default.',
    'An empty value (`key =`) unsets a key. Booleans are `on`/`off`; lists are comma separated.',
    '',
    'Relative paths in the file start at the file’s directory; in the environment, at the working directory.',
    'Certificate and key values are a file path or inline PEM (real newlines, `\\n` escapes, or base64 of the PEM).',
    'Keys Hybrid does not know are reported as warnings and ignored, so existing Kong configurations load.',
    '',
    'Without `-c`/a CONF argument, the first existing file of `./kong.conf`, `/etc/hybrid/kong.conf`,',
    '`/etc/kong/kong.conf` is read; when none exists, only the environment and defaults apply.',
  ];
  for (const group of Object.keys(GROUP_TITLES) as KeyDefinition<unknown>['group'][]) {
    const keys = CONFIG_KEYS.filter((k) => KEY_DEFINITIONS[k].group === group);
    if (keys.length === 0) continue;
    out.push(
      '',
      `## ${GROUP_TITLES[group]}`,
      '',
      '| key | type | default | description |',
      '| --- | --- | --- | --- |',
    );
    for (const k of keys) {
      const def: KeyDefinition<unknown> = KEY_DEFINITIONS[k];
      const dflt = def.default === '' ? '_unset_' : `\`${cell(def.default)}\``;
      const aliases = def.aliases?.length
        ? ` Also accepted: ${def.aliases.map((a) => `\`${a}\``).join(', ')}.`
        : '';
      out.push(
        `| \`${k}\` (\`${envName(k)}\`) | ${cell(def.type.describe)} | ${dflt} | ${cell(def.description)}${aliases} |`,
      );
    }
  }
  out.push(
    '',
    '## Rules between keys',
    '',
    '`hybrid check [CONF]` reports all of these at once, each with its key, where the value came from',
    '(file and line, environment variable, or default) and a hint.',
    '',
    '- `control_plane` and `data_plane` need `cluster_cert` and `cluster_cert_key`.',
    '- `cluster_mtls = pki` needs `cluster_ca_cert` (on both roles); in shared mode a `cluster_ca_cert` is ignored (warning).',
    '- A data plane needs `database = off` and a `proxy_listen`; `cluster_use_proxy = on` needs `proxy_server`;',
    '  in pki mode without `cluster_server_name` it warns that `kong_clustering` is the SNI.',
    '- A control plane needs a database (`sqlite` or `postgres`), `admin_listen` and `cluster_listen`; it cannot',
    '  use `cluster_use_proxy` or `cluster_dp_labels`; it never proxies: `proxy_listen` is ignored (a warning when set).',
    '- `cluster_dp_labels` only on data planes; `cluster_ocsp` only on a pki control plane (a warning elsewhere).',
    '- `ssl_cert`/`ssl_cert_key` (and the `admin_`/`status_` pairs) must be given in equal numbers.',
    '- `declarative_config` is only loaded with `database = off` (a warning otherwise).',
    '- No two listeners the role opens may share a port on overlapping addresses (control plane: admin, status,',
    '  cluster, telemetry; data plane and traditional: proxy, admin, status).',
  );
  return `${out.join('\n')}\n`;
}
