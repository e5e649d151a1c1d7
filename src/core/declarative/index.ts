// Declarative config in and out of the store: parse, validate, import (all or nothing, idempotent), export.
import { writeFileSync } from 'node:fs';
import { FileError } from '../errors.js';
import { ENTITY_ORDER } from '../store/entities/index.js';
import { openStore, type StoreOptions } from '../store/index.js';
import type { Store } from '../store/types.js';
import { readDeclarativeFile } from './parse.js';
import { DeclarativeInvalidError } from './errors.js';
import { serializeDeclarative, toDeclarative, type DeclarativeFormat } from './export.js';
import { planImport } from './plan.js';
import { emptySnapshot } from './config-table.js';
export { configTableOf } from './config-table.js';

export { DeclarativeInvalidError, type DeclarativeProblem } from './errors.js';
export { parseDeclarativeText, readDeclarativeFile } from './parse.js';
export { toDeclarative, serializeDeclarative, type DeclarativeFormat } from './export.js';
export { planImport, FORMAT_VERSION, type ImportPlan } from './plan.js';
export { writeSampleConfig, SAMPLE_CONFIG } from './sample.js';

export interface EntityCounts {
  [entity: string]: number;
}

export interface ValidationSummary {
  entities: EntityCounts;
}

/** Checks a document on its own (no store): schemas, references inside the file, uniqueness. */
export function validateDeclarative(doc: unknown, source = 'input'): ValidationSummary {
  const plan = planImport(doc, emptySnapshot());
  if (plan.problems.length > 0) throw new DeclarativeInvalidError(source, plan.problems);
  return { entities: countRows(plan.rows) };
}

export interface ImportResult {
  created: number;
  updated: number;
  unchanged: number;
  entities: EntityCounts;
  /** The config version after the import (unchanged when nothing changed). */
  version: number;
}

/**
 * Imports in one transaction: an invalid file (any problem) writes nothing; entities are matched by id
 * or natural key, so importing the same file twice changes nothing (and does not bump the version).
 */
export async function importDeclarative(store: Store, doc: unknown, source = 'input'): Promise<ImportResult> {
  const result = await store.transaction(async (tx) => {
    const plan = planImport(doc, await tx.snapshot());
    if (plan.problems.length > 0) throw new DeclarativeInvalidError(source, plan.problems);
    for (const entity of ENTITY_ORDER) await tx.bulkWrite(entity, plan.changed[entity]);
    return { ...plan.counts, entities: countRows(plan.rows) };
  });
  return { ...result, version: await store.version() };
}

/** The current configuration as a decK document (and the version it reflects). */
export async function exportDeclarative(
  store: Store,
): Promise<{ version: number; doc: Record<string, unknown> }> {
  const { version, entities } = await store.snapshot();
  return { version, doc: toDeclarative(entities) };
}

/** Writes the export to a file; refuses to replace an existing one unless `force`. */
export function writeDeclarativeFile(
  path: string,
  doc: Record<string, unknown>,
  format: DeclarativeFormat,
  force = false,
): void {
  try {
    writeFileSync(path, serializeDeclarative(doc, format), { flag: force ? 'w' : 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw new FileError('file_exists', path, `${path} already exists`, {
        hint: 'Use --force to overwrite it.',
      });
    throw new FileError('file_unwritable', path, `cannot write ${path}: ${(err as Error).message}`);
  }
}

function countRows(rows: Record<string, unknown[]>): EntityCounts {
  return Object.fromEntries(
    Object.entries(rows)
      .filter(([, list]) => list.length > 0)
      .map(([e, list]) => [e, list.length]),
  );
}

/** `config db_import FILE`: open the store, import the file in one transaction, close. */
export async function importFile(
  options: StoreOptions,
  path: string,
): Promise<ImportResult & { file: string }> {
  const doc = readDeclarativeFile(path);
  const store = await openStore({ ...options, listen: false });
  try {
    return { file: path, ...(await importDeclarative(store, doc, path)) };
  } finally {
    await store.close();
  }
}

/** `config db_export [FILE]`: the export as text, written to FILE when given. */
export async function exportFile(
  options: StoreOptions,
  target: { path?: string; format: DeclarativeFormat; force?: boolean },
): Promise<{ version: number; file: string | null; text: string; entities: EntityCounts }> {
  const store = await openStore({ ...options, listen: false });
  try {
    const { version, doc } = await exportDeclarative(store);
    if (target.path) writeDeclarativeFile(target.path, doc, target.format, target.force);
    const entities = Object.fromEntries(
      Object.entries(doc)
        .filter(([k]) => !k.startsWith('_'))
        .map(([k, v]) => [k, (v as unknown[]).length]),
    );
    return { version, file: target.path ?? null, text: serializeDeclarative(doc, target.format), entities };
  } finally {
    await store.close();
  }
}

/** `config parse FILE`: read and validate without a store. */
export function parseFile(path: string): ValidationSummary & { file: string } {
  return { file: path, ...validateDeclarative(readDeclarativeFile(path), path) };
}
