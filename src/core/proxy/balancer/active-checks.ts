// Active health checks: probe addresses over TCP, TLS, HTTP or HTTPS on a timer and report each outcome.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { UpstreamTlsOptions } from '../upstream-client.js';
import type { Address } from './address.js';
import { classifyStatus, type ActiveSettings, type HealthReport } from './health.js';

export interface ProbeTarget {
  ip: string;
  port: number;
  /** Host header (and default SNI): the upstream's host_header, else the target's host name. */
  hostHeader: string;
}

/** A lua-resty-healthcheck `timeout` of 0 leaves the socket's default, which is 60 s in nginx. */
const DEFAULT_TIMEOUT_S = 60;

/**
 * One probe. `tcp`/`grpc` only connect, `grpcs` completes a TLS handshake, `http`/`https` send
 * `GET http_path` and classify the status. Refused or reset connections and failed handshakes are
 * tcp failures, running out of `timeout` is a timeout, and a status in neither list is no report.
 * `tls` is what TLS probes trust, check (https_verify_certificate, depth) and present; without it they verify
 * against Node's CA list as https_verify_certificate says and present no certificate.
 */
export function probe(
  target: ProbeTarget,
  settings: ActiveSettings,
  signal: AbortSignal,
  tls: UpstreamTlsOptions | null = null,
): Promise<HealthReport | null> {
  return new Promise((resolve) => {
    let settled = false;
    let destroy = (): void => {};
    const finish = (report: HealthReport | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      destroy();
      resolve(report);
    };
    const onAbort = (): void => finish(null);
    const timer = setTimeout(() => finish('timeout'), (settings.timeout || DEFAULT_TIMEOUT_S) * 1000);
    signal.addEventListener('abort', onAbort);
    if (signal.aborted) return finish(null);

    const sni = settings.httpsSni ?? target.hostHeader;
    const servername = isIP(sni) ? undefined : sni;
    let secure: ReturnType<UpstreamTlsOptions['connectOptions']> = {};
    if (settings.type === 'https' || settings.type === 'grpcs') {
      try {
        secure = tls?.connectOptions() ?? { rejectUnauthorized: settings.httpsVerifyCertificate };
      } catch {
        // A client certificate that cannot be loaded: no handshake can succeed.
        return finish('tcp_failure');
      }
    }

    if (settings.type === 'tcp' || settings.type === 'grpc') {
      const socket = netConnect({ host: target.ip, port: target.port });
      destroy = () => socket.destroy();
      socket.once('connect', () => finish('success'));
      socket.once('error', () => finish('tcp_failure'));
      return;
    }
    if (settings.type === 'grpcs') {
      const socket = tlsConnect({ host: target.ip, port: target.port, servername, ...secure });
      destroy = () => socket.destroy();
      socket.once('secureConnect', () => finish('success'));
      socket.once('error', () => finish('tcp_failure'));
      return;
    }
    const request = settings.type === 'https' ? httpsRequest : httpRequest;
    const req = request({
      host: target.ip,
      port: target.port,
      method: 'GET',
      path: settings.httpPath,
      headers: { ...settings.headers, host: target.hostHeader, connection: 'close' },
      setHost: false,
      agent: false,
      servername,
      ...secure,
    });
    destroy = () => req.destroy();
    req.once('response', (res) => {
      finish(classifyStatus(res.statusCode ?? 0, settings));
      res.destroy();
    });
    req.once('error', () => finish('tcp_failure'));
    req.end();
  });
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export interface ActiveCheckerHooks {
  /** The addresses to probe now (weight-0 ones are skipped). */
  addresses(): readonly Address[];
  probeTarget(address: Address): ProbeTarget;
  report(address: Address, report: HealthReport): void;
  /** Called before each round (DNS refresh of idle upstreams). */
  beforeRound(): void;
}

/**
 * Two loops as in lua-resty-healthcheck: healthy addresses are probed every `healthy.interval`
 * seconds, unhealthy ones every `unhealthy.interval`; an interval of 0 turns that loop off. A round
 * waits for its probes (at most `concurrency` at once) before the next one is scheduled.
 */
export class ActiveChecker {
  private readonly timers = new Map<'healthy' | 'unhealthy', NodeJS.Timeout>();
  private readonly abort = new AbortController();
  private stopped = false;

  constructor(
    private readonly settings: ActiveSettings,
    private readonly hooks: ActiveCheckerHooks,
    /** What TLS probes trust and present (see probe). */
    private readonly tls: UpstreamTlsOptions | null = null,
  ) {}

  start(): void {
    if (this.settings.healthyInterval > 0) this.schedule('healthy');
    if (this.settings.unhealthyInterval > 0) this.schedule('unhealthy');
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.abort.abort();
  }

  private schedule(which: 'healthy' | 'unhealthy'): void {
    const seconds = which === 'healthy' ? this.settings.healthyInterval : this.settings.unhealthyInterval;
    const timer = setTimeout(() => void this.round(which), seconds * 1000);
    // Probing alone must not keep a process alive.
    timer.unref();
    this.timers.set(which, timer);
  }

  private async round(which: 'healthy' | 'unhealthy'): Promise<void> {
    if (this.stopped) return;
    this.hooks.beforeRound();
    const due = this.hooks
      .addresses()
      .filter((address) => address.weight > 0 && address.health.healthy === (which === 'healthy'));
    await eachLimited(due, this.settings.concurrency, async (address) => {
      const report = await probe(this.hooks.probeTarget(address), this.settings, this.abort.signal, this.tls);
      if (report && !this.stopped) this.hooks.report(address, report);
    });
    if (!this.stopped) this.schedule(which);
  }
}
