// correlation-id: gives each request an id header (kept when the client sent one), optionally echoed back.
import { randomUUID } from 'node:crypto';
import { definePlugin, type PluginContext } from '../api.js';
import { PACKAGE_VERSION } from '../../version.js';
import { schema } from './schema.js';

export interface CorrelationIdConfig {
  header_name: string;
  generator: 'uuid' | 'uuid#counter' | 'tracker';
  echo_downstream: boolean;
}

// Kong's uuid#counter: one uuid per worker (here: per process) and a counter.
const processUuid = randomUUID();
let counter = 0;

/** A new id as the configured generator makes it. */
export function generateId(ctx: PluginContext<CorrelationIdConfig>): string {
  switch (ctx.config.generator) {
    case 'uuid':
      return randomUUID();
    case 'uuid#counter':
      return `${processUuid}#${++counter}`;
    case 'tracker': {
      // Kong's: server address, server port, worker pid, connection serial, requests on it, time in s.
      const c = ctx.request.connection;
      const now = (Date.now() / 1000).toFixed(3);
      return `${c?.serverAddress ?? ''}-${c?.serverPort ?? ctx.request.port}-${process.pid}-${c?.serial ?? 0}-${c?.requests ?? 0}-${now}`;
    }
  }
}

export default definePlugin<CorrelationIdConfig>({
  name: 'correlation-id',
  version: PACKAGE_VERSION,
  priority: 100001,
  schema,
  access(ctx) {
    const name = ctx.config.header_name;
    let id = ctx.request.headers[name.toLowerCase()];
    if (Array.isArray(id)) id = id[0];
    if (id === undefined || id === '') {
      id = generateId(ctx);
      ctx.request.setHeader(name, id);
    }
    ctx.shared.set('correlation_id', id);
    if (ctx.config.echo_downstream) ctx.state.set('correlation_id', id);
  },
  header_filter(ctx) {
    if (!ctx.config.echo_downstream) return;
    let id = ctx.state.get('correlation_id') as string | undefined;
    if (id === undefined) {
      const received = ctx.request.headers[ctx.config.header_name.toLowerCase()];
      id = Array.isArray(received) ? received[0] : received;
    }
    if (id === undefined || id === '') id = generateId(ctx);
    ctx.response.setHeader(ctx.config.header_name, id);
  },
});
