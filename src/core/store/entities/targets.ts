// Targets: the host:port backends of an upstream, with a weight (port defaults to 8000 as in Kong).
import { isIP } from 'node:net';
import type { ErrorTree } from '../../schema/schema.js';
import { host } from '../../schema/typedefs.js';
import { baseFields, foreign, type EntityDefinition } from './definition.js';

const idOf = (v: unknown) => (v as { id?: string } | null)?.id ?? null;

/** Splits "host[:port]" (IPv6 in brackets); null when it is not a valid target. */
export function parseTarget(value: string): { host: string; port: number } | null {
  let hostPart = value;
  let portPart: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (v6) {
    if (isIP(v6[1]!) !== 6) return null;
    hostPart = `[${v6[1]}]`;
    portPart = v6[2];
  } else if (isIP(value) === 6) {
    hostPart = `[${value}]`;
  } else {
    const idx = value.lastIndexOf(':');
    if (idx >= 0) {
      hostPart = value.slice(0, idx);
      portPart = value.slice(idx + 1);
    }
    if (host.custom && (host.custom as (v: string) => string | null)(hostPart)) return null;
  }
  if (portPart !== undefined && !/^\d{1,5}$/.test(portPart)) return null;
  const port = portPart === undefined ? 8000 : Number(portPart);
  if (port < 0 || port > 65535) return null;
  return { host: hostPart, port };
}

function normalizeTarget(input: Record<string, unknown>): {
  input: Record<string, unknown>;
  errors?: ErrorTree;
} {
  if (typeof input.target !== 'string') return { input };
  const parsed = parseTarget(input.target);
  if (!parsed) return { input, errors: { target: 'Invalid target; not a valid hostname or ip address' } };
  return { input: { ...input, target: `${parsed.host}:${parsed.port}` } };
}

export const targets: EntityDefinition = {
  name: 'targets',
  unique: [],
  foreign: [{ field: 'upstream', reference: 'upstreams', onDelete: 'cascade' }],
  cacheKey: (row) => `targets:${idOf(row.upstream) ?? ''}:${String(row.target)}`,
  cacheKeyFields: ['target', 'upstream'],
  prepare: normalizeTarget,
  schema: {
    name: 'targets',
    fields: baseFields({
      upstream: foreign('upstreams', true),
      target: { type: 'string', required: true },
      weight: { type: 'integer', default: 100, between: [0, 65535] },
    }),
  },
};
