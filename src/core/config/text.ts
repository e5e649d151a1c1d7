// kong.conf text → `key = value` entries with line numbers; pure, no knowledge of which keys exist.
import type { ConfigProblem } from './types.js';

export interface ConfigEntry {
  key: string;
  value: string;
  /** 1-based line number. */
  line: number;
}

export interface ParsedConfigText {
  entries: ConfigEntry[];
  /** Syntax errors (lines that are not `key = value`). */
  problems: ConfigProblem[];
}

/** Removes a trailing `# comment` (an escaped `\#` is a literal hash, as in Kong). */
export function stripComment(value: string): string {
  return value.replace(/\s*(?<!\\)#.*$/, '').replace(/\\#/g, '#');
}

/**
 * Parses kong.conf syntax: `key = value` per line, `#` comments (whole-line or trailing),
 * blank lines, surrounding whitespace trimmed. Keys are case-insensitive (lower-cased).
 */
export function parseConfigText(text: string, file?: string): ParsedConfigText {
  const entries: ConfigEntry[] = [];
  const problems: ConfigProblem[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((rawLine, index) => {
    const line = index + 1;
    const trimmed = rawLine.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const content = stripComment(trimmed);
    const eq = content.indexOf('=');
    const name = (eq === -1 ? content.split(/\s+/)[0]! : content.slice(0, eq).trim()).toLowerCase();
    if (eq === -1 || !/^[a-z_][a-z0-9_]*$/.test(name)) {
      problems.push({
        severity: 'error',
        code: 'config_syntax',
        key: name || '<line>',
        message: `line ${line} is not of the form key = value: '${content}'`,
        hint: 'Each setting is one line such as `role = data_plane`; start comments with #.',
        source: 'file',
        file,
        line,
      });
      return;
    }
    entries.push({ key: name, value: content.slice(eq + 1).trim(), line });
  });
  return { entries, problems };
}
