// What a node trusts when it verifies a server (Kong's lua_ssl_trusted_certificate), and TLS contexts over a trust.
import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import type { ConfigKey, HybridConfig } from '../config/index.js';

/** The settings of what a node trusts toward servers besides its cluster certificates (reloadable). */
export const TRUST_KEYS: readonly ConfigKey[] = ['lua_ssl_trusted_certificate', 'lua_ssl_verify_depth'];

/** A set of trusted CA certificates. */
export interface Trust {
  /** Node's CA list and NODE_EXTRA_CA_CERTS (Kong's `system`). */
  system: boolean;
  /** Further CA certificates, PEM (one string may hold several). */
  pems: readonly string[];
}

/** A certificate and its key, presented to a server that asks for one. */
export interface TlsIdentity {
  cert: string;
  key: string;
}

/**
 * The node's trust, as Kong builds lua_ssl_trusted_certificate: its entries (`system` and CA files), and on a
 * data plane the cluster's own trust, which Kong appends there: cluster_ca_cert in pki mode, cluster_cert in
 * shared mode. Upstream verification without ca_certificates, https health checks and an https proxy_server
 * all verify against it.
 */
export function nodeTrust(
  config: Pick<
    HybridConfig,
    'role' | 'cluster_mtls' | 'cluster_cert' | 'cluster_ca_cert' | 'lua_ssl_trusted_certificate'
  >,
): Trust {
  let system = false;
  const pems: string[] = [];
  for (const entry of config.lua_ssl_trusted_certificate) {
    if (entry === 'system') system = true;
    else pems.push(entry.pem);
  }
  if (config.role === 'data_plane') {
    const cluster = config.cluster_mtls === 'pki' ? config.cluster_ca_cert : config.cluster_cert;
    if (cluster) pems.push(cluster.pem);
  }
  return { system, pems };
}

/** A trust as one PEM list, for a `ca` option: that replaces Node's defaults, so `system` is spelled out. */
export function trustedPems(trust: Trust, defaults: readonly string[] = defaultCaCertificates()): string[] {
  return trust.system ? [...defaults, ...trust.pems] : [...trust.pems];
}

/** Node's default trust, its CA list and NODE_EXTRA_CA_CERTS: a `ca` option replaces both, so both are listed. */
export function defaultCaCertificates(env: NodeJS.ProcessEnv = process.env): string[] {
  const extra = env.NODE_EXTRA_CA_CERTS;
  if (!extra) return [...rootCertificates];
  try {
    return [...rootCertificates, readFileSync(extra, 'utf8')];
  } catch {
    // Node itself warned about the unreadable file when it started.
    return [...rootCertificates];
  }
}

/** The native half of a SecureContext (not in Node's typings). */
interface NativeContext {
  addCACert(pem: string): void;
}

/**
 * A TLS client context that trusts `trust` and presents `identity`, if any. Build it once and share it: a
 * context per connection would redo this work each time.
 *
 * With `system`, Node's own store is kept and the other CAs are added to a copy of it: listing Node's ~140 CAs
 * as a `ca` option parses every one of them again for each context (≈70 ms measured here, against ≈3 ms).
 * Without `system` an empty list trusts nothing.
 */
export function trustContext(trust: Trust, identity?: TlsIdentity): SecureContext {
  const keyPair = identity ? { cert: identity.cert, key: identity.key } : {};
  if (!trust.system) return createSecureContext({ ...keyPair, ca: [...trust.pems] });
  const context = createSecureContext(keyPair);
  const native = (context as unknown as { context: NativeContext }).context;
  for (const pem of trust.pems) native.addCACert(pem);
  return context;
}
