// request-transformer: rewrites the request before it goes upstream (uri, method, headers, body, query), as Kong.
import {
  encodeMultipart,
  multipartBoundary,
  MultipartError,
  newBoundary,
  parseMultipart,
  withBoundary,
} from '../../http/multipart.js';
import type { RouteCaptures } from '../../proxy/types.js';
import { PACKAGE_VERSION } from '../../version.js';
import { definePlugin, type PluginContext, type PluginRequest } from '../api.js';
import { decodeArgs, encodeArgs, type Args } from './args.js';
import { schema } from './schema.js';
import { renderTemplate, type TemplateEnvironment } from './template.js';
import {
  applyOperations,
  bodyKind,
  hasOperations,
  transformHeaders,
  transformJsonBody,
  transformMultipart,
  type HeaderTable,
  type RequestTransformerConfig,
} from './transform.js';

type Context = PluginContext<RequestTransformerConfig>;
type Render = (value: string) => string;

/** The router's regex captures, when the proxy hands them to plugins on the request (`uri_captures`). */
function capturesOf(request: PluginRequest): RouteCaptures | null {
  return request.captures ?? null;
}

function transformUri(ctx: Context, render: Render): void {
  const uri = ctx.config.replace.uri;
  if (!uri) return;
  const path = render(uri);
  if (path === '') return;
  if (!path.startsWith('/'))
    throw new Error(`[request-transformer] rendered uri '${path}' does not start with /`);
  ctx.request.setPath(path);
}

/** Sets the method; turning a form POST into GET/HEAD/TRACE also copies the form's fields into the query. */
async function transformMethod(ctx: Context, query: Args): Promise<void> {
  if (!ctx.config.http_method) return;
  const method = ctx.config.http_method.toUpperCase();
  ctx.request.setMethod(method);
  if (method !== 'GET' && method !== 'HEAD' && method !== 'TRACE') return;
  if (bodyKind(headerText(ctx.request.upstream.headers['content-type'])) !== 'form') return;
  const form = decodeArgs((await ctx.request.getBody()).toString('utf8'));
  if (form.size === 0) return;
  for (const [name, value] of form) {
    const seen = query.get(name);
    const added = Array.isArray(value) ? value : [value];
    if (seen === undefined) query.set(name, value);
    else query.set(name, [...(Array.isArray(seen) ? seen : [seen]), ...added]);
  }
  ctx.request.setQuery(encodeArgs(query, true));
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function applyHeaders(ctx: Context, render: Render): void {
  const conf = ctx.config;
  if (!hasOperations(conf, 'headers')) return;
  const before = ctx.request.upstream.headers as HeaderTable;
  const after = transformHeaders(conf, before, render);
  for (const name of Object.keys(before))
    if (name !== 'host' && !(name in after)) ctx.request.removeHeader(name);
  for (const [name, value] of Object.entries(after))
    if (JSON.stringify(before[name]) !== JSON.stringify(value)) ctx.request.setHeader(name, value);
}

/**
 * Edits a multipart/form-data body. One that can't be parsed is refused with 400: the configured edits can't
 * be made, and passing it on unedited could hand the upstream a field the configuration removes.
 */
function applyMultipartBody(ctx: Context, contentType: string, raw: Buffer, render: Render): void {
  let boundary = multipartBoundary(contentType);
  let parts;
  try {
    if (boundary === null && raw.length > 0) throw new MultipartError('no boundary in the Content-Type');
    parts = boundary === null ? [] : parseMultipart(raw, boundary);
  } catch (err) {
    if (!(err instanceof MultipartError)) throw err;
    ctx.log.info(`[request-transformer] invalid multipart/form-data body: ${err.message}`);
    ctx.exit(400, { message: `Invalid multipart/form-data body: ${err.message}` });
    return;
  }
  const edited = transformMultipart(ctx.config, parts, render, raw.length > 0);
  if (edited === null) return;
  // An empty body that named no boundary gets one, so that fields added to it can be read.
  boundary ??= newBoundary();
  const encoded = encodeMultipart(edited, boundary);
  if (encoded.boundary !== multipartBoundary(contentType))
    ctx.request.setHeader('content-type', withBoundary(contentType, encoded.boundary));
  ctx.request.setBody(encoded.body);
}

async function applyBody(ctx: Context, render: Render): Promise<void> {
  const conf = ctx.config;
  const contentType = headerText(ctx.request.upstream.headers['content-type']);
  const kind = bodyKind(contentType);
  if (kind === null || !hasOperations(conf, 'body')) return;
  if (kind === 'multipart') return applyMultipartBody(ctx, contentType!, await ctx.request.getBody(), render);
  const body = (await ctx.request.getBody()).toString('utf8');
  if (kind === 'json') {
    const json = transformJsonBody(conf, body, render);
    if (json !== null) ctx.request.setBody(json);
    return;
  }
  const form = decodeArgs(body) as Map<string, unknown>;
  if (applyOperations(conf, 'body', form, render, body.length > 0))
    ctx.request.setBody(encodeArgs(form as Args, false));
}

function applyQuery(ctx: Context, query: Args, render: Render): void {
  if (!hasOperations(ctx.config, 'querystring')) return;
  applyOperations(ctx.config, 'querystring', query as Map<string, unknown>, render, true);
  ctx.request.setQuery(encodeArgs(query, true));
}

export default definePlugin<RequestTransformerConfig>({
  name: 'request-transformer',
  version: PACKAGE_VERSION,
  priority: 801,
  schema,
  async access(ctx) {
    const request = ctx.request;
    const rawQuery = request.upstream.query.replace(/^\?/, '');
    const env: TemplateEnvironment = {
      headers: { ...request.upstream.headers },
      query: decodeArgs(rawQuery),
      captures: capturesOf(request),
    };
    const render: Render = (value) => {
      try {
        return renderTemplate(value, env);
      } catch (err) {
        throw new Error(`[request-transformer] ${(err as Error).message}`);
      }
    };
    // Kong's order: uri, method, headers, body, then the query string.
    transformUri(ctx, render);
    const query = decodeArgs(rawQuery);
    await transformMethod(ctx, query);
    applyHeaders(ctx, render);
    await applyBody(ctx, render);
    applyQuery(ctx, query, render);
  },
});
