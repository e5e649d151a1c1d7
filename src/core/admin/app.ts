// One Admin API request from socket to answer: route, refuse writes on data planes, read the body, run, reply.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatAccessLine } from './access-log.js';
import { parseBody } from './body.js';
import type { AdminHandler, AdminRequest, AdminRoute } from './context.js';
import {
  daoErrorResponse,
  dataPlaneWriteRefused,
  methodNotAllowed,
  notFound,
  unexpected,
  type AdminResponse,
} from './responses.js';
import { AdminRouter, HTTP_METHODS, type HttpMethod } from './router.js';

export type NodeRole = 'traditional' | 'control_plane' | 'data_plane';

export interface AdminLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Default logger: stderr lines with the subsystem prefix, as every subsystem logs. */
export const consoleAdminLogger: AdminLogger = {
  info: (m) => console.error(`[admin] ${m}`),
  warn: (m) => console.error(`[admin] warn: ${m}`),
  error: (m) => console.error(`[admin] error: ${m}`),
};

interface RouteTarget {
  handler: AdminHandler;
  entity?: string;
  allowOnDataPlane?: boolean;
}

/** Counters behind `/status`'s `server` section. */
export interface ServerStats {
  connectionsAccepted: number;
  connectionsActive: number;
  totalRequests: number;
}

export interface AdminAppOptions {
  role: NodeRole;
  maxBodyBytes: number;
  log: AdminLogger;
  /** Value of the `Server` header (Kong sends `kong/<version>`). */
  serverHeader: string;
  /** Receives one line per answered request (nginx combined format, like Kong's admin_access.log). */
  accessLog?: (line: string) => void;
}

const WRITE_METHODS = new Set<HttpMethod>(['POST', 'PUT', 'PATCH', 'DELETE']);
const BODY_METHODS = new Set<HttpMethod>(['POST', 'PUT', 'PATCH']);

class BodyTooLarge extends Error {}

/** Reads the whole body, refusing (without buffering further) once it passes `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function toHttpMethod(method: string | undefined): HttpMethod | 'HEAD' | 'OPTIONS' | null {
  const m = (method ?? '').toUpperCase();
  if (m === 'HEAD' || m === 'OPTIONS') return m;
  return (HTTP_METHODS as readonly string[]).includes(m) ? (m as HttpMethod) : null;
}

/** The router plus the request pipeline around it; `server.ts` binds `handle` to its listeners. */
export class AdminApp {
  readonly router = new AdminRouter<RouteTarget>();
  readonly stats: ServerStats = { connectionsAccepted: 0, connectionsActive: 0, totalRequests: 0 };

  constructor(private readonly options: AdminAppOptions) {}

  get role(): NodeRole {
    return this.options.role;
  }

  register(route: AdminRoute): void {
    this.router.add(route.method, route.path, {
      handler: route.handler,
      entity: route.entity,
      allowOnDataPlane: route.allowOnDataPlane,
    });
  }

  /** Never rejects: every failure becomes an answer, and only a bug (logged) becomes a 500. */
  readonly handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    this.stats.totalRequests++;
    let response: AdminResponse;
    try {
      response = await this.dispatch(req);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        response = { status: 413, body: { message: 'Request size limit exceeded' } };
        res.setHeader('Connection', 'close');
      } else if (res.destroyed || req.socket.destroyed) {
        return; // The client went away mid-request: nobody to answer, nothing wrong on our side.
      } else {
        response = daoErrorResponse(err) ?? unexpected();
        if (response.status >= 500)
          this.options.log.error(`${req.method} ${req.url} failed: ${(err as Error)?.stack ?? String(err)}`);
      }
    }
    this.send(req, res, response);
  };

  private async dispatch(req: IncomingMessage): Promise<AdminResponse> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://admin.invalid');
    } catch {
      return notFound();
    }
    const method = toHttpMethod(req.method);
    const lookup = method === 'HEAD' || method === 'OPTIONS' || method === null ? 'GET' : method;
    const match = this.router.match(lookup, url.pathname);
    if (match.kind === 'not_found') return notFound();
    if (method === 'OPTIONS') {
      const allowed = HTTP_METHODS.filter((m) => this.router.match(m, url.pathname).kind === 'found');
      const allow = [...allowed, 'OPTIONS'].join(', ');
      return {
        status: 204,
        headers: { Allow: allow, 'Access-Control-Allow-Methods': allow },
      };
    }
    if (method === null || match.kind === 'method_not_allowed') {
      const allowed =
        match.kind === 'method_not_allowed'
          ? match.allowed
          : HTTP_METHODS.filter((m) => this.router.match(m, url.pathname).kind === 'found');
      return methodNotAllowed(allowed);
    }
    // No entity is named with a NUL character (and PostgreSQL cannot even compare one): not found.
    if (Object.values(match.params).some((p) => p.includes('\u0000'))) return notFound();
    const target = match.handler;
    const httpMethod: HttpMethod = method === 'HEAD' ? 'GET' : method;

    if (this.options.role === 'data_plane' && WRITE_METHODS.has(httpMethod) && !target.allowOnDataPlane)
      return dataPlaneWriteRefused(httpMethod, target.entity);

    let args: Record<string, unknown> = {};
    let bodyKind: AdminRequest['bodyKind'] = 'empty';
    if (BODY_METHODS.has(httpMethod)) {
      const parsed = parseBody(req.headers['content-type'], await readBody(req, this.options.maxBodyBytes));
      if (parsed.kind === 'error') return { status: parsed.status, body: parsed.body };
      if (parsed.kind !== 'empty') {
        args = parsed.args;
        bodyKind = parsed.kind;
      }
    } else {
      // Bodies of GET/DELETE carry nothing for us; drain them so keep-alive connections stay usable.
      req.resume();
    }

    return target.handler({
      method: httpMethod,
      path: url.pathname.replace(/\/+$/, '') || '/',
      params: match.params,
      query: url.searchParams,
      headers: req.headers,
      args,
      bodyKind,
    });
  }

  private send(req: IncomingMessage, res: ServerResponse, response: AdminResponse): void {
    if (res.headersSent || res.destroyed) return;
    const headers: Record<string, string> = {
      Server: this.options.serverHeader,
      'Access-Control-Allow-Origin': '*',
      ...response.headers,
    };
    let payload: string | undefined;
    if (response.text !== undefined) {
      payload = response.text.content;
      headers['Content-Type'] = response.text.contentType;
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    } else if (response.body !== undefined && response.status !== 204) {
      payload = JSON.stringify(response.body);
      headers['Content-Type'] = 'application/json; charset=utf-8';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    res.writeHead(response.status, headers);
    if (req.method === 'HEAD') res.end();
    else res.end(payload);
    if (this.options.accessLog) {
      this.options.accessLog(
        formatAccessLine({
          remoteAddress: req.socket.remoteAddress ?? '',
          time: new Date(),
          method: req.method ?? '-',
          url: req.url ?? '-',
          httpVersion: req.httpVersion,
          status: response.status,
          bytes: req.method === 'HEAD' || payload === undefined ? 0 : Buffer.byteLength(payload),
          referer: req.headers.referer,
          userAgent: req.headers['user-agent'],
        }),
      );
    }
    if (response.status === 413) {
      // The rest of an oversized body is never read: close instead of draining it.
      res.on('finish', () => req.socket.destroy());
    }
  }
}
