// A PluginContext built from plain values, for unit tests of plugin handlers without a proxy.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type {
  ConsumerEntity,
  CredentialEntity,
  EntityLookup,
  PluginContext,
  PluginLogRecord,
} from '../../src/core/plugins/api.js';
import type { RouteEntity, ServiceEntity } from '../../src/core/proxy/types.js';

export interface FakeContextInput<Config> {
  config: Config;
  pluginId?: string;
  method?: string;
  path?: string;
  query?: string;
  headers?: IncomingHttpHeaders;
  body?: Buffer | string;
  clientIp?: string;
  scheme?: 'http' | 'https';
  route?: RouteEntity | null;
  service?: ServiceEntity | null;
  consumers?: ConsumerEntity[];
  credentials?: CredentialEntity[];
  consumer?: ConsumerEntity | null;
  status?: number;
  responseHeaders?: OutgoingHttpHeaders;
  logRecord?: PluginLogRecord | null;
}

export interface FakeContext<Config> extends PluginContext<Config> {
  /** What `exit` was called with, if it was. */
  exited: { status: number; body: unknown; headers: Record<string, string | string[]> } | null;
  logs: { level: string; message: string }[];
}

export function fakeContext<Config>(input: FakeContextInput<Config>): FakeContext<Config> {
  const headers: IncomingHttpHeaders = { host: 'example.com', ...input.headers };
  const upstreamHeaders: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) upstreamHeaders[k] = v;
  const upstream = {
    headers: upstreamHeaders,
    path: input.path ?? '/',
    query: input.query ?? '',
    method: input.method ?? 'GET',
  };
  let body = input.body === undefined ? Buffer.alloc(0) : Buffer.from(input.body);
  const responseHeaders: OutgoingHttpHeaders = { ...input.responseHeaders };
  const logs: { level: string; message: string }[] = [];
  const log = (level: string) => (message: string) => logs.push({ level, message });
  const consumers = input.consumers ?? [];
  const credentials = input.credentials ?? [];
  const entities: EntityLookup = {
    consumer: (key) => consumers.find((c) => c.id === key || c.username === key) ?? null,
    keyAuthCredential: (key) => credentials.find((c) => c.key === key) ?? null,
    all: (entity) =>
      (entity === 'consumers' ? consumers : entity === 'keyauth_credentials' ? credentials : []) as Record<
        string,
        unknown
      >[],
  };
  const ctx: FakeContext<Config> = {
    config: input.config,
    pluginId: input.pluginId ?? '00000000-0000-4000-8000-000000000001',
    request: {
      method: input.method ?? 'GET',
      path: input.path ?? '/',
      query: new URLSearchParams(input.query ?? ''),
      headers,
      scheme: input.scheme ?? 'http',
      host: String(headers.host ?? 'example.com').split(':')[0]!,
      port: 8000,
      clientIp: input.clientIp ?? '127.0.0.1',
      contentLength: input.body === undefined ? null : body.length,
      getBody: async () => body,
      setHeader(name, value) {
        if (value === undefined) delete upstreamHeaders[name.toLowerCase()];
        else upstreamHeaders[name.toLowerCase()] = value;
      },
      removeHeader(name) {
        delete upstreamHeaders[name.toLowerCase()];
      },
      setPath(path) {
        upstream.path = path;
      },
      setQuery(query) {
        upstream.query = String(query);
      },
      setMethod(method) {
        upstream.method = method;
      },
      setBody(next) {
        body = Buffer.from(next);
      },
      upstream,
    },
    response: {
      status: input.status ?? 200,
      headers: responseHeaders,
      setHeader(name, value) {
        if (value === undefined) delete responseHeaders[name.toLowerCase()];
        else responseHeaders[name.toLowerCase()] = value;
      },
      removeHeader(name) {
        delete responseHeaders[name.toLowerCase()];
      },
      fromPlugin: false,
    },
    route: input.route ?? null,
    service: input.service ?? null,
    consumer: input.consumer ?? null,
    credential: null,
    authenticate(consumer, credential) {
      (ctx as { consumer: ConsumerEntity | null }).consumer = consumer;
      (ctx as { credential: CredentialEntity | null }).credential = credential;
    },
    entities,
    shared: new Map(),
    state: new Map(),
    log: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    exit(status, exitBody, exitHeaders = {}) {
      ctx.exited = { status, body: exitBody, headers: exitHeaders };
    },
    logRecord: input.logRecord ?? null,
    exited: null,
    logs,
  };
  return ctx;
}
