// The declarative export: a flat decK 3.0 document, entities in dependency order, rows by id — byte-stable.
import { stringify } from 'yaml';
import { ENTITY_ORDER } from '../store/entities/index.js';
import type { Snapshot } from '../store/types.js';
import { FORMAT_VERSION } from './plan.js';

export type DeclarativeFormat = 'yaml' | 'json';

/**
 * The document the CP stores and sends to data planes. Top-level null fields are dropped
 * (absent means the default); foreign keys stay `{ id }`.
 */
export function toDeclarative(entities: Snapshot): Record<string, unknown> {
  const doc: Record<string, unknown> = { _format_version: FORMAT_VERSION };
  for (const entity of ENTITY_ORDER) {
    const rows = [...(entities[entity] ?? [])].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (rows.length === 0) continue;
    doc[entity] = rows.map((row) => Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null)));
  }
  return doc;
}

export function serializeDeclarative(doc: Record<string, unknown>, format: DeclarativeFormat): string {
  if (format === 'json') return `${JSON.stringify(doc, null, 2)}\n`;
  return stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false });
}
