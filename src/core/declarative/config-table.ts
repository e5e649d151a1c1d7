// The config table a declarative document stands for, without a store: what a data plane loads from
// declarative_config (kept apart from the store-backed import so a data plane never loads a database driver).
import { ENTITY_ORDER } from '../store/entities/index.js';
import { DeclarativeInvalidError } from './errors.js';
import { toDeclarative } from './export.js';
import { planImport } from './plan.js';

/**
 * The config table a control plane holding exactly `doc` would send: rows after defaults, flat, by id.
 * `now` stamps rows the file gives no created_at/updated_at (the CP would stamp its import time).
 */
export function configTableOf(doc: unknown, source: string, now?: number): Record<string, unknown> {
  const plan = planImport(doc, emptySnapshot(), now);
  if (plan.problems.length > 0) throw new DeclarativeInvalidError(source, plan.problems);
  return toDeclarative(plan.rows);
}

export function emptySnapshot() {
  return Object.fromEntries(ENTITY_ORDER.map((e) => [e, []])) as unknown as Parameters<typeof planImport>[1];
}
