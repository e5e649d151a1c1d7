// The control plane's cluster listener: mutual TLS on cluster_listen, the /v1/outlet WebSocket, config pushes.
import { createServer, type Server } from 'node:https';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import type { HybridConfig } from '../config/index.js';
import { exportDeclarative } from '../declarative/index.js';
import type { Logger } from '../process/logger.js';
import type { Store } from '../store/index.js';
import { assertUsableCertificates, clusterTlsOptions } from './certificates.js';
import {
  announcedPlugins,
  checkConfiguration,
  checkVersion,
  pluginVersionNotes,
  type IncompatibleReason,
  type PluginVersion,
} from './compat.js';
import { checkPeer } from './peer.js';
import { createRevocationCheck } from './revocation.js';
import { encodeReconfigure, type EncodedConfig } from './frames.js';
import { MessageType, OUTLET_PATH, PING_TIMEOUT_MS, PUSH_COALESCE_MS, type BasicInfo } from './protocol.js';
import { watchdog } from './watchdog.js';
import { peerCertificateExpiry, type DataPlaneRegistry } from './registry.js';

export interface ClusterListenerOptions {
  config: HybridConfig;
  store: Store;
  logger: Logger;
  version: string;
  /**
   * The plugins this control plane runs, with their versions: a data plane's versions of the configured ones
   * are compared against these (plugin_version_incompatible). Without it only the plugin set is checked.
   */
  plugins?: readonly PluginVersion[];
  /** Records each data plane in the store (clustering_data_planes); none in tests of the listener alone. */
  registry?: DataPlaneRegistry;
}

/** What the control plane knows of one connected data plane. */
export interface DataPlaneSession {
  id: string;
  hostname: string;
  ip: string;
  version: string;
  labels: Record<string, string>;
  /** As announced in basic_info. */
  plugins: PluginVersion[];
  configHash: string | null;
  lastSeen: number;
  /** Why this data plane gets no configuration, if it gets none (its sync_status and the detail). */
  incompatible: { reason: IncompatibleReason; message: string } | null;
  /** notAfter of the client certificate presented in the handshake, unix seconds. */
  certExpiry: number | null;
  socket: WebSocket;
}

export interface ClusterListener {
  addresses: { host: string; port: number }[];
  sessions(): DataPlaneSession[];
  /** The hash of the configuration data planes are sent now (null before the first export). */
  configHash(): string | null;
  /**
   * Rotation: checks the certificates of `next` and, when usable, presents and trusts them in every new
   * handshake; established data plane connections stay up. Throws (changing nothing) when they are not.
   */
  updateCertificates(next: HybridConfig): void;
  close(): Promise<void>;
}

