// The data plane's cluster client: connects to the control plane with its certificate, applies each config.
import { hostname } from 'node:os';
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { clusterServerName, type HybridConfig } from '../config/index.js';
import type { Logger } from '../process/logger.js';
import { assertUsableCertificates, clusterTlsOptions } from './certificates.js';
import { redactProxyUrl, tunnelledConnection } from './connect-tunnel.js';
import { nodeTrust, trustedPems } from '../pki/index.js';
import { refusePeer } from './peer.js';
import { decodeReconfigure } from './frames.js';
import {
  EMPTY_CONFIG_HASH,
  MessageType,
  NODE_VERSION_OVERRIDE,
  OUTLET_PATH,
  PING_INTERVAL_MS,
  PING_TIMEOUT_MS,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
  type BasicInfo,
} from './protocol.js';
import { watchdog } from './watchdog.js';

export interface ClusterClientOptions {
  config: HybridConfig;
  nodeId: string;
  version: string;
  plugins: { name: string; version: string }[];
  logger: Logger;
  /** The hash of the configuration being served (sent in every ping). */
  currentHash: () => string | null;
  /** Applies a validated configuration; throwing rejects it (the old one stays). */
  apply: (configTable: Record<string, unknown>, hash: string) => Promise<void>;
}

export interface ClusterClient {
  connected(): boolean;
  /**
   * Rotation: checks the certificates of `next` and, when usable, uses them from the next (re)connect on;
   * the current connection stays up. Throws (changing nothing) when they are not usable.
   */
  updateCertificates(next: HybridConfig): void;
  close(): Promise<void>;
}

export function startClusterClient(options: ClusterClientOptions): ClusterClient {
  const { config } = options;
  const log = options.logger.child('clustering');
  // Certificates change on reload, so each connect reads them through this, never from a captured copy.
  let active = config;
  const currentConfig = () => active;
  const proxy =
    config.cluster_use_proxy && config.proxy_server
      ? { proxyUrl: config.proxy_server, verifyProxyTls: config.proxy_server_ssl_verify }
      : null;
  const via = proxy ? ` through proxy_server ${redactProxyUrl(proxy.proxyUrl)}` : '';
  let socket: WebSocket | null = null;
  let attempt = 0;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;
  let isOpen = false;

  const connect = () => {
    const target = config.cluster_control_plane[attempt % config.cluster_control_plane.length]!;
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    const query = new URLSearchParams({
      node_id: options.nodeId,
      node_hostname: hostname(),
      node_version: NODE_VERSION_OVERRIDE ?? options.version,
    });
    const url = `wss://${host}:${target.port}${OUTLET_PATH}?${query}`;
    const tlsConfig = currentConfig();
    const ws = new WebSocket(url, {
      ...clusterTlsOptions(tlsConfig),
      servername: clusterServerName(tlsConfig),
      // The proxy's trust includes the cluster CA, so it follows certificate rotation too.
      ...(proxy
        ? { createConnection: tunnelledConnection({ ...proxy, proxyCa: trustedPems(nodeTrust(tlsConfig)) }) }
        : {}),
      // The control plane's chain is checked by the PKI module below, as the control plane checks ours.
      rejectUnauthorized: false,
      maxPayload: config.cluster_max_payload,
      handshakeTimeout: 10_000,
    } as WebSocket.ClientOptions);
    socket = ws;
    let upgraded = false;
    let refusedReason: string | null = null;
    let pinger: NodeJS.Timeout | null = null;
    let silence: ReturnType<typeof watchdog> | null = null;

    ws.on('upgrade', (res) => {
      upgraded = true;
      const reason = refusePeer(tlsConfig, 'cp', res.socket as TLSSocket);
      if (reason) {
        refusedReason = `control plane certificate refused: ${reason}`;
        ws.terminate();
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      refusedReason = `control plane answered HTTP ${res.statusCode}`;
      // A refusal after the TLS handshake (e.g. OCSP) says why in a short JSON body.
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body = (body + chunk).slice(0, 1024)));
      res.once('end', () => {
        const message = parseMessage(body);
        if (res.statusCode === 403) refusedReason = `rejected by control plane: ${message ?? 'HTTP 403'}`;
        else if (message) refusedReason += `: ${message}`;
        ws.terminate();
      });
      res.once('error', () => ws.terminate());
    });
    ws.on('open', () => {
      if (refusedReason) return;
      isOpen = true;
      attempt = 0;
      log.notice(`connected to control plane ${target.host}:${target.port}${via}`);
      const info: BasicInfo = {
        type: MessageType.basicInfo,
        plugins: options.plugins,
        labels: config.cluster_dp_labels,
      };
      ws.send(JSON.stringify(info));
      const ping = () => ws.ping(options.currentHash() ?? EMPTY_CONFIG_HASH);
      ping();
      pinger = setInterval(ping, PING_INTERVAL_MS);
      silence = watchdog(ws, () => log.warn(`control plane silent for ${PING_TIMEOUT_MS} ms, reconnecting`));
    });
    ws.on('pong', () => silence?.reset());
    ws.on('message', (data, isBinary) => {
      silence?.reset();
      if (!isBinary) return;
      void (async () => {
        try {
          const message = decodeReconfigure(data as Buffer, config.cluster_max_payload);
          if (message.config_hash === options.currentHash()) return;
          await options.apply(message.config_table, message.config_hash);
          log.notice(`applied configuration ${message.config_hash}`);
          ws.ping(message.config_hash);
        } catch (err) {
          log.error(`configuration from control plane rejected: ${(err as Error).message}`);
        }
      })();
    });
    ws.on('error', (err: NodeJS.ErrnoException) => {
      if (refusedReason) return;
      // A control plane that refuses our certificate closes the connection without an alert.
      refusedReason =
        !upgraded && (err.code === 'ECONNRESET' || /socket hang up/.test(err.message))
          ? 'rejected by control plane (connection closed during the handshake; the control plane log says why)'
          : err.message;
    });
    ws.on('close', (code, reason) => {
      if (pinger) clearInterval(pinger);
      silence?.stop();
      const wasOpen = isOpen;
      isOpen = false;
      if (closed) return;
      const why = refusedReason ?? (reason.length ? reason.toString() : `code ${code}`);
      if (wasOpen) log.warn(`disconnected from control plane: ${why}; keeping the current configuration`);
      else log.error(`cannot connect to control plane ${target.host}:${target.port}: ${why}`);
      attempt++;
      const backoff = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** Math.min(attempt, 10));
      retry = setTimeout(connect, backoff / 2 + Math.random() * (backoff / 2));
    });
  };

  connect();
  return {
    connected: () => isOpen,
    updateCertificates: (next) => {
      assertUsableCertificates(next, 'dp');
      const { cluster_cert, cluster_cert_key, cluster_ca_cert, lua_ssl_trusted_certificate } = next;
      // The trust too: an https proxy_server is verified against it.
      active = { ...active, cluster_cert, cluster_cert_key, cluster_ca_cert, lua_ssl_trusted_certificate };
      log.notice('the next connection to the control plane uses the reloaded cluster certificates');
    },
    close: async () => {
      closed = true;
      if (retry) clearTimeout(retry);
      socket?.terminate();
    },
  };
}

function parseMessage(body: string): string | undefined {
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}
