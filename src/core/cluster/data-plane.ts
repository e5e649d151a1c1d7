// The data plane's cluster client: connects to the control plane with its certificate, applies each config.
import { hostname } from 'node:os';
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { clusterServerName, type HybridConfig } from '../config/index.js';
import { clusterTrustedRoots, refusePeer } from './peer.js';
import type { Logger } from '../process/logger.js';
import { decodeReconfigure } from './frames.js';
import {
  EMPTY_CONFIG_HASH,
  MessageType,
  OUTLET_PATH,
  PING_INTERVAL_MS,
  PING_TIMEOUT_MS,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
  type BasicInfo,
} from './protocol.js';
import { watchdog } from './control-plane.js';

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
  close(): Promise<void>;
}

export function startClusterClient(options: ClusterClientOptions): ClusterClient {
  const { config } = options;
  const log = options.logger.child('clustering');
  const serverName = clusterServerName(config);
  const trustedRoots = clusterTrustedRoots(config);
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
      node_version: options.version,
    });
    const url = `wss://${host}:${target.port}${OUTLET_PATH}?${query}`;
    const ws = new WebSocket(url, {
      cert: config.cluster_cert!.pem,
      key: config.cluster_cert_key!.pem,
      servername: serverName,
      ca: trustedRoots,
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
      const reason = refusePeer(config, 'cp', res.socket as TLSSocket);
      if (reason) {
        refusedReason = `control plane certificate refused: ${reason}`;
        ws.terminate();
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      refusedReason = `control plane answered HTTP ${res.statusCode}`;
      ws.terminate();
    });
    ws.on('open', () => {
      if (refusedReason) return;
      isOpen = true;
      attempt = 0;
      log.notice(`connected to control plane ${target.host}:${target.port}`);
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
    close: async () => {
      closed = true;
      if (retry) clearTimeout(retry);
      socket?.terminate();
    },
  };
}
