// response-transformer: rewrites response headers and top-level members of JSON bodies, as Kong.
import { PACKAGE_VERSION } from '../../version.js';
import { definePlugin } from '../api.js';
import { schema } from './schema.js';
import {
  transformHeaders,
  transformJsonBody,
  transformsBody,
  type ResponseTransformerConfig,
} from './transform.js';

export default definePlugin<ResponseTransformerConfig>({
  name: 'response-transformer',
  version: PACKAGE_VERSION,
  priority: 800,
  schema,
  header_filter(ctx) {
    const response = ctx.response;
    transformHeaders(ctx.config, response.headers, {
      set: (name, value) => response.setHeader(name, value),
      remove: (name) => response.removeHeader(name),
      get: (name) => response.headers[name.toLowerCase()],
    });
  },
  body_filter(ctx, body) {
    if (!transformsBody(ctx.config, ctx.response.headers)) return undefined;
    const json = transformJsonBody(ctx.config, body.toString('utf8'));
    if (json === null) {
      ctx.log.warn('[response-transformer] body transform failed: the body is not a JSON object');
      return undefined;
    }
    const out = Buffer.from(json);
    // header_filter removed the upstream's length; the new one is exact.
    ctx.response.setHeader('content-length', out.length);
    return out;
  },
});
