// prometheus: expose Kong-named metrics; these switches choose which families are collected.
import type { PluginSchema } from '../plugin-schema.js';

const off = { type: 'boolean' as const, required: true, default: false };

export const schema: PluginSchema = {
  name: 'prometheus',
  noConsumer: true,
  config: {
    per_consumer: off,
    status_code_metrics: off,
    // Kong 3.8+: accepted so configurations exported from Kong load; no AI metrics are recorded.
    ai_metrics: off,
    latency_metrics: off,
    bandwidth_metrics: off,
    upstream_health_metrics: off,
  },
};