export async function startClusterListener(options: ClusterListenerOptions): Promise<ClusterListener> {
  const { config, store, version, registry } = options;
  const ownPlugins = options.plugins ?? [];
  const log = options.logger.child('clustering');
  const sessions = new Map<WebSocket, DataPlaneSession>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.cluster_max_payload });
  let current: EncodedConfig | null = null;

  // Certificates change on reload, so handshakes read them through this, never from a captured copy.
  let active = config;
  const currentConfig = () => active;
  const revocation =
    config.cluster_mtls === 'pki' && config.cluster_ocsp !== 'off'
      ? createRevocationCheck({ policy: config.cluster_ocsp })
      : null;
  let closing = false;
  const servers: Server[] = [];
  const addresses: { host: string; port: number }[] = [];

  const onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer) => {
    admit(req, socket, head).catch((err: Error) => {
      log.error(`data plane handshake failed: ${err.message}`);
      socket.destroy();
    });
  };

  async function admit(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const peer = checkPeer(currentConfig(), 'dp', req.socket as TLSSocket);
    if (!peer.accepted) {
      log.warn(`refused data plane connection from ${remote}: ${peer.reason}`);
      socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', 'https://cluster');
    if (url.pathname !== OUTLET_PATH) return refuse(socket, 404, 'Not found');
    const missing = ['node_id', 'node_hostname', 'node_version'].filter((k) => !url.searchParams.get(k));
    if (missing.length > 0) {
      log.warn(`refused data plane connection from ${remote}: missing ${missing.join(', ')}`);
      return refuse(socket, 400, `${missing.join(', ')} required`);
    }
    if (revocation) {
      const [leaf, issuer] = peer.path;
      // The data plane may leave while the responder is asked; its socket has no other listener meanwhile.
      let gone = false;
      const leave = () => (gone = true);
      socket.on('error', leave).once('close', leave);
      const verdict = await revocation.verdict(leaf!, issuer!);
      socket.off('error', leave).off('close', leave);
      if (gone || socket.destroyed || closing) {
        if (!closing) log.info(`data plane ${remote} went away during its OCSP check`);
        socket.destroy();
        return;
      }
      if (!verdict.allow) {
        log.warn(`refused data plane connection from ${remote}: ${verdict.reason}`);
        return refuse(socket, 403, verdict.reason);
      }
      if (verdict.warning)
        log.warn(`data plane ${remote} allowed (cluster_ocsp = optional): ${verdict.warning}`);
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session: DataPlaneSession = {
        id: url.searchParams.get('node_id')!,
        hostname: url.searchParams.get('node_hostname')!,
        version: url.searchParams.get('node_version')!,
        ip: req.socket.remoteAddress ?? '',
        labels: {},
        plugins: [],
        configHash: null,
        lastSeen: Date.now(),
        incompatible: null,
        certExpiry: peerCertificateExpiry(req.socket as TLSSocket),
        socket: ws,
      };
      accept(session);
    });
  }

  function accept(session: DataPlaneSession): void {
    const ws = session.socket;
    const who = `data plane ${session.id} (${session.hostname}, ${session.ip})`;
    const silence = watchdog(ws, () => log.warn(`${who} silent for ${PING_TIMEOUT_MS} ms, closing`));
    ws.on('ping', (payload: Buffer) => {
      silence.reset();
      session.lastSeen = Date.now();
      const hash = payload.toString('utf8');
      if (/^[0-9a-f]{32}$/.test(hash)) session.configHash = hash;
      registry?.updated(session);
    });
    ws.once('message', (data, isBinary) => {
      silence.reset();
      let info: BasicInfo;
      try {
        info = JSON.parse(isBinary ? '' : String(data)) as BasicInfo;
        if (info.type !== MessageType.basicInfo || !Array.isArray(info.plugins))
          throw new Error('not basic_info');
      } catch {
        log.warn(`${who}: first frame is not basic_info, closing`);
        ws.close(1002, 'basic_info expected');
        return;
      }
      session.plugins = announcedPlugins(info.plugins);
      session.labels = info.labels ?? {};
      const versionCheck = checkVersion(version, session.version);
      if (!versionCheck.compatible) {
        log.warn(`${who} refused: ${versionCheck.reason}: ${versionCheck.message}`);
        registry?.refused(session, versionCheck.reason);
        ws.close(4100, versionCheck.reason);
        return;
      }
      sessions.set(ws, session);
      log.notice(`${who} connected (version ${session.version})`);
      for (const note of pluginVersionNotes(ownPlugins, session.plugins))
        log[note.level](`${who}: ${note.message}`);
      if (current) send(session, current);
      registry?.connected(session);
    });
    ws.on('close', () => {
      silence.stop();
      if (sessions.delete(ws)) {
        log.notice(`${who} disconnected`);
        registry?.disconnected(session);
      }
    });
    ws.on('error', (err) => log.warn(`${who}: ${err.message}`));
  }

  function send(session: DataPlaneSession, encoded: EncodedConfig): void {
    const check = checkConfiguration(encoded.plugins, ownPlugins, session.plugins);
    if (!check.compatible) {
      if (session.incompatible?.message !== check.message) {
        log.warn(`data plane ${session.id}: ${check.reason}: ${check.message}; it gets no configuration`);
      }
      session.incompatible = { reason: check.reason, message: check.message };
      return;
    }
    session.incompatible = null;
    session.socket.send(encoded.frame, { binary: true });
  }

  // Push policy: the first change goes out at once, later ones in the same window together.
  let pushing: Promise<void> = Promise.resolve();
  let window: NodeJS.Timeout | null = null;
  let dirty = false;
  const push = () => {
    pushing = pushing.then(async () => {
      try {
        const { version: storeVersion, doc } = await exportDeclarative(store);
        if (current && current.version === storeVersion) return;
        current = encodeReconfigure(storeVersion, doc);
        log.info(
          `config version ${storeVersion} (hash ${current.hash}, ${current.frame.length} bytes) to ${sessions.size} data plane(s)`,
        );
        for (const session of sessions.values()) {
          send(session, current);
          registry?.updated(session);
        }
      } catch (err) {
        log.error(`could not export the configuration: ${(err as Error).message}`);
      }
    });
  };
  const onChange = () => {
    if (window) {
      dirty = true;
      return;
    }
    push();
    const tick = () => {
      if (dirty) {
        dirty = false;
        push();
        window = setTimeout(tick, PUSH_COALESCE_MS);
      } else {
        window = null;
      }
    };
    window = setTimeout(tick, PUSH_COALESCE_MS);
  };
  const unsubscribe = store.onChange(onChange);
  push();
  await pushing;

  try {
    for (const listener of config.cluster_listen) {
      const server = createServer({
        ...clusterTlsOptions(currentConfig()),
        requestCert: true,
        // The chain is checked by the PKI module on upgrade (depth, EKU presence, shared identity),
        // which Node's own verification does not cover.
        rejectUnauthorized: false,
      });
      server.on('request', (_req, res) => {
        res.writeHead(426, { 'content-type': 'application/json' }).end('{"message":"Upgrade Required"}');
      });
      server.on('upgrade', onUpgrade);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: listener.host, port: listener.port }, () => resolve());
      });
      servers.push(server);
      addresses.push({ host: listener.host, port: (server.address() as AddressInfo).port });
    }
  } catch (err) {
    unsubscribe();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    throw err;
  }

  return {
    addresses,
    sessions: () => [...sessions.values()],
    configHash: () => current?.hash ?? null,
    updateCertificates: (next) => {
      assertUsableCertificates(next, 'cp');
      const tls = clusterTlsOptions(next);
      for (const server of servers) server.setSecureContext(tls);
      const { cluster_cert, cluster_cert_key, cluster_ca_cert } = next;
      active = { ...active, cluster_cert, cluster_cert_key, cluster_ca_cert };
      log.notice('new data plane handshakes use the reloaded cluster certificates');
    },
    close: async () => {
      closing = true;
      unsubscribe();
      if (window) clearTimeout(window);
      for (const ws of wss.clients) ws.terminate();
      await Promise.all(
        servers.map(
          (s) =>
            new Promise((resolve) => {
              s.close(resolve);
              s.closeAllConnections();
            }),
        ),
      );
      await pushing;
    },
  };
}

function refuse(socket: Socket, status: 400 | 403 | 404, message: string): void {
  const body = JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
