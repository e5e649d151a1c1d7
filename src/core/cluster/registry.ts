// The control plane's record of its data planes in the store: coalesced upserts, restart recovery, purge.
import type { TLSSocket } from 'node:tls';
import type { DataPlaneRow, DataPlaneRows, SyncStatus } from '../store/index.js';
import type { DataPlaneSession } from './control-plane.js';

/** Registry writes from pings of every data plane go to the database together, at most this often. */
export const REGISTRY_FLUSH_MS = 1000;
/** How often rows older than cluster_data_plane_purge_delay are deleted. */
export const REGISTRY_PURGE_MS = 60_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the registry reads of a session (the listener's `DataPlaneSession` has all of it). */
export type RegisteredSession = Pick<
  DataPlaneSession,
  'id' | 'hostname' | 'ip' | 'version' | 'labels' | 'configHash' | 'lastSeen' | 'incompatible' | 'certExpiry'
>;

export interface DataPlaneRegistryOptions {
  rows: DataPlaneRows;
  /** This control plane's node id: rows it holds are marked disconnected when it restarts. */
  controlPlaneId: string;
  /** cluster_data_plane_purge_delay, in seconds. */
  purgeDelaySeconds: number;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  flushIntervalMs?: number;
  purgeIntervalMs?: number;
  log?: { info(message: string): void; warn(message: string): void };
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** The DP's client certificate expiry as seen in the handshake, in unix seconds (null without one). */
export function peerCertificateExpiry(socket: TLSSocket): number | null {
  const validTo = socket.getPeerX509Certificate()?.validTo;
  const ms = validTo ? Date.parse(validTo) : NaN;
  return Number.isFinite(ms) ? seconds(ms) : null;
}

/** Seconds until a row last seen at `lastSeen` is purged (Kong's `ttl`), never negative. */
export function rowTtl(lastSeen: number, purgeDelaySeconds: number, nowSeconds: number): number {
  return Math.max(0, lastSeen + purgeDelaySeconds - nowSeconds);
}

/**
 * Keeps `clustering_data_planes` current without a write per ping: hooks only change rows in memory,
 * and every dirty row is written in one transaction at most once per `flushIntervalMs`, so connects and
 * disconnects show within that interval while hundreds of pinging data planes cost one write a second.
 */
export class DataPlaneRegistry {
  private readonly rows: DataPlaneRows;
  private readonly now: () => number;
  private readonly flushIntervalMs: number;
  private readonly log: DataPlaneRegistryOptions['log'];
  /** The session currently holding each id: a late close of a replaced connection must not win. */
  private readonly live = new Map<string, RegisteredSession>();
  private pending = new Map<string, DataPlaneRow>();
  private flushTimer: NodeJS.Timeout | null = null;
  private purgeTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private lastFlush = 0;
  private readonly warnedIds = new Set<string>();
  private closed = false;

  constructor(private readonly options: DataPlaneRegistryOptions) {
    this.rows = options.rows;
    this.now = options.now ?? Date.now;
    this.flushIntervalMs = options.flushIntervalMs ?? REGISTRY_FLUSH_MS;
    this.log = options.log;
  }

  /** Marks rows this control plane held before a restart disconnected, purges, and purges periodically. */
  async start(): Promise<void> {
    const stale = await this.rows.disconnectAll(this.options.controlPlaneId, seconds(this.now()));
    if (stale > 0) this.log?.info(`${stale} data plane(s) from before the restart marked disconnected`);
    await this.purge();
    this.purgeTimer = setInterval(() => {
      this.purge().catch((err: Error) => this.log?.warn(`could not purge data planes: ${err.message}`));
    }, this.options.purgeIntervalMs ?? REGISTRY_PURGE_MS);
    this.purgeTimer.unref();
  }

  connected(session: RegisteredSession): void {
    this.live.set(session.id, session);
    this.record(session, 'connected', syncStatusOf(session));
  }

  /** After a ping or a compatibility change of a live session. */
  updated(session: RegisteredSession): void {
    if (this.live.get(session.id) === session) this.record(session, 'connected', syncStatusOf(session));
  }

  disconnected(session: RegisteredSession): void {
    if (this.live.get(session.id) !== session) return;
    this.live.delete(session.id);
    this.record(session, 'disconnected', syncStatusOf(session));
  }

  /** A data plane closed at once for being incompatible (Kong records it with that sync_status). */
  refused(session: RegisteredSession, syncStatus: SyncStatus): void {
    if (!this.live.has(session.id)) this.record(session, 'disconnected', syncStatus);
  }

  /** Deletes rows not seen for cluster_data_plane_purge_delay; returns how many. */
  async purge(): Promise<number> {
    const purged = await this.rows.purge(seconds(this.now()) - this.options.purgeDelaySeconds);
    if (purged > 0)
      this.log?.info(`purged ${purged} data plane(s) not seen for ${this.options.purgeDelaySeconds} s`);
    return purged;
  }

  /** Writes every pending row now (also what the timer calls). */
  flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  /** Stops the timers and writes what is pending. */
  async close(): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    this.purgeTimer = null;
    await this.flush();
    this.closed = true;
  }

  private record(session: RegisteredSession, status: DataPlaneRow['status'], syncStatus: SyncStatus): void {
    if (this.closed) return;
    if (!UUID.test(session.id)) {
      // Kong's registry keys rows by a UUID too; such a node stays unregistered rather than failing writes.
      if (!this.warnedIds.has(session.id))
        this.log?.warn(`data plane id '${session.id}' is not a UUID; not registered`);
      this.warnedIds.add(session.id);
      return;
    }
    const now = seconds(this.now());
    this.pending.set(session.id, {
      id: session.id,
      hostname: session.hostname,
      ip: session.ip,
      version: session.version,
      sync_status: syncStatus,
      config_hash: session.configHash,
      last_seen: seconds(session.lastSeen),
      labels: session.labels,
      cert_details: { expiry_timestamp: session.certExpiry },
      status,
      control_plane_id: this.options.controlPlaneId,
      // Only a new row takes it: the upsert keeps an existing row's created_at.
      created_at: now,
      updated_at: now,
    });
    this.schedule();
  }

  private schedule(): void {
    if (this.flushTimer || this.pending.size === 0) return;
    const wait = Math.max(0, this.lastFlush + this.flushIntervalMs - Date.now());
    this.flushTimer = setTimeout(() => void this.flush(), wait);
    this.flushTimer.unref();
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.lastFlush = Date.now();
    try {
      await this.rows.upsert([...batch.values()]);
    } catch (err) {
      this.log?.warn(`could not record ${batch.size} data plane(s): ${(err as Error).message}; retrying`);
      // Rows changed since are newer than the failed ones: keep those.
      for (const [id, row] of batch) if (!this.pending.has(id)) this.pending.set(id, row);
    }
    this.schedule();
  }
}

/** Kong's sync_status of a connected data plane: normal unless its plugins keep it from the configuration. */
function syncStatusOf(session: RegisteredSession): SyncStatus {
  return session.incompatible?.reason ?? 'normal';
}
