// cluster_use_proxy: a data plane's TLS to its control plane, run end to end inside an HTTP CONNECT tunnel.
import type { ClientRequest, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';

/** How long the proxy may take to accept the connection and answer the CONNECT. */
export const TUNNEL_TIMEOUT_MS = 10_000;

export interface TunnelOptions {
  /** proxy_server: http:// or https://, with optional user:password (sent as Proxy-Authorization: Basic). */
  proxyUrl: string;
  /** proxy_server_ssl_verify: check an https:// proxy's certificate. */
  verifyProxyTls: boolean;
  timeoutMs?: number;
}

/** proxy_server without its credentials, for log lines and errors. */
export function redactProxyUrl(proxyUrl: string): string {
  const url = new URL(proxyUrl);
  url.username = '';
  url.password = '';
  return url.origin;
}

/** Asks the proxy for a tunnel to host:port; resolves with the raw tunnel socket once it answers 200. */
export function openTunnel(target: { host: string; port: number }, options: TunnelOptions): Promise<Socket> {
  const proxy = new URL(options.proxyUrl);
  const secure = proxy.protocol === 'https:';
  const authority = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  const headers: Record<string, string> = { host: authority };
  if (proxy.username || proxy.password) {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers['proxy-authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  const where = `proxy_server ${redactProxyUrl(options.proxyUrl)}`;
  const timeoutMs = options.timeoutMs ?? TUNNEL_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const send = secure ? httpsRequest : httpRequest;
    const req: ClientRequest = send({
      host: proxy.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: proxy.port || (secure ? 443 : 80),
      method: 'CONNECT',
      path: authority,
      headers,
      agent: false,
      ...(secure ? { rejectUnauthorized: options.verifyProxyTls } : {}),
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${where} did not open a tunnel to ${authority} within ${timeoutMs} ms`));
    }, timeoutMs);
    req.once('connect', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      clearTimeout(timer);
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(
          new Error(
            `${where} refused the tunnel to ${authority}: HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim(),
          ),
        );
        return;
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(`${where} unreachable: ${err.code ?? err.message}`));
    });
    req.end();
  });
}

/**
 * A `createConnection` for `ws`/`https.request`: opens the tunnel, then starts TLS inside it with the
 * caller's options unchanged (client certificate, CA, SNI), so the proxy only ever sees ciphertext.
 */
export function tunnelledConnection(options: TunnelOptions) {
  return (
    connectOptions: ConnectionOptions & { host?: string; port?: number | string },
    done: (err: Error | null, socket?: TLSSocket) => void,
  ): undefined => {
    const target = { host: connectOptions.host ?? 'localhost', port: Number(connectOptions.port) };
    openTunnel(target, options).then(
      (socket) => done(null, tlsConnect({ ...connectOptions, path: undefined, socket })),
      (err: Error) => done(err),
    );
    return undefined;
  };
}
