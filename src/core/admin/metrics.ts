// The Admin API's /metrics: the node's Prometheus exposition (on a control plane, with its data planes).
import { EXPOSITION_CONTENT_TYPE } from '../plugins/prometheus/exposition.js';
import type { AdminRoute } from './context.js';

export function metricsRoute(exposition: () => Promise<string>): AdminRoute {
  return {
    method: 'GET',
    path: '/metrics',
    handler: async () => ({
      status: 200,
      text: { contentType: EXPOSITION_CONTENT_TYPE, content: await exposition() },
    }),
  };
}
