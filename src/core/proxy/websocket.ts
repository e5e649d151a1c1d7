// Upgrade requests (WebSocket and other HTTP/1.1 upgrades): a TCP or TLS connection to the chosen target,
// the request head rewritten as for any proxied request, then bytes piped both ways.
import type { IncomingMessage } from 'node:http';
import { connect as connectTcp, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { NO_PEER, sendAnswerOnSocket, type KongAnswer } from './answers.js';
import {
  SERVICE_DEFAULTS,
  chooseTarget,
  classifyFailure,
  serverName,
  upstreamFailureLine,
  type TargetChoice,
} from './forward.js';
import { upstreamRequestHeaders, type ClientView } from './headers.js';
import type { Balancer, BalancerPick, RouteMatch, ServiceEntity } from './types.js';
import {
  certificateRefusal,
  tlsConnectOptions,
  type UpstreamError,
  type UpstreamTlsOptions,
} from './upstream-client.js';
import { applyHeaderChanges, type RequestView } from '../plugins/runner/request.js';

export interface TunnelRequest {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  client: ClientView;
  match: RouteMatch;
  service: ServiceEntity;
  balancer: Balancer | null;
  scheme: 'http' | 'https';
  /** wss: the service's TLS toward its upstream (trust, client certificate, depth), as for its requests. */
  tls: UpstreamTlsOptions | null;
  /** Where refused upstream certificates are reported. */
  log: { error(message: string): void };
  via: string | null;
  requestId: string | null;
  /** Headers for the proxy's own answers (Server, X-Kong-Response-Latency, …). */
  ownHeaders: () => Record<string, string>;
  /** The request as plugins changed it (headers, path, query, method), when plugins applied. */
  changed?: RequestView;
}

/** Connects to a target (retrying on connection failures like any request) and joins the two sockets. */
export function tunnel(t: TunnelRequest): void {
  const choice: TargetChoice & { attempts: number; lastAnswer: KongAnswer | null } = {
    service: t.service,
    balancer: t.balancer,
    match: t.match,
    pick: null,
    tried: null,
    attempts: 0,
    lastAnswer: null,
    clientIp: t.client.realIp,
    headers: t.req.headers,
    path: t.client.path,
    query: new URLSearchParams(t.client.search),
    captures: t.match.captures,
  };
  const retries = t.service.retries ?? SERVICE_DEFAULTS.retries;
  const connectTimeout = t.service.connect_timeout ?? SERVICE_DEFAULTS.connect_timeout;
  const readTimeout = t.service.read_timeout ?? SERVICE_DEFAULTS.read_timeout;
  t.socket.on('error', () => undefined);

  const attempt = (): void => {
    const target = chooseTarget(choice, t.scheme);
    if (!target) {
      sendAnswerOnSocket(t.socket, choice.lastAnswer ?? NO_PEER, t.ownHeaders());
      return;
    }
    choice.attempts++;
    const pick = choice.pick;
    let upstream: Socket;
    try {
      upstream =
        t.scheme === 'https'
          ? connectTls({
              host: target.host,
              port: target.port,
              servername: serverName(target.hostHeader) ?? undefined,
              ...tlsConnectOptions(t.tls),
            })
          : connectTcp({ host: target.host, port: target.port });
    } catch (err) {
      // The service's TLS settings cannot be loaded: the same on every target.
      const line = upstreamFailureLine(err as UpstreamError, t.service, target.host, target.port);
      if (line !== null) t.log.error(line);
      sendAnswerOnSocket(t.socket, classifyFailure(err as UpstreamError).answer, t.ownHeaders());
      return;
    }
    let connected = false;
    upstream.setTimeout(connectTimeout);
    const onFailure = (err: Error & { code?: string }) => {
      upstream.destroy();
      if (connected) {
        t.socket.destroy();
        return;
      }
      const failure = classifyFailure(err);
      pick?.done(failure.outcome ?? { kind: 'none' });
      choice.lastAnswer = failure.answer;
      const line = upstreamFailureLine(err, t.service, target.host, target.port);
      if (line !== null) t.log.error(line);
      if (failure.notSent && choice.attempts <= retries && !t.socket.destroyed) attempt();
      else sendAnswerOnSocket(t.socket, failure.answer, t.ownHeaders());
    };
    upstream.on('error', (err: Error) =>
      onFailure(connected || t.scheme !== 'https' ? err : certificateRefusal(upstream as TLSSocket, err)),
    );
    upstream.on('timeout', () => {
      if (!connected) {
        const err: Error & { code?: string } = new Error('connect timeout');
        err.code = 'UPSTREAM_CONNECT_TIMEOUT';
        onFailure(err);
        return;
      }
      // Idle for read_timeout (nginx's proxy_read_timeout applies to upgraded connections too).
      upstream.destroy();
      t.socket.destroy();
    });
    upstream.once(t.scheme === 'https' ? 'secureConnect' : 'connect', () => {
      connected = true;
      upstream.setTimeout(readTimeout);
      upstream.write(requestHead(t, target.hostHeader));
      if (t.head.length > 0) upstream.write(t.head);
      join(t.socket, upstream, pick);
    });
  };
  attempt();
}

function requestHead(t: TunnelRequest, hostHeader: string): string {
  let headers = upstreamRequestHeaders(t.req, t.client, {
    host: hostHeader,
    path: t.client.path,
    via: t.via,
    requestId: t.requestId,
    upgrade: true,
  });
  let method = t.req.method ?? 'GET';
  let target = t.match.upstreamPath + t.client.search;
  if (t.changed) {
    method = t.changed.upstreamMethod;
    target = t.changed.upstreamTarget;
    if (t.changed.headerChanges) {
      const applied = applyHeaderChanges(headers, t.changed.headerChanges);
      headers = applied.list;
      if (applied.host !== null) headers[headers.indexOf('host') + 1] = applied.host;
    }
  }
  let head = `${method} ${target} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}\r\n`;
}

/** Pipes both ways; the upstream's status line tells the balancer how the attempt went. */
function join(client: Duplex, upstream: Socket, pick: BalancerPick | null): void {
  upstream.once('data', (first: Buffer) => {
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(first.subarray(0, 16).toString('latin1'))?.[1] ?? 0);
    pick?.done(status > 0 ? { kind: 'response', status } : { kind: 'tcp_failure' });
    pick = null;
  });
  upstream.pipe(client);
  client.pipe(upstream);
  const close = () => {
    if (pick) pick.done({ kind: 'tcp_failure' });
    pick = null;
    upstream.destroy();
    client.destroy();
  };
  upstream.on('close', close);
  client.on('close', close);
  client.on('error', close);
}
