// A minimal HTTP CONNECT forward proxy, plain or HTTPS: checks Basic credentials, pipes both ways, records what it saw.
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type Socket } from 'node:net';
import { freePort } from './tmp.js';

export interface ConnectProxy {
  port: number;
  /** Tunnels opened (CONNECT accepted), with the first byte the client sent through each. */
  tunnels: { target: string; firstByte?: number }[];
  /** TLS handshakes a client broke off (an https proxy whose certificate the client refused, say). */
  tlsClientErrors: string[];
  close(): Promise<void>;
}

/**
 * Starts a proxy on a free 127.0.0.1 port. `credentials` ("user:password") are required when given; with `tls`
 * the proxy speaks HTTPS (the client's CONNECT travels inside TLS to the proxy, its own TLS inside the tunnel).
 */
export async function startConnectProxy(
  options: { credentials?: string; tls?: { cert: string; key: string } } = {},
): Promise<ConnectProxy> {
  const tunnels: ConnectProxy['tunnels'] = [];
  const tlsClientErrors: string[] = [];
  const sockets = new Set<Socket>();
  const refuse = (_req: IncomingMessage, res: { writeHead(status: number): { end(): void } }) =>
    res.writeHead(405).end();
  const server: Server = options.tls ? createHttpsServer(options.tls, refuse) : createHttpServer(refuse);
  server.on('tlsClientError', (err: NodeJS.ErrnoException) => tlsClientErrors.push(err.code ?? err.message));
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('error', () => client.destroy());
    const expected = options.credentials
      ? `Basic ${Buffer.from(options.credentials).toString('base64')}`
      : undefined;
    if (expected && req.headers['proxy-authorization'] !== expected) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic\r\ncontent-length: 0\r\n\r\n',
      );
      return;
    }
    const tunnel: ConnectProxy['tunnels'][number] = { target: req.url ?? '' };
    tunnels.push(tunnel);
    const separator = tunnel.target.lastIndexOf(':');
    const upstream = connect(
      Number(tunnel.target.slice(separator + 1)),
      tunnel.target.slice(0, separator),
      () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) upstream.write(head);
        client.once('data', (chunk: Buffer) => (tunnel.firstByte = chunk[0]));
        client.pipe(upstream).pipe(client);
      },
    );
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    tunnels,
    tlsClientErrors,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
