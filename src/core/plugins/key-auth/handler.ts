// key-auth: finds an API key in a header, the query string or the body, and authenticates its consumer (Kong's
// messages, headers and anonymous "logical OR" flow).
import { definePlugin, type ConsumerEntity, type CredentialEntity, type PluginContext } from '../api.js';
import {
  encodeMultipart,
  multipartBoundary,
  MultipartError,
  parseMultipart,
  partText,
  type MultipartPart,
} from '../../http/multipart.js';
import { PACKAGE_VERSION } from '../../version.js';
import { schema } from './schema.js';
import { jsonObject } from '../../http/json-object.js';

export interface KeyAuthConfig {
  key_names: string[];
  hide_credentials: boolean;
  anonymous: string | null;
  key_in_header: boolean;
  key_in_query: boolean;
  key_in_body: boolean;
  run_on_preflight: boolean;
  realm: string | null;
}

/** Kong 3's answers, word for word. */
export const KEY_AUTH_MESSAGES = {
  noKey: 'No API key found in request',
  invalid: 'Unauthorized',
  duplicate: 'Duplicate API key found',
} as const;

type Ctx = PluginContext<KeyAuthConfig>;
type Body =
  | { kind: 'form'; params: URLSearchParams }
  | { kind: 'json'; value: Record<string, unknown> }
  | { kind: 'multipart'; parts: MultipartPart[]; boundary: string }
  | null;

/**
 * The body's fields when it is a form, a multipart form or a JSON object (other bodies are not searched).
 * A body that can't be read is searched as an empty one, as Kong does (logged at info).
 */
async function readBody(ctx: Ctx): Promise<Body> {
  const contentType = String(ctx.request.headers['content-type'] ?? '');
  const type = contentType.toLowerCase();
  const isForm = type.startsWith('application/x-www-form-urlencoded');
  const isJson = type.startsWith('application/json') || /^application\/[^;]*\+json/.test(type);
  const isMultipart = type.startsWith('multipart/form-data');
  if (!isForm && !isJson && !isMultipart) return null;
  if (isMultipart) return readMultipart(ctx, contentType, await ctx.request.getBody());
  const raw = (await ctx.request.getBody()).toString('utf8');
  if (isForm) return { kind: 'form', params: new URLSearchParams(raw) };
  const value = jsonObject(raw);
  if (value === 'invalid') ctx.log.info('Cannot process request body: invalid JSON');
  return typeof value === 'object' ? { kind: 'json', value } : null;
}

function readMultipart(ctx: Ctx, contentType: string, raw: Buffer): Body {
  const boundary = multipartBoundary(contentType);
  try {
    if (boundary === null) throw new MultipartError('no boundary in the Content-Type');
    return { kind: 'multipart', parts: parseMultipart(raw, boundary), boundary };
  } catch (err) {
    if (!(err instanceof MultipartError)) throw err;
    ctx.log.info(`Cannot process request body: invalid multipart/form-data body: ${err.message}`);
    return null;
  }
}

function bodyValue(body: Body, name: string): string | string[] | undefined {
  if (body === null) return undefined;
  if (body.kind === 'multipart') {
    const values = body.parts.filter((p) => p.name === name).map(partText);
    return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
  }
  if (body.kind === 'form') {
    const all = body.params.getAll(name);
    return all.length === 0 ? undefined : all.length === 1 ? all[0] : all;
  }
  const v = body.value[name];
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(String);
  return undefined;
}

function removeFromBody(ctx: Ctx, body: Body, name: string): void {
  if (body === null) return;
  if (body.kind === 'multipart') {
    // Every other part, files included, goes upstream byte for byte. Dropping parts of a body that was
    // well formed with this boundary cannot make it collide, so the Content-Type stays as it is.
    body.parts = body.parts.filter((p) => p.name !== name);
    ctx.request.setBody(encodeMultipart(body.parts, body.boundary).body);
  } else if (body.kind === 'form') {
    body.params.delete(name);
    ctx.request.setBody(body.params.toString());
  } else {
    delete body.value[name];
    ctx.request.setBody(JSON.stringify(body.value));
  }
}

