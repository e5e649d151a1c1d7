// The answers the proxy gives itself (no route, no service, upstream failures), with Kong's statuses and bodies.
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import type { ClientResponse } from './types.js';

/** Kong's messages, word for word: clients and dashboards match on them. */
export const KONG_MESSAGES = {
  noRoute: 'no Route matched with those values',
  noService: 'no Service found with those values',
  useHttps: 'Please use HTTPS protocol',
  badUpstream: 'An invalid response was received from the upstream server',
  noPeer: 'failure to get a peer from the ring-balancer',
  nameResolution: 'name resolution failed',
  timeout: 'The upstream server is timed out',
  unexpected: 'An unexpected error occurred',
} as const;

export interface KongAnswer {
  status: number;
  /** Null for answers without a body (redirects). */
  message: string | null;
  headers?: Record<string, string>;
}

export const NO_ROUTE: KongAnswer = { status: 404, message: KONG_MESSAGES.noRoute };
export const NO_SERVICE: KongAnswer = { status: 503, message: KONG_MESSAGES.noService };
export const NO_PEER: KongAnswer = { status: 503, message: KONG_MESSAGES.noPeer };
export const NAME_RESOLUTION_FAILED: KongAnswer = { status: 503, message: KONG_MESSAGES.nameResolution };
export const BAD_UPSTREAM: KongAnswer = { status: 502, message: KONG_MESSAGES.badUpstream };
export const UPSTREAM_TIMEOUT: KongAnswer = { status: 504, message: KONG_MESSAGES.timeout };
export const UNEXPECTED: KongAnswer = { status: 500, message: KONG_MESSAGES.unexpected };
export const USE_HTTPS: KongAnswer = {
  status: 426,
  message: KONG_MESSAGES.useHttps,
  headers: { connection: 'Upgrade', upgrade: 'TLS/1.2, HTTP/1.1' },
};

/** The body bytes of each message, encoded once. */
const bodies = new Map<string, Buffer>();
function bodyOf(message: string | null): Buffer | null {
  if (message === null) return null;
  let body = bodies.get(message);
  if (!body) {
    body = Buffer.from(JSON.stringify({ message }));
    bodies.set(message, body);
  }
  return body;
}

function headersOf(answer: KongAnswer, body: Buffer | null, extra?: Record<string, string>) {
  const headers: Record<string, string | number> = { ...answer.headers, ...extra };
  if (body) headers['content-type'] = 'application/json; charset=utf-8';
  headers['content-length'] = body ? body.length : 0;
  return headers;
}

/** An answer's headers and body bytes, for paths that write them themselves (plugins' header_filter). */
export function answerParts(
  answer: KongAnswer,
  extra?: Record<string, string>,
): { headers: Record<string, string | number>; body: Buffer | null } {
  const body = bodyOf(answer.message);
  return { headers: headersOf(answer, body, extra), body };
}

/** Sends an answer on a response whose head is not yet sent; `extra` carries Server / latency headers. */
export function sendAnswer(
  req: { resume(): unknown },
  res: Pick<ClientResponse, 'writeHead' | 'end'>,
  answer: KongAnswer,
  extra?: Record<string, string>,
): void {
  // Drain the request body so the keep-alive connection stays usable.
  req.resume();
  const body = bodyOf(answer.message);
  res.writeHead(answer.status, headersOf(answer, body, extra));
  res.end(body ?? undefined);
}

/** Writes an answer as raw HTTP/1.1 on an upgrade request's socket, then closes it. */
export function sendAnswerOnSocket(socket: Duplex, answer: KongAnswer, extra?: Record<string, string>): void {
  const body = bodyOf(answer.message);
  sendOnSocket(socket, answer.status, headersOf(answer, body, extra), body);
}

/** Writes a response as raw HTTP/1.1 on a socket (with `Connection: close`), then closes it. */
export function sendOnSocket(
  socket: Duplex,
  status: number,
  headers: Record<string, string | number | string[] | undefined>,
  body: Buffer | null,
): void {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`;
  for (const [name, value] of Object.entries({ ...headers, connection: 'close' })) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) head += `${name}: ${v}\r\n`;
  }
  socket.end(body ? Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]) : `${head}\r\n`);
}
