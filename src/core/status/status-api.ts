// The status listener (status_listen): /status for liveness and counters, /status/ready for load balancers,
// /metrics for Prometheus.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EMPTY_CONFIG_HASH } from '../cluster/protocol.js';
import { EXPOSITION_CONTENT_TYPE } from '../plugins/prometheus/exposition.js';

export interface StatusSource {
  /** Hash of the configuration being served, or null when none is loaded. */
  configHash(): string | null;
  /** Open client connections across this node's listeners. */
  activeConnections(): number;
  /** Client connections accepted since the start, across this node's listeners. */
  acceptedConnections(): number;
  /** Requests received on the proxy listeners since the start. */
  totalRequests(): number;
  /** The Prometheus exposition of this node (absent: /metrics is not found). */
  metrics?(): string;
}

export function statusHandler(source: StatusSource) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return json(res, 405, { message: 'Method not allowed' });
    if (path === '/status') {
      const memory = process.memoryUsage();
      return json(res, 200, {
        server: {
          connections_active: source.activeConnections(),
          connections_accepted: source.acceptedConnections(),
          connections_handled: source.acceptedConnections(),
          total_requests: source.totalRequests(),
        },
        memory: { rss: memory.rss, heap_used: memory.heapUsed },
        configuration_hash: source.configHash() ?? EMPTY_CONFIG_HASH,
      });
    }
    if (path === '/status/ready') {
      return source.configHash() === null
        ? json(res, 503, { message: 'no configuration available (empty configuration present)' })
        : json(res, 200, { message: 'ready' });
    }
    if (path === '/metrics' && source.metrics) {
      const text = source.metrics();
      res.writeHead(200, {
        'content-type': EXPOSITION_CONTENT_TYPE,
        'content-length': Buffer.byteLength(text),
      });
      res.end(req.method === 'HEAD' ? undefined : text);
      return;
    }
    return json(res, 404, { message: 'Not found' });
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
