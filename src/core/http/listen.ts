// Binding HTTP(S) servers to configured listeners, and closing them gracefully or at once.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { TlsOptions } from 'node:tls';
import type { Listener } from '../config/index.js';
import { HybridError } from '../errors.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface BoundServer {
  listener: Listener;
  /** The port actually bound (differs from the configured one only for port 0). */
  port: number;
  server: Server | Http2SecureServer;
}

/**
 * Binds one server per listener. `ssl` listeners need `tls` (certificate and key, optionally an SNICallback); `http2` ones serve
 * HTTP/2 with HTTP/1.1 fallback. All bind or none: on a failure the ones already bound are closed.
 */
export async function bindListeners(
  name: string,
  listeners: readonly Listener[],
  handler: RequestHandler,
  tls?: TlsOptions,
  /** Called with each server before it listens. */
  prepare?: (listener: Listener, server: Server | Http2SecureServer) => void,
): Promise<BoundServer[]> {
  const bound: BoundServer[] = [];
  try {
    for (const listener of listeners) {
      const server = makeServer(listener, handler, tls);
      prepare?.(listener, server);
      const port = await listen(server, listener, name);
      bound.push({ listener, port, server });
    }
    return bound;
  } catch (err) {
    await closeServers(bound, 0);
    throw err;
  }
}

function makeServer(
  listener: Listener,
  handler: RequestHandler,
  tls?: TlsOptions,
): Server | Http2SecureServer {
  if (!listener.ssl) return createHttpServer({ keepAliveTimeout: 60_000 }, handler);
  if (!tls) throw new HybridError('tls_missing', `listener ${listener.listener} has ssl but no certificate`);
  if (listener.http2) {
    return createSecureServer(
      { ...tls, allowHTTP1: true },
      handler as unknown as Parameters<typeof createSecureServer>[1],
    );
  }
  return createHttpsServer({ ...tls, keepAliveTimeout: 60_000 }, handler);
}

function listen(server: Server | Http2SecureServer, listener: Listener, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const reason =
        err.code === 'EADDRINUSE'
          ? 'address already in use'
          : err.code === 'EACCES'
            ? 'permission denied'
            : err.message;
      reject(
        new HybridError('listen_failed', `${name} could not listen on ${listener.listener}: ${reason}`, {
          hint:
            err.code === 'EADDRINUSE'
              ? 'Another process holds that port; stop it or change the listen address.'
              : undefined,
          cause: err,
        }),
      );
    };
    server.once('error', onError);
    server.listen({ host: listener.host, port: listener.port, backlog: listener.backlog ?? 511 }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Counts the client connections of servers: accepted since start, and open (from accept to close). */
export class ConnectionCount {
  open = 0;
  accepted = 0;

  watch(bound: readonly BoundServer[]): void {
    for (const { server } of bound) {
      (server as NetServer).on('connection', (socket: Socket) => {
        this.accepted++;
        this.open++;
        socket.once('close', () => this.open--);
      });
    }
  }
}

/**
 * Stops accepting, lets requests in flight finish for up to `graceMs`, then drops what remains.
 * With graceMs = 0 every connection is dropped at once.
 */
export async function closeServers(bound: readonly BoundServer[], graceMs: number): Promise<void> {
  await Promise.all(
    bound.map(({ server }) => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const http1 = server as Server;
      if (typeof http1.closeIdleConnections === 'function') http1.closeIdleConnections();
      const force = setTimeout(() => {
        if (typeof http1.closeAllConnections === 'function') http1.closeAllConnections();
      }, graceMs);
      return closed.finally(() => clearTimeout(force));
    }),
  );
}
