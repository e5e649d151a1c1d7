// cors: answers preflight requests itself and adds Access-Control-* headers to responses, as Kong's cors plugin.
import { PACKAGE_VERSION } from '../../version.js';
import { definePlugin, type PluginContext } from '../api.js';
import { allowedOrigin, originPolicy, type OriginPolicy } from './origins.js';
import { schema } from './schema.js';

export interface CorsConfig {
  origins?: string[] | null;
  headers?: string[] | null;
  exposed_headers?: string[] | null;
  methods?: string[] | null;
  max_age?: number | null;
  credentials: boolean;
  private_network: boolean;
  preflight_continue: boolean;
  allow_origin_absent: boolean;
}

/** Where the headers go: the preflight answer being built (access) or the response on its way (header_filter). */
interface HeaderSink {
  set(name: string, value: string): void;
  clear(name: string): void;
  /** Vary: Origin — added to the upstream's Vary on responses, set on preflight answers. */
  varyOnOrigin(): void;
}

const ALL_METHODS = 'GET,HEAD,PUT,PATCH,POST,DELETE,OPTIONS,TRACE,CONNECT';
const ANSWERED = 'cors.answered';

/** Kong's configure_origin: sets Access-Control-Allow-Origin; true when any origin is allowed (`*`). */
function configureOrigin(policy: OriginPolicy, sink: HeaderSink, requestOrigin: string | undefined): boolean {
  if (policy.kind === 'any') {
    sink.set('Access-Control-Allow-Origin', '*');
    return true;
  }
  // The answer depends on Origin (caches key on it; see rs/cors#10).
  sink.varyOnOrigin();
  if (policy.kind === 'single') {
    sink.set('Access-Control-Allow-Origin', policy.origin);
    return false;
  }
  if (requestOrigin !== undefined) {
    if (policy.star) {
      sink.set('Access-Control-Allow-Origin', '*');
      return true;
    }
    const allowed = allowedOrigin(policy.matchers, requestOrigin);
    if (allowed !== null) {
      sink.set('Access-Control-Allow-Origin', allowed);
      return false;
    }
  }
  sink.clear('Access-Control-Allow-Origin');
  return false;
}

/** Kong's configure_credentials: with `*` the request's own origin is echoed, as credentials forbid `*`. */
function configureCredentials(
  config: CorsConfig,
  allowAll: boolean,
  sink: HeaderSink,
  requestOrigin: string | undefined,
): void {
  if (!config.credentials) return;
  if (!allowAll) {
    sink.set('Access-Control-Allow-Credentials', 'true');
    return;
  }
  if (requestOrigin !== undefined) {
    sink.varyOnOrigin();
    sink.set('Access-Control-Allow-Origin', requestOrigin);
    sink.set('Access-Control-Allow-Credentials', 'true');
  }
}

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

function responseSink(ctx: PluginContext<CorsConfig>): HeaderSink {
  return {
    set: (name, value) => ctx.response.setHeader(name, value),
    clear: (name) => ctx.response.removeHeader(name),
    varyOnOrigin() {
      const vary = ctx.response.headers.vary;
      if (vary === undefined) ctx.response.setHeader('Vary', 'Origin');
      else ctx.response.setHeader('Vary', [...(Array.isArray(vary) ? vary : [String(vary)]), 'Origin']);
    },
  };
}

export default definePlugin<CorsConfig>({
  name: 'cors',
  version: PACKAGE_VERSION,
  priority: 2000,
  schema,
  init({ config }) {
    const policy = originPolicy(config.origins);
    const allowHeaders = config.headers && config.headers.length > 0 ? config.headers.join(',') : null;
    const allowMethods = config.methods ? config.methods.join(',') : ALL_METHODS;
    const exposeHeaders =
      config.exposed_headers && config.exposed_headers.length > 0 ? config.exposed_headers.join(',') : null;

    return {
      access(ctx) {
        const { headers } = ctx.request;
        const requestOrigin = single(headers.origin);
        if (
          ctx.request.method !== 'OPTIONS' ||
          requestOrigin === undefined ||
          !headers['access-control-request-method']
        )
          return;
        // A preflight: its headers are either the upstream's (preflight_continue) or all set here.
        ctx.state.set(ANSWERED, true);
        if (config.preflight_continue) return;

        const answer: Record<string, string> = {};
        const sink: HeaderSink = {
          set: (name, value) => (answer[name] = value),
          clear: (name) => delete answer[name],
          varyOnOrigin: () => (answer.Vary = 'Origin'),
        };
        const allowAll = configureOrigin(policy, sink, requestOrigin);
        configureCredentials(config, allowAll, sink, requestOrigin);
        const requested = single(headers['access-control-request-headers']);
        if (allowHeaders !== null) answer['Access-Control-Allow-Headers'] = allowHeaders;
        else if (requested !== undefined) answer['Access-Control-Allow-Headers'] = requested;
        answer['Access-Control-Allow-Methods'] = allowMethods;
        if (typeof config.max_age === 'number') answer['Access-Control-Max-Age'] = String(config.max_age);
        if (config.private_network && single(headers['access-control-request-private-network']) === 'true')
          answer['Access-Control-Allow-Private-Network'] = 'true';
        ctx.exit(200, undefined, answer);
      },

      header_filter(ctx) {
        if (ctx.state.get(ANSWERED)) return;
        const requestOrigin = single(ctx.request.headers.origin);
        if (requestOrigin === undefined && !config.allow_origin_absent) return;
        const sink = responseSink(ctx);
        const allowAll = configureOrigin(policy, sink, requestOrigin);
        configureCredentials(config, allowAll, sink, requestOrigin);
        if (exposeHeaders !== null) ctx.response.setHeader('Access-Control-Expose-Headers', exposeHeaders);
      },
    };
  },
});
