// Binds proxy_listen to a proxy: the request handler, WebSocket upgrades, and per-SNI certificates on ssl.
import type { Server } from 'node:http';
import type { TlsOptions } from 'node:tls';
import type { Listener } from '../config/index.js';
import { bindListeners, type BoundServer } from '../http/listen.js';
import { servePlainRequests } from './plain-listener.js';
import type { DataPlaneProxy } from './proxy.js';

/** `defaultTls` is the certificate for names the configuration has none for (ssl_cert or the self-signed one). */
export async function bindProxyListeners(
  proxy: DataPlaneProxy,
  listeners: readonly Listener[],
  defaultTls?: TlsOptions,
): Promise<BoundServer[]> {
  const tls = defaultTls ? { ...defaultTls, SNICallback: proxy.sniCallback } : undefined;
  const bound = await bindListeners('proxy', listeners, proxy.handle, tls, (listener, server) => {
    // HTTP/1.1 listeners, plain or TLS, parse their connections themselves (plain-listener.ts); http2 ones
    // (which negotiate HTTP/2 or HTTP/1.1) stay on Node's server.
    if (!listener.http2) servePlainRequests(server as Server, proxy.handle);
  });
  for (const { server } of bound) (server as Server).on('upgrade', proxy.upgrade);
  return bound;
}
