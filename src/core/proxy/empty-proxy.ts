// The proxy of a data plane that holds no configuration yet: every request gets Kong's "no Route matched" 404.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const NO_ROUTE_BODY = JSON.stringify({ message: 'no Route matched with those values' });

export function answerNoRoute(req: IncomingMessage, res: ServerResponse): void {
  // Drain the request body so keep-alive connections stay usable.
  req.resume();
  res.writeHead(404, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(NO_ROUTE_BODY),
  });
  res.end(NO_ROUTE_BODY);
}
