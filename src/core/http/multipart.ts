// multipart/form-data bodies (RFC 7578 over RFC 2046): parsed into parts and written back, file parts byte-exact.
import { randomBytes } from 'node:crypto';

/**
 * One part of a form. Header lines are kept as received, as latin1 strings (one character per byte), so a
 * part nobody changed is written back byte for byte, whatever the encoding of its file name.
 */
export interface MultipartPart {
  /** The form field's name (Content-Disposition `name=`), UTF-8 decoded. */
  readonly name: string;
  /** The file name of a file part (Content-Disposition `filename=`), UTF-8 decoded; null for a plain field. */
  readonly filename: string | null;
  /** Header lines without their line ends (latin1: one character per byte). */
  readonly headers: readonly string[];
  /** The part's content, byte for byte. */
  readonly body: Buffer;
}

/** A body that says it is multipart/form-data but is not well formed; `message` says where and why. */
export class MultipartError extends Error {
  readonly code = 'multipart_malformed';

  constructor(message: string) {
    super(message);
    this.name = 'MultipartError';
  }
}

/** Longest boundary accepted. RFC 2046 allows 70 characters; some clients send longer ones. */
const MAX_BOUNDARY = 200;

/** The `boundary` parameter of a multipart Content-Type, unquoted; null when absent, empty or too long. */
export function multipartBoundary(contentType: string): string | null {
  const m = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(contentType);
  const boundary = m ? (m[1] ?? m[2]) : undefined;
  return boundary && boundary.length <= MAX_BOUNDARY ? boundary : null;
}

const LF = 0x0a;
const isPadding = (byte: number | undefined) => byte === 0x20 || byte === 0x09;

/**
 * Where the delimiter `--boundary` starting at `at` ends, and what follows it: a close delimiter (`--`) or
 * optional padding and a line end. Null when those bytes only begin with the boundary (`--boundaryX`), which
 * is then content, not a delimiter.
 */
