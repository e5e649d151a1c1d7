// Encoding of cluster frames: a reconfigure is gzip'd JSON, built once per config version for every data plane.
import { gunzipSync, gzipSync } from 'node:zlib';
import { configHash } from './hash.js';
import { MessageType, type ReconfigureMessage } from './protocol.js';

export interface EncodedConfig {
  version: number;
  hash: string;
  /** The gzip'd reconfigure frame, the same bytes for every data plane. */
  frame: Buffer;
  /** Plugin names the configuration uses (for the plugin-set check). */
  plugins: Set<string>;
}

export function encodeReconfigure(
  version: number,
  configTable: Record<string, unknown>,
  now = Date.now(),
): EncodedConfig {
  const { hash, hashes } = configHash(configTable);
  const message: ReconfigureMessage = {
    type: MessageType.reconfigure,
    timestamp: now / 1000,
    config_table: configTable,
    config_hash: hash,
    hashes: { ...hashes },
  };
  return { version, hash, frame: gzipSync(JSON.stringify(message)), plugins: pluginNames(configTable) };
}

/** Decodes and checks a reconfigure frame: the hash must be the hash of the table it came with. */
export function decodeReconfigure(frame: Buffer, maxBytes: number): ReconfigureMessage {
  const json = gunzipSync(frame, { maxOutputLength: maxBytes }).toString('utf8');
  const message = JSON.parse(json) as ReconfigureMessage;
  if (
    message?.type !== MessageType.reconfigure ||
    typeof message.config_table !== 'object' ||
    !message.config_table
  ) {
    throw new Error('not a reconfigure frame');
  }
  const { hash } = configHash(message.config_table);
  if (hash !== message.config_hash) {
    throw new Error(`config_hash ${message.config_hash} does not match the configuration (${hash})`);
  }
  return message;
}

/** Names of every plugin anywhere in a declarative table (top level or nested under services, routes…). */
export function pluginNames(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) pluginNames(item, out);
  } else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'plugins' && Array.isArray(child)) {
        for (const plugin of child) {
          const name = (plugin as { name?: unknown })?.name;
          if (typeof name === 'string') out.add(name);
        }
      }
      if (key !== 'config') pluginNames(child, out);
    }
  }
  return out;
}
