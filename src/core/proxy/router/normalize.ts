// Kong's request path normalisation (RFC 3986 §6.2.2) before routing, and the escaping of the path sent upstream.

/**
 * Reserved characters keep their percent-encoding (decoding them would change what the path means); every
 * other percent-encoded ASCII character is decoded, as Kong's `kong.tools.uri.normalize` does.
 */
const RESERVED = new Set("!*'();:@&=+$,/?%#[]".split('').map((c) => c.charCodeAt(0)));

const PERCENT = 0x25;
const SLASH = 0x2f;
const DOT = 0x2e;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** The byte of the `%XX` triplet at `i`, or -1 when there is none. */
function tripletAt(path: string, i: number): number {
  if (path.charCodeAt(i) !== PERCENT) return -1;
  const hi = hexValue(path.charCodeAt(i + 1));
  const lo = hexValue(path.charCodeAt(i + 2));
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/**
 * Decodes percent-encoded triplets except reserved characters (those are upper-cased instead). Kong decodes
 * bytes ≥ 0x80 too; here a run of them is decoded when it is valid UTF-8 and kept (upper-cased) otherwise,
 * because a JavaScript string cannot hold the raw bytes.
 */
function decodeTriplets(path: string): string {
  let out = '';
  let i = 0;
  while (i < path.length) {
    const byte = tripletAt(path, i);
    if (byte < 0) {
      out += path[i];
      i += 1;
    } else if (byte < 0x80) {
      out += RESERVED.has(byte) ? path.slice(i, i + 3).toUpperCase() : String.fromCharCode(byte);
      i += 3;
    } else {
      const bytes: number[] = [];
      const start = i;
      for (let b = tripletAt(path, i); b >= 0x80; b = tripletAt(path, i)) {
        bytes.push(b);
        i += 3;
      }
      try {
        out += utf8.decode(Uint8Array.from(bytes));
      } catch {
        out += path.slice(start, i).toUpperCase();
      }
    }
  }
  return out;
}

/** RFC 3986 §5.2.4 dot-segment removal with Kong's extra merging of `//` (its `merge_slashes`). */
function removeDotSegments(path: string): string {
  const output: string[] = [];
  let rest = path;
  while (rest.length > 0) {
    const c0 = rest.charCodeAt(0);
    const c1 = rest.charCodeAt(1);
    const c2 = rest.charCodeAt(2);
    if (rest === '/.') {
      rest = '/';
    } else if (rest === '/..') {
      rest = '/';
      output.pop();
    } else if (rest === '.' || rest === '..') {
      rest = '';
    } else if (c0 === DOT && c1 === DOT && c2 === SLASH) {
      rest = rest.slice(3);
    } else if (c0 === DOT && c1 === SLASH) {
      rest = rest.slice(2);
    } else if (c0 === SLASH && c1 === DOT && c2 === SLASH) {
      rest = rest.slice(2);
    } else if (c0 === SLASH && c1 === DOT && c2 === DOT && rest.charCodeAt(3) === SLASH) {
      rest = rest.slice(3);
      output.pop();
    } else if (c0 === SLASH && c1 === SLASH) {
      rest = rest.slice(1);
    } else {
      const next = rest.indexOf('/', 1);
      if (next < 0) {
        output.push(rest);
        rest = '';
      } else {
        output.push(rest.slice(0, next));
        rest = rest.slice(next);
      }
    }
  }
  return output.join('');
}

/**
 * The path Kong routes on: percent-encoded unreserved (and other non-reserved) characters decoded, reserved
 * ones upper-cased, dot segments removed, duplicate slashes merged. `/foo//./bar/../%62az` → `/foo/baz`.
 */
export function normalizePath(path: string): string {
  if (path === '' || path === '/') return path;
  let result = path;
  if (result.includes('%')) result = decodeTriplets(result);
  if (!result.includes('.') && !result.includes('//')) return result;
  return removeDotSegments(result);
}

/** Characters that may stay as they are in a request line; everything else is percent-encoded (Kong's `escape`). */
const UNSAFE = /[^!#$&'()*+,/:;=?@[\]A-Za-z0-9\-_.~%]/;
const UNSAFE_ALL = /[^!#$&'()*+,/:;=?@[\]A-Za-z0-9\-_.~%]+/g;

/** Makes a normalised path safe to send upstream again: characters decoded by normalisation are re-encoded. */
export function escapePath(path: string): string {
  if (!UNSAFE.test(path)) return path;
  return path.replace(UNSAFE_ALL, (run) => {
    let encoded = '';
    for (const byte of Buffer.from(run, 'utf8'))
      encoded += `%${byte < 16 ? '0' : ''}${byte.toString(16).toUpperCase()}`;
    return encoded;
  });
}