/** Sets who the request is and tells the upstream (Kong's X-Consumer-* headers). */
function setConsumer(ctx: Ctx, consumer: ConsumerEntity | null, credential: CredentialEntity | null): void {
  ctx.authenticate(consumer, credential);
  const r = ctx.request;
  r.setHeader('x-consumer-id', consumer?.id ?? undefined);
  r.setHeader('x-consumer-custom-id', consumer?.custom_id ?? undefined);
  r.setHeader('x-consumer-username', consumer?.username ?? undefined);
  r.setHeader('x-credential-identifier', credential?.id ?? undefined);
  r.setHeader('x-anonymous-consumer', credential ? undefined : 'true');
}

type Failure = { status: number; message: string };

/** Looks the key up in headers, query and (when asked, already read) body, name by name as Kong. */
function authenticate(ctx: Ctx, body: Body): Failure | null {
  const conf = ctx.config;
  const headers = ctx.request.headers;
  let key: string | undefined;
  for (const name of conf.key_names) {
    let v: string | string[] | undefined;
    if (conf.key_in_header) v = headers[name.toLowerCase()];
    if (v === undefined && conf.key_in_query) {
      // Parsed only when a header did not have the key.
      const all = ctx.request.query.getAll(name);
      v = all.length === 0 ? undefined : all.length === 1 ? all[0] : all;
    }
    if (v === undefined && conf.key_in_body) v = bodyValue(body, name);
    if (Array.isArray(v)) return { status: 401, message: KEY_AUTH_MESSAGES.duplicate };
    if (typeof v === 'string') {
      key = v;
      if (conf.hide_credentials) hideKey(ctx, body, name);
      break;
    }
  }
  if (key === undefined || key === '') return { status: 401, message: KEY_AUTH_MESSAGES.noKey };
  const credential = ctx.entities.keyAuthCredential(key);
  if (credential === null) return { status: 401, message: KEY_AUTH_MESSAGES.invalid };
  const consumerId = credential.consumer?.id;
  const consumer = consumerId === undefined ? null : ctx.entities.consumer(consumerId);
  if (consumer === null) {
    ctx.log.error(`credential ${credential.id} has no consumer in this configuration`);
    return { status: 500, message: 'An unexpected error occurred' };
  }
  setConsumer(ctx, consumer, credential);
  return null;
}

/** hide_credentials: the key leaves the query, the headers and the body before the request goes upstream. */
function hideKey(ctx: Ctx, body: Body, name: string): void {
  const upstreamQuery = new URLSearchParams(ctx.request.upstream.query);
  if (upstreamQuery.has(name)) {
    upstreamQuery.delete(name);
    ctx.request.setQuery(upstreamQuery);
  }
  ctx.request.removeHeader(name);
  if (ctx.config.key_in_body && bodyValue(body, name) !== undefined) removeFromBody(ctx, body, name);
}

function decide(ctx: Ctx, body: Body): void {
  const conf = ctx.config;
  const failure = authenticate(ctx, body);
  if (failure === null) return;
  if (conf.anonymous) {
    const anonymous = ctx.entities.consumer(conf.anonymous);
    if (anonymous === null) {
      const message = `anonymous consumer ${conf.anonymous} is configured but doesn't exist`;
      ctx.log.error(message);
      ctx.exit(500, { message });
      return;
    }
    setConsumer(ctx, anonymous, null);
    return;
  }
  const headers: Record<string, string> = {};
  // Kong's challenge: the configured realm, else Kong's own name.
  if (failure.status === 401) headers['WWW-Authenticate'] = `Key realm="${conf.realm ?? 'kong'}"`;
  ctx.exit(failure.status, { message: failure.message }, headers);
}

export default definePlugin<KeyAuthConfig>({
  name: 'key-auth',
  version: PACKAGE_VERSION,
  priority: 1250,
  schema,
  access(ctx) {
    const conf = ctx.config;
    if (!conf.run_on_preflight && ctx.request.method === 'OPTIONS') return;
    // With `anonymous` this is a "logical OR" with other authentication plugins: authenticated means done.
    if (conf.anonymous && ctx.credential !== null) return;
    // Only a body search makes the handler asynchronous (the body is read once, then searched).
    if (conf.key_in_body) return readBody(ctx).then((body) => decide(ctx, body));
    decide(ctx, null);
  },
});
