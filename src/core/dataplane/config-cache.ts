// The data plane's configuration cache: the last applied config in an lmdb environment in the prefix, plain or AES-256-GCM.
import { spawnSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, createPrivateKey, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync, gzip } from 'node:zlib';
import type { RootDatabase } from 'lmdb';
import { InvalidError } from '../errors.js';
import { openEnvironment, RECORD_KEY } from './lmdb-environment.js';

export type ConfigCacheMode = 'unencrypted' | 'encrypted' | 'off';

export interface ConfigCacheOptions {
  /** The lmdb environment directory (`lmdb_environment_path` resolved against the prefix). */
  path: string;
  /** `lmdb_map_size` in bytes: the largest cache the environment can hold. */
  mapSize: number;
  mode: ConfigCacheMode;
  /** The node's `cluster_cert_key` (PEM); the encryption key is derived from it. Required when encrypted. */
  clusterKeyPem?: string;
  log: { warn(message: string): void; info(message: string): void };
}

export interface CachedConfig {
  hash: string;
  table: Record<string, unknown>;
  /** The control plane's config version, when it was known at save time. */
  version?: number;
  /** When the record was written (ms since the epoch). */
  savedAt: number;
  /** Number of entities in the table (rows of every top-level entity list). */
  entities: number;
}

export interface ConfigCache {
  readonly mode: ConfigCacheMode;
  /** The cached config, or null (nothing cached, or a cache that cannot be used: the reason is logged). */
  load(): CachedConfig | null;
  /** Writes the config in one transaction; false (and a warning) when it could not be written. */
  save(config: { hash: string; table: Record<string, unknown>; version?: number }): Promise<boolean>;
  close(): Promise<void>;
}

const MAGIC = Buffer.from('HDPC');
const FORMAT_VERSION = 1;
const CIPHER = { none: 0, aes256gcm: 1 } as const;
const HEADER_BYTES = MAGIC.length + 2;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** HKDF parameters: fixed, so the same cluster key always gives the same cache key. */
const KDF_SALT = Buffer.from('hybrid data plane');
const KDF_INFO = Buffer.from('hybrid data plane config cache v1');
/** How long the probe of an existing cache may take before it counts as unreadable. */
const PROBE_TIMEOUT_MS = 30_000;

const gzipAsync = promisify(gzip);

export function openConfigCache(options: ConfigCacheOptions): ConfigCache {
  if (options.mode === 'off') return offCache;
  return new LmdbConfigCache(options);
}

/** `data_plane_config_cache_mode = off`: nothing is read or written (an existing cache is left alone). */
const offCache: ConfigCache = {
  mode: 'off',
  load: () => null,
  save: async () => true,
  close: async () => undefined,
};