function delimiterEnd(
  raw: Buffer,
  at: number,
  dash: Buffer,
  eol: Buffer | null,
): { close: boolean; next: number } | null {
  let pos = at + dash.length;
  if (raw[pos] === 0x2d && raw[pos + 1] === 0x2d) return { close: true, next: pos + 2 };
  while (isPadding(raw[pos])) pos += 1;
  if (eol)
    return raw.subarray(pos, pos + eol.length).equals(eol) ? { close: false, next: pos + eol.length } : null;
  if (raw[pos] === 0x0d && raw[pos + 1] === LF) return { close: false, next: pos + 2 };
  return raw[pos] === LF ? { close: false, next: pos + 1 } : null;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses `form-data; name="a"; filename="b.txt"` (quoted-strings with backslash escapes, or tokens). */
function dispositionParams(value: string, where: string): { type: string; params: Map<string, string> } {
  const semi = value.indexOf(';');
  const type = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
  const params = new Map<string, string>();
  let pos = semi === -1 ? value.length : semi + 1;
  while (pos < value.length) {
    while (isPadding(value.charCodeAt(pos))) pos += 1;
    if (pos >= value.length) break;
    const eq = value.indexOf('=', pos);
    if (eq === -1) throw new MultipartError(`${where}: Content-Disposition parameter without a value`);
    const key = value.slice(pos, eq).trim().toLowerCase();
    if (!TOKEN.test(key))
      throw new MultipartError(`${where}: invalid Content-Disposition parameter name '${key}'`);
    pos = eq + 1;
    while (isPadding(value.charCodeAt(pos))) pos += 1;
    let text = '';
    if (value[pos] === '"') {
      pos += 1;
      for (;;) {
        if (pos >= value.length)
          throw new MultipartError(`${where}: unterminated quoted ${key} in Content-Disposition`);
        const c = value[pos]!;
        if (c === '"') break;
        if (c === '\\' && pos + 1 < value.length) pos += 1;
        text += value[pos];
        pos += 1;
      }
      pos += 1;
      while (isPadding(value.charCodeAt(pos))) pos += 1;
      if (pos < value.length && value[pos] !== ';')
        throw new MultipartError(`${where}: unexpected text after the quoted ${key} in Content-Disposition`);
    } else {
      const end = value.indexOf(';', pos);
      text = value.slice(pos, end === -1 ? value.length : end).trim();
      pos = end === -1 ? value.length : end;
    }
    pos += 1;
    if (params.has(key)) throw new MultipartError(`${where}: Content-Disposition names ${key} twice`);
    // Header bytes were read as latin1; names and file names are UTF-8 on the wire.
    params.set(key, Buffer.from(text, 'latin1').toString('utf8'));
  }
  return { type, params };
}

/** Reads one part's header block: every line `Name: value`, exactly one Content-Disposition form-data with a name. */
function readPart(headerBlock: string, eol: string, body: Buffer, index: number): MultipartPart {
  const where = `part ${index}`;
  const headers = headerBlock === '' ? [] : headerBlock.split(eol);
  let disposition: ReturnType<typeof dispositionParams> | null = null;
  for (const line of headers) {
    if (/[\r\n]/.test(line)) throw new MultipartError(`${where}: mixed line ends in the part headers`);
    const colon = line.indexOf(':');
    const name = colon === -1 ? '' : line.slice(0, colon);
    if (!TOKEN.test(name)) {
      throw new MultipartError(
        isPadding(line.charCodeAt(0))
          ? `${where}: folded header lines are not allowed`
          : `${where}: header line without a name and a colon`,
      );
    }
    if (name.toLowerCase() !== 'content-disposition') continue;
    if (disposition) throw new MultipartError(`${where}: more than one Content-Disposition`);
    disposition = dispositionParams(line.slice(colon + 1), where);
  }
  if (!disposition) throw new MultipartError(`${where}: no Content-Disposition header`);
  if (disposition.type !== 'form-data')
    throw new MultipartError(`${where}: Content-Disposition is '${disposition.type}', not form-data`);
  const name = disposition.params.get('name');
  if (name === undefined) throw new MultipartError(`${where}: Content-Disposition has no name`);
  return { name, filename: disposition.params.get('filename') ?? null, headers, body };
}

/**
 * Splits a multipart/form-data body into its parts, in order. Line ends are CRLF as the RFC says; a body
 * written with bare LF throughout is read too (its first delimiter line decides). A preamble before the first
 * delimiter and an epilogue after the close delimiter are ignored. An empty body has no parts.
 * Throws MultipartError for anything else: no delimiter, a part without a closing delimiter (a truncated
 * body), unterminated headers, a part without a Content-Disposition form-data name.
 */
export function parseMultipart(raw: Buffer, boundary: string): MultipartPart[] {
  if (raw.length === 0) return [];
  const dash = Buffer.from(`--${boundary}`, 'latin1');
  // The first delimiter opens the body or a line of its own after the preamble.
  let first = raw.subarray(0, dash.length).equals(dash) ? delimiterEnd(raw, 0, dash, null) : null;
  const afterLineEnd = Buffer.concat([Buffer.from([LF]), dash]);
  for (let from = 0; !first;) {
    const at = raw.indexOf(afterLineEnd, from);
    if (at === -1) throw new MultipartError(`no '--${boundary}' delimiter in the body`);
    first = delimiterEnd(raw, at + 1, dash, null);
    from = at + 1;
  }
  if (first.close) return [];
  const crlf = raw[first.next - 2] === 0x0d;
  const eol = Buffer.from(crlf ? '\r\n' : '\n', 'latin1');
  const eolText = eol.toString('latin1');
  const separator = Buffer.concat([eol, dash]);
  const headersEnd = Buffer.concat([eol, eol]);
  const parts: MultipartPart[] = [];
  let pos = first.next;
  for (;;) {
    const index = parts.length + 1;
    let headerEnd: number;
    let bodyStart: number;
    if (raw.subarray(pos, pos + eol.length).equals(eol)) {
      headerEnd = pos;
      bodyStart = pos + eol.length;
    } else {
      headerEnd = raw.indexOf(headersEnd, pos);
      const delimiter = raw.indexOf(separator, pos);
      // Headers end before the next delimiter line, or the part has no end to its headers.
      if (headerEnd === -1 || (delimiter !== -1 && delimiter < headerEnd))
        throw new MultipartError(`part ${index}: its headers do not end with an empty line`);
      bodyStart = headerEnd + 2 * eol.length;
    }
    // The content runs to the next line that is a delimiter; `--boundaryX` inside it is content.
    let next: { close: boolean; next: number } | null = null;
    let bodyEnd = -1;
    for (let from = bodyStart; !next; from = bodyEnd + 1) {
      bodyEnd = raw.indexOf(separator, from);
      if (bodyEnd === -1)
        throw new MultipartError(`part ${index}: no closing '--${boundary}' delimiter (truncated body?)`);
      next = delimiterEnd(raw, bodyEnd + eol.length, dash, eol);
    }
    const headerBlock = raw.subarray(pos, headerEnd).toString('latin1');
    parts.push(readPart(headerBlock, eolText, raw.subarray(bodyStart, bodyEnd), index));
    if (next.close) return parts;
    pos = next.next;
  }
}

/** Quotes a Content-Disposition parameter: `"` and `\` escaped, CR and LF percent-encoded as browsers do. */
function quoted(value: string): string {
  const escaped = value.replace(/[\\"]/g, '\\$&').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
  return `"${Buffer.from(escaped, 'utf8').toString('latin1')}"`;
}

function dispositionLine(name: string, filename: string | null): string {
  return `Content-Disposition: form-data; name=${quoted(name)}${filename === null ? '' : `; filename=${quoted(filename)}`}`;
}

/** A plain text field. */
export function textPart(name: string, value: string): MultipartPart {
  return { name, filename: null, headers: [dispositionLine(name, null)], body: Buffer.from(value, 'utf8') };
}

/** The same part under another name: its other headers, file name and content unchanged. */
export function renamePart(part: MultipartPart, name: string): MultipartPart {
  const line = dispositionLine(name, part.filename);
  const headers = part.headers.map((h) => (/^content-disposition:/i.test(h) ? line : h));
  return { ...part, name, headers };
}

/** The part's content as text (a field's value). */
export function partText(part: MultipartPart): string {
  return part.body.toString('utf8');
}

/** A random boundary, for a body that needs one. */
export function newBoundary(): string {
  return `----hybrid-${randomBytes(12).toString('hex')}`;
}

const CRLF = Buffer.from('\r\n', 'latin1');

/** Whether some content, framed as encodeMultipart frames it, would hold a delimiter of `boundary`. */
function collides(parts: readonly MultipartPart[], boundary: string): boolean {
  const dash = Buffer.from(`--${boundary}`, 'latin1');
  const separator = Buffer.concat([CRLF, dash]);
  return parts.some((part) => {
    if (!part.body.includes(dash)) return false;
    // The CRLF ending the headers, the content, and the CRLF that opens the next delimiter.
    const framed = Buffer.concat([CRLF, part.body, CRLF]);
    const limit = framed.length - CRLF.length;
    for (let at = framed.indexOf(separator); at !== -1 && at < limit; at = framed.indexOf(separator, at + 1))
      if (delimiterEnd(framed, at + CRLF.length, dash, CRLF)) return true;
    return false;
  });
}

/**
 * Writes parts as a multipart/form-data body with CRLF line ends. The given boundary is kept unless some
 * content contains it (a value put in by configuration may); then a fresh one is chosen and returned, and the
 * caller must send it in the Content-Type. No parts give an empty body.
 */
export function encodeMultipart(
  parts: readonly MultipartPart[],
  boundary: string,
): { body: Buffer; boundary: string } {
  let chosen = boundary;
  while (collides(parts, chosen)) chosen = newBoundary();
  if (parts.length === 0) return { body: Buffer.alloc(0), boundary: chosen };
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const head = `--${chosen}\r\n${part.headers.map((h) => `${h}\r\n`).join('')}\r\n`;
    chunks.push(Buffer.from(head, 'latin1'), part.body, Buffer.from('\r\n', 'latin1'));
  }
  chunks.push(Buffer.from(`--${chosen}--\r\n`, 'latin1'));
  return { body: Buffer.concat(chunks), boundary: chosen };
}

/** A Content-Type with its boundary parameter set to `boundary` (other parameters kept). */
export function withBoundary(contentType: string, boundary: string): string {
  const value = /^[0-9A-Za-z'()+_,./:=?-]+$/.test(boundary) ? boundary : `"${boundary}"`;
  const param = /(;\s*boundary\s*=\s*)(?:"[^"]*"|[^;\s]+)/i;
  return param.test(contentType)
    ? contentType.replace(param, (_all, lead: string) => `${lead}${value}`)
    : `${contentType}; boundary=${value}`;
}
