// Reading a decK file (YAML or JSON) into a document, with syntax errors located by line.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { FileError } from '../errors.js';
import { DeclarativeInvalidError } from './errors.js';

/** Parses YAML (JSON is YAML too); a syntax error names the line and column. */
export function parseDeclarativeText(text: string, source = 'input'): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0)
    throw new DeclarativeInvalidError(
      source,
      doc.errors.map((e) => ({
        path: e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '',
        message: e.message.split('\n')[0] ?? e.message,
      })),
    );
  return doc.toJS({ maxAliasCount: 100 }) as unknown;
}

export function readDeclarativeFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new FileError(
      code === 'ENOENT' ? 'file_not_found' : 'file_unreadable',
      path,
      code === 'ENOENT'
        ? `declarative config file not found: ${path}`
        : `cannot read ${path}: ${(err as Error).message}`,
    );
  }
  return parseDeclarativeText(text, path);
}