class LmdbConfigCache implements ConfigCache {
  readonly mode: ConfigCacheMode;
  private readonly key: Buffer | null;
  private db: RootDatabase<Buffer, string> | null = null;
  /** The raw record found at start, once the environment has been probed; null when there was none. */
  private probed: { record: Buffer | null } | null = null;
  /** The environment could not be opened: saving is off for this run (said once). */
  private broken = false;
  /** Saves run one after another, so the last config applied is the last one written. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ConfigCacheOptions) {
    this.mode = options.mode;
    if (options.mode === 'encrypted') {
      if (!options.clusterKeyPem)
        throw new InvalidError(
          'config_cache_no_key',
          'data_plane_config_cache_mode = encrypted needs cluster_cert_key to derive the cache key',
          { hint: 'Set cluster_cert_key, or set data_plane_config_cache_mode to unencrypted or off.' },
        );
      this.key = cacheKey(options.clusterKeyPem);
    } else {
      this.key = null;
    }
  }

  load(): CachedConfig | null {
    const record = this.probe();
    if (!record) return null;
    try {
      return decodeRecord(record, this.key);
    } catch (err) {
      this.options.log.warn(
        `config cache ${this.options.path} not used: ${(err as Error).message}; waiting for the control plane`,
      );
      return null;
    }
  }

  save(config: { hash: string; table: Record<string, unknown>; version?: number }): Promise<boolean> {
    const run = this.queue.then(async () => {
      try {
        const record = await encodeRecord(config, this.key);
        const db = this.database();
        if (!db) return false;
        // One put is one lmdb write transaction: a reader (or the next start) sees the old record or the new one.
        await db.put(RECORD_KEY, record);
        return true;
      } catch (err) {
        this.options.log.warn(
          `could not write configuration ${config.hash} to the config cache ${this.options.path}: ${(err as Error).message}`,
        );
        return false;
      }
    });
    this.queue = run;
    return run;
  }

  async close(): Promise<void> {
    await this.queue;
    const db = this.db;
    this.db = null;
    await db?.close();
  }

  /** The record on disk, read by a separate process first: a damaged lmdb file can crash the reader. */
  private probe(): Buffer | null {
    if (this.probed) return this.probed.record;
    this.probed = { record: null };
    const { path, log } = this.options;
    if (!existsSync(join(path, 'data.mdb'))) return null;
    const result = spawnSync(
      process.execPath,
      [...childExecArgv(), PROBE_SCRIPT, path, String(this.options.mapSize)],
      {
        maxBuffer: this.options.mapSize + 1024,
        timeout: PROBE_TIMEOUT_MS,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    if (result.status === 0 && !result.error) {
      this.probed.record = result.stdout.length > 0 ? result.stdout : null;
      return this.probed.record;
    }
    const why = result.error
      ? result.error.message
      : result.signal
        ? `reading it crashed (${result.signal})`
        : lastLine(result.stderr.toString('utf8')) || `exit code ${result.status}`;
    log.warn(`config cache ${path} is corrupt or unreadable (${why}); moving it aside to ${path}.corrupt`);
    setAside(path, log);
    return null;
  }

  /** The environment, opened on first use (after the probe, so a damaged one has been moved aside). */
  private database(): RootDatabase<Buffer, string> | null {
    if (this.db) return this.db;
    if (this.broken) return null;
    const { path, mapSize, log } = this.options;
    this.probe();
    try {
      this.db = openEnvironment(path, mapSize);
      return this.db;
    } catch (err) {
      this.broken = true;
      log.warn(
        `config cache ${path} cannot be opened, configs will not be cached: ${(err as Error).message}`,
      );
      return null;
    }
  }
}

/** AES-256 key = HKDF-SHA256 over the cluster private key (PKCS#8 DER): the cache is useless without that key. */
function cacheKey(pem: string): Buffer {
  const der = createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' });
  return Buffer.from(hkdfSync('sha256', der, KDF_SALT, KDF_INFO, 32));
}

/**
 * Record layout: "HDPC", format version, cipher; for AES-256-GCM a 12-byte IV and the 16-byte tag
 * (the header is authenticated data); then gzip'd JSON {hash, version, saved_at, config_table}.
 * gzip's CRC catches damage to a plain record, the GCM tag any change to an encrypted one.
 */
async function encodeRecord(
  config: { hash: string; table: Record<string, unknown>; version?: number },
  key: Buffer | null,
): Promise<Buffer> {
  const body = await gzipAsync(
    JSON.stringify({
      hash: config.hash,
      version: config.version,
      saved_at: Date.now(),
      config_table: config.table,
    }),
    { level: 1 },
  );
  const header = Buffer.concat([MAGIC, Buffer.from([FORMAT_VERSION, key ? CIPHER.aes256gcm : CIPHER.none])]);
  if (!key) return Buffer.concat([header, body]);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(header);
  const encrypted = Buffer.concat([cipher.update(body), cipher.final()]);
  return Buffer.concat([header, iv, cipher.getAuthTag(), encrypted]);
}

function decodeRecord(record: Buffer, key: Buffer | null): CachedConfig {
  if (record.length < HEADER_BYTES || !record.subarray(0, MAGIC.length).equals(MAGIC))
    throw new Error('not a config cache record');
  const header = record.subarray(0, HEADER_BYTES);
  const format = record[MAGIC.length]!;
  if (format !== FORMAT_VERSION)
    throw new Error(`record format ${format} is not supported (expected ${FORMAT_VERSION})`);
  const cipher = record[MAGIC.length + 1]!;
  let body: Buffer;
  if (cipher === CIPHER.none) {
    if (key) throw new Error('the cache is not encrypted but data_plane_config_cache_mode = encrypted');
    body = record.subarray(HEADER_BYTES);
  } else if (cipher === CIPHER.aes256gcm) {
    if (!key) throw new Error('the cache is encrypted but data_plane_config_cache_mode = unencrypted');
    const iv = record.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES);
    const tag = record.subarray(HEADER_BYTES + IV_BYTES, HEADER_BYTES + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(header);
    decipher.setAuthTag(tag);
    try {
      body = Buffer.concat([
        decipher.update(record.subarray(HEADER_BYTES + IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new Error('cannot decrypt it (written with another cluster_cert_key, or damaged)');
    }
  } else {
    throw new Error(`unknown cipher ${cipher}`);
  }
  const parsed = JSON.parse(gunzipSync(body).toString('utf8')) as {
    hash?: unknown;
    version?: unknown;
    saved_at?: unknown;
    config_table?: unknown;
  };
  const table = parsed.config_table;
  if (typeof parsed.hash !== 'string' || !/^[0-9a-f]{32}$/.test(parsed.hash))
    throw new Error('the record has no config hash');
  if (!table || typeof table !== 'object' || Array.isArray(table))
    throw new Error('the record has no config table');
  return {
    hash: parsed.hash,
    table: table as Record<string, unknown>,
    version: typeof parsed.version === 'number' ? parsed.version : undefined,
    savedAt: typeof parsed.saved_at === 'number' ? parsed.saved_at : 0,
    entities: countEntities(table as Record<string, unknown>),
  };
}

/** Rows of every top-level entity list (`_format_version` and other `_` keys are not entities). */
export function countEntities(table: Record<string, unknown>): number {
  let n = 0;
  for (const [key, value] of Object.entries(table))
    if (!key.startsWith('_') && Array.isArray(value)) n += value.length;
  return n;
}

/** A damaged environment is kept for inspection beside the cache (one generation), so a fresh one can be written. */
function setAside(path: string, log: ConfigCacheOptions['log']): void {
  const aside = `${path}.corrupt`;
  try {
    rmSync(aside, { recursive: true, force: true });
    renameSync(path, aside);
  } catch (err) {
    try {
      rmSync(path, { recursive: true, force: true });
    } catch {
      log.warn(`cannot move ${path} aside or remove it: ${(err as Error).message}`);
    }
  }
}

/** The probe script beside this module (.ts when running from source, .js when built). */
const PROBE_SCRIPT = fileURLToPath(
  new URL(`./cache-probe${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

/** The probe runs like this process (a TypeScript loader, say) but must not open a second inspector. */
function childExecArgv(): string[] {
  return process.execArgv.filter((arg) => !arg.startsWith('--inspect'));
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}
