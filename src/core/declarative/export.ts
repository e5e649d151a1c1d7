// The declarative export: a flat decK 3.0 document, entities in dependency order, rows by id — byte-stable.
import { ENTITY_ORDER } from '../store/entities/index.js';
import type { Snapshot } from '../store/types.js';
import { FORMAT_VERSION } from './plan.js';
import { toYaml } from './yaml-emit.js';

export type DeclarativeFormat = 'yaml' | 'json';

/**
 * The document the CP stores and sends to data planes. Top-level null fields are dropped
 * (absent means the default); foreign keys stay `{ id }`.
 */
export function toDeclarative(entities: Snapshot): Record<string, unknown> {
  const doc: Record<string, unknown> = { _format_version: FORMAT_VERSION };
  for (const entity of ENTITY_ORDER) {
    const rows = entities[entity] ?? [];
    if (rows.length === 0) continue;
    const out = new Array<Record<string, unknown>>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as Record<string, unknown>;
      const copy: Record<string, unknown> = {};
      for (const key in row) if (row[key] !== null) copy[key] = row[key];
      out[i] = copy;
    }
    // Byte order of ids, whatever the database's collation; already sorted in the usual case.
    if (!isSortedById(out)) out.sort((a, b) => ((a.id as string) < (b.id as string) ? -1 : 1));
    doc[entity] = out;
  }
  return doc;
}

function isSortedById(rows: Record<string, unknown>[]): boolean {
  for (let i = 1; i < rows.length; i++)
    if ((rows[i - 1]!.id as string) > (rows[i]!.id as string)) return false;
  return true;
}

export function serializeDeclarative(doc: Record<string, unknown>, format: DeclarativeFormat): string {
  if (format === 'json') return `${JSON.stringify(doc, null, 2)}\n`;
  return toYaml(doc);
}
