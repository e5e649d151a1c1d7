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
  /** proxy_server_ssl_verify: check an https:// proxy's certificate (its chain and its name). */
  verifyProxyTls: boolean;
  /** The CAs (PEM) an https:// proxy's certificate must chain to when checked; Node's default list if unset. */
  proxyCa?: string[];
  timeoutMs?: number;
}

/** Node's X509 certificate error codes (tls docs) and its name check: the proxy's certificate was refused. */
const CERTIFICATE_ERRORS = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CRL_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

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
      ...(secure && options.verifyProxyTls && options.proxyCa ? { ca: options.proxyCa } : {}),
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
      // A certificate refused is not a proxy that cannot be reached: say which check failed, nothing was sent.
      if (err.code && CERTIFICATE_ERRORS.has(err.code))
        reject(new Error(`${where} certificate not trusted: ${err.message} (${err.code})`));
      else reject(new Error(`${where} unreachable: ${err.code ?? err.message}`));
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
