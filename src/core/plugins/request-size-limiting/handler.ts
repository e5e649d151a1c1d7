// request-size-limiting: refuses request bodies over a size (413), by Content-Length or, for chunked bodies,
// by counting bytes as they stream upstream.
import { definePlugin } from '../api.js';
import { PACKAGE_VERSION } from '../../version.js';
import { schema } from './schema.js';

export interface RequestSizeLimitingConfig {
  allowed_payload_size: number;
  size_unit: 'megabytes' | 'kilobytes' | 'bytes';
  require_content_length: boolean;
}

export const UNIT_BYTES = { bytes: 1, kilobytes: 1024, megabytes: 1024 * 1024 } as const;

export const SIZE_MESSAGES = {
  exceeded: 'Request size limit exceeded',
  lengthRequired: 'A valid Content-Length header is required',
} as const;

export default definePlugin<RequestSizeLimitingConfig>({
  name: 'request-size-limiting',
  version: PACKAGE_VERSION,
  priority: 951,
  schema,
  access(ctx) {
    const conf = ctx.config;
    const allowed = conf.allowed_payload_size * UNIT_BYTES[conf.size_unit];
    const headers = ctx.request.headers;
    // Kong answers 417 to a client waiting for `100 Continue`, 413 otherwise.
    const status =
      String(headers.expect ?? '')
        .trim()
        .toLowerCase() === '100-continue'
        ? 417
        : 413;
    const length = ctx.request.contentLength;
    if (length !== null) {
      if (length > allowed) ctx.exit(status, { message: SIZE_MESSAGES.exceeded });
      return;
    }
    const chunked = /(^|,)\s*chunked\s*$/i.test(String(headers['transfer-encoding'] ?? ''));
    if (conf.require_content_length && !chunked) {
      ctx.exit(411, { message: SIZE_MESSAGES.lengthRequired });
      return;
    }
    if (!chunked) return;
    if (ctx.request.limitBody) ctx.request.limitBody(allowed, status, { message: SIZE_MESSAGES.exceeded });
    else
      return ctx.request.getBody().then((body) => {
        if (body.length > allowed) ctx.exit(status, { message: SIZE_MESSAGES.exceeded });
      });
  },
});
