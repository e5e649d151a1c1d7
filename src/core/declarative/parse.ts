// Reading a decK file (YAML or JSON) into a document, with syntax errors located by line.
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { FileError } from '../errors.js';
import { DeclarativeInvalidError } from './errors.js';

/** Parses YAML (JSON is YAML too); a syntax error names the line and column. */
export function parseDeclarativeText(text: string, source = 'input'): unknown {
  // JSON files skip the YAML reader: same result, many times faster for large exports.
  if (/^\s*\{/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // not strict JSON after all: let the YAML reader locate the problem
    }
  }
  try {
    return yaml.load(text, { filename: source, json: false });
  } catch (err) {
    if (!(err instanceof yaml.YAMLException)) throw err;
    const mark = err.mark as { line?: number; column?: number } | undefined;
    throw new DeclarativeInvalidError(source, [
      {
        path: mark?.line !== undefined ? `line ${mark.line + 1}, column ${(mark.column ?? 0) + 1}` : '',
        message: err.reason ?? err.message,
      },
    ]);
  }
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
