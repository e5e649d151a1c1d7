// The clustering_data_planes table on either engine: its schema (a migration) and the registry's reads and writes.
import { invalidSize } from '../errors.js';
import type { DataPlanePage, DataPlaneRow, DataPlaneRows, SyncStatus } from '../types.js';
import type { Row, SqlDriver } from './driver.js';
import { decodeOffset, encodeOffset } from './entity-operations.js';
import { q } from './tables.js';

const TABLE = q('clustering_data_planes');

/** Column order of inserts; labels are JSON text, cert_details is flattened to its one field. */
const COLUMNS = [
  'id',
  'hostname',
  'ip',
  'version',
  'sync_status',
  'config_hash',
  'last_seen',
  'labels',
  'cert_expiry',
  'status',
  'control_plane_id',
  'created_at',
  'updated_at',
] as const;

/** Migration 001: Kong's clustering_data_planes, plus status and the control plane holding the connection. */
export function dataPlaneSchema(): string[] {
  return [
    `CREATE TABLE ${TABLE} (
  ${q('id')} TEXT PRIMARY KEY,
  ${q('hostname')} TEXT NOT NULL,
  ${q('ip')} TEXT NOT NULL,
  ${q('version')} TEXT NOT NULL,
  ${q('sync_status')} TEXT NOT NULL,
  ${q('config_hash')} TEXT,
  ${q('last_seen')} BIGINT NOT NULL,
  ${q('labels')} TEXT NOT NULL,
  ${q('cert_expiry')} BIGINT,
  ${q('status')} TEXT NOT NULL,
  ${q('control_plane_id')} TEXT,
  ${q('created_at')} BIGINT NOT NULL,
  ${q('updated_at')} BIGINT NOT NULL
)`,
    `CREATE INDEX ${q('clustering_data_planes_last_seen_idx')} ON ${TABLE} (${q('last_seen')})`,
  ];
}

function values(row: DataPlaneRow): unknown[] {
  return [
    row.id,
    row.hostname,
    row.ip,
    row.version,
    row.sync_status,
    row.config_hash,
    row.last_seen,
    JSON.stringify(row.labels),
    row.cert_details.expiry_timestamp,
    row.status,
    row.control_plane_id,
    row.created_at,
    row.updated_at,
  ];
}

const nullableNumber = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function fromRow(r: Row): DataPlaneRow {
  return {
    id: String(r.id),
    hostname: String(r.hostname),
    ip: String(r.ip),
    version: String(r.version),
    sync_status: String(r.sync_status) as SyncStatus,
    config_hash: r.config_hash === null ? null : String(r.config_hash),
    last_seen: Number(r.last_seen),
    labels: JSON.parse(String(r.labels)) as Record<string, string>,
    cert_details: { expiry_timestamp: nullableNumber(r.cert_expiry) },
    status: String(r.status) === 'connected' ? 'connected' : 'disconnected',
    control_plane_id: r.control_plane_id === null ? null : String(r.control_plane_id),
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
  };
}

const columnList = COLUMNS.map(q).join(', ');
/** Rows per statement: one round trip for many rows, within both engines' limits on bound parameters. */
const ROWS_PER_STATEMENT = 500;

/** A multi-row upsert; an existing row keeps its created_at. */
function upsertSql(rows: number): string {
  const tuple = `(${COLUMNS.map(() => '?').join(', ')})`;
  return (
    `INSERT INTO ${TABLE} (${columnList}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')} ` +
    `ON CONFLICT (${q('id')}) DO UPDATE SET ` +
    COLUMNS.filter((c) => c !== 'id' && c !== 'created_at')
      .map((c) => `${q(c)} = excluded.${q(c)}`)
      .join(', ')
  );
}

/** Registry rows on a SQL driver; writes are transactions that leave the config version alone. */
export class DataPlaneRowsOnSql implements DataPlaneRows {
  constructor(private readonly driver: SqlDriver) {}

  async upsert(rows: DataPlaneRow[]): Promise<void> {
    // One statement may not touch a row twice (PostgreSQL refuses): the last version of each id wins.
    const unique = [...new Map(rows.map((row) => [row.id, row])).values()];
    if (unique.length === 0) return;
    await this.driver.write(
      async (client) => {
        for (let i = 0; i < unique.length; i += ROWS_PER_STATEMENT) {
          const chunk = unique.slice(i, i + ROWS_PER_STATEMENT);
          await client.run(upsertSql(chunk.length), chunk.flatMap(values));
        }
      },
      { configuration: false },
    );
  }

  async get(id: string): Promise<DataPlaneRow | null> {
    const rows = await this.driver.read((client) =>
      client.query(`SELECT ${columnList} FROM ${TABLE} WHERE ${q('id')} = ?`, [id]),
    );
    return rows[0] ? fromRow(rows[0]) : null;
  }

  async list(options: { size?: number; offset?: string } = {}): Promise<DataPlanePage> {
    const size = options.size ?? 100;
    if (!Number.isInteger(size) || size < 1 || size > 1000) throw invalidSize();
    const after = options.offset === undefined ? null : decodeOffset(options.offset);
    const rows = await this.driver.read((client) =>
      client.query(
        `SELECT ${columnList} FROM ${TABLE} ${after === null ? '' : `WHERE ${q('id')} > ?`} ` +
          `ORDER BY ${q('id')} LIMIT ${size + 1}`,
        after === null ? [] : [after],
      ),
    );
    const data = rows.slice(0, size).map(fromRow);
    const page: DataPlanePage = { data };
    if (rows.length > size) page.offset = encodeOffset(data[data.length - 1]!.id);
    return page;
  }

  async disconnectAll(controlPlaneId: string, at: number): Promise<number> {
    return this.driver.write(
      async (client) => {
        const rows = await client.query(
          `UPDATE ${TABLE} SET ${q('status')} = 'disconnected', ${q('updated_at')} = ? ` +
            `WHERE ${q('status')} = 'connected' AND ${q('control_plane_id')} = ? RETURNING ${q('id')}`,
          [at, controlPlaneId],
        );
        return rows.length;
      },
      { configuration: false },
    );
  }

  async purge(lastSeenBefore: number): Promise<number> {
    return this.driver.write(
      async (client) => {
        const rows = await client.query(
          `DELETE FROM ${TABLE} WHERE ${q('last_seen')} < ? RETURNING ${q('id')}`,
          [lastSeenBefore],
        );
        return rows.length;
      },
      { configuration: false },
    );
  }
}
