// TLS material for ssl listeners: the configured certificate, else a self-signed default kept in the prefix (as Kong does).
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import { writeFiles } from '../files/write-files.js';
import { generateSelfSigned } from '../pki/self-signed.js';
import type { NodeContext } from './node.js';

const DEFAULT_DAYS = 3650;

export type TlsListenerKind = 'proxy' | 'admin' | 'status';

/** The configured certificate pairs of a listener kind (`ssl_cert`, `admin_ssl_cert`, `status_ssl_cert`), if any. */
export function configuredTls(
  config: NodeContext['config'],
  kind: TlsListenerKind,
): SecureContextOptions | null {
  const [certs, keys] =
    kind === 'proxy'
      ? [config.ssl_cert, config.ssl_cert_key]
      : kind === 'admin'
        ? [config.admin_ssl_cert, config.admin_ssl_cert_key]
        : [config.status_ssl_cert, config.status_ssl_cert_key];
  if (certs.length === 0 || keys.length === 0) return null;
  return { cert: certs.map((c) => c.pem), key: keys.map((k) => k.pem) };
}

export async function defaultTlsFor(
  ctx: NodeContext,
  listener: TlsListenerKind,
): Promise<SecureContextOptions> {
  const configured = configuredTls(ctx.config, listener);
  if (configured) return configured;
  const dir = join(ctx.layout.root, 'ssl');
  const certPath = join(dir, 'hybrid-default.crt');
  const keyPath = join(dir, 'hybrid-default.key');
  const existing = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]).catch(
    () => null,
  );
  if (existing) return { cert: existing[0], key: existing[1] };
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const pair = generateSelfSigned('localhost', DEFAULT_DAYS);
  await writeFiles(
    [
      { path: keyPath, content: pair.keyPem, mode: 0o600 },
      { path: certPath, content: pair.certPem, mode: 0o644 },
    ],
    { overwrite: true },
  );
  ctx.logger.info(`generated a self-signed default certificate for ${listener} ssl listeners at ${certPath}`);
  return { cert: pair.certPem, key: pair.keyPem };
}
