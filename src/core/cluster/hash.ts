// Kong's configuration hash: what a data plane reports in its pings and what `config_hash` means on the wire.
// Matches kong/clustering/config_helper.lua byte for byte, quirks included, so mixed fleets agree on "in sync".
import { createHash } from 'node:crypto';
import { EMPTY_CONFIG_HASH } from './protocol.js';

/** The per-part hashes a `reconfigure` frame carries beside `config_hash`. */
export interface ConfigHashes {
  config: string;
  routes: string;
  services: string;
  plugins: string;
  upstreams: string;
  targets: string;
}

/** Kong flushes its buffer into a binary md5 once it grows past this many bytes. */
const BUFFER_LIMIT = 1_000_000;
const SEPARATELY_HASHED = ['routes', 'services', 'plugins', 'upstreams', 'targets'] as const;

/** Hash of a declarative config table, with the hashes of its parts. */
export function configHash(config: unknown): { hash: string; hashes: ConfigHashes } {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    const hash = hashValue(config);
    return { hash, hashes: { ...emptyHashes(), config: hash } };
  }
  const table = config as Record<string, unknown>;
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(table)) {
    if (!(SEPARATELY_HASHED as readonly string[]).includes(key)) rest[key] = value;
  }
  const parts = SEPARATELY_HASHED.map((key) => hashValue(table[key]));
  const hash = md5Hex(parts.join('') + hashValue(rest));
  const [routes, services, plugins, upstreams, targets] = parts as [string, string, string, string, string];
  return { hash, hashes: { config: hash, routes, services, plugins, upstreams, targets } };
}

function emptyHashes(): ConfigHashes {
  return {
    config: EMPTY_CONFIG_HASH,
    routes: EMPTY_CONFIG_HASH,
    services: EMPTY_CONFIG_HASH,
    plugins: EMPTY_CONFIG_HASH,
    upstreams: EMPTY_CONFIG_HASH,
    targets: EMPTY_CONFIG_HASH,
  };
}

/** An absent part hashes to the empty hash; anything else to md5 of its canonical string. */
function hashValue(value: unknown): string {
  if (value === undefined) return EMPTY_CONFIG_HASH;
  const out = new ByteBuffer();
  writeSorted(value, out);
  return md5Hex(out.bytes());
}

/** The canonical string: sorted object keys, Kong's array separators, Lua's number formatting. */
function writeSorted(value: unknown, out: ByteBuffer): void {
  if (out.length > BUFFER_LIMIT) out.replaceWith(createHash('md5').update(out.bytes()).digest());

  if (value === null) {
    out.put('/null/');
  } else if (typeof value === 'string') {
    out.put(value);
  } else if (typeof value === 'number') {
    out.put(luaNumber(value));
  } else if (typeof value === 'boolean') {
    out.put(String(value));
  } else if (Array.isArray(value)) {
    if (value.length === 0) {
      out.put('{}');
    } else if (value.length <= 5) {
      // Kong unrolls arrays of up to five items: separators between, none after.
      value.forEach((item, index) => {
        if (index > 0) out.put(';');
        writeSorted(item, out);
      });
    } else {
      for (const item of value) {
        writeSorted(item, out);
        out.put(';');
      }
    }
  } else if (typeof value === 'object') {
    const keys = Object.keys(value).filter((key) => (value as Record<string, unknown>)[key] !== undefined);
    if (keys.length === 0) {
      out.put('{}');
      return;
    }
    sortByteWise(keys);
    for (const key of keys) {
      out.put(key);
      out.put(':');
      writeSorted((value as Record<string, unknown>)[key], out);
      out.put(';');
    }
  } else {
    throw new TypeError(`cannot hash a ${typeof value}: only JSON values are supported`);
  }
}

/** LuaJIT prints numbers with "%.14g"; reproduce glibc's %g exactly, including round-half-even on exact ties. */
export function luaNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n < 0 ? '-inf' : 'inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  // Integers of up to 14 digits print exactly as themselves under %.14g (ports, timeouts, timestamps).
  if (Number.isInteger(n) && Math.abs(n) < 1e14) return String(n);
  const precision = 14;
  const sign = n < 0 ? '-' : '';
  const { digits, exponent } = roundSignificant(exactDecimal(Math.abs(n)), precision);
  if (exponent < -4 || exponent >= precision) {
    const mantissa = stripZeros(`${digits[0]}.${digits.slice(1)}`);
    const expSign = exponent < 0 ? '-' : '+';
    return `${sign}${mantissa}e${expSign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  const fixed =
    exponent >= 0
      ? `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`
      : `0.${'0'.repeat(-exponent - 1)}${digits}`;
  return sign + stripZeros(fixed);
}

/** The exact decimal value of a positive double: all its digits, and the power of ten of the first. */
function exactDecimal(x: number): { digits: string; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const power = (biased === 0 ? 1 : biased) - 1075;
  // x = mantissa * 2^power; for negative powers, mantissa * 5^-power / 10^-power is exact.
  const digits =
    power >= 0 ? (mantissa << BigInt(power)).toString() : (mantissa * 5n ** BigInt(-power)).toString();
  const pointShift = power >= 0 ? 0 : -power;
  const trimmed = digits.replace(/^0+/, '');
  return { digits: trimmed, exponent: trimmed.length - 1 - pointShift };
}

/** Rounds exact digits to `precision` significant digits, ties to even. */
function roundSignificant(value: { digits: string; exponent: number }, precision: number) {
  const { digits } = value;
  let exponent = value.exponent;
  if (digits.length <= precision) return { digits: digits.padEnd(precision, '0'), exponent };
  let kept = BigInt(digits.slice(0, precision));
  const rest = digits.slice(precision);
  const half = rest[0]! > '5' || (rest[0] === '5' && /[1-9]/.test(rest.slice(1)));
  const tie = rest[0] === '5' && !/[1-9]/.test(rest.slice(1));
  if (half || (tie && kept % 2n === 1n)) kept += 1n;
  let text = kept.toString();
  if (text.length > precision) {
    text = text.slice(0, precision);
    exponent += 1;
  }
  return { digits: text, exponent };
}

function stripZeros(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

function md5Hex(data: string | Uint8Array): string {
  return createHash('md5').update(data).digest('hex');
}

/**
 * Lua's sort compares strings byte-wise. For strings without surrogates, UTF-16 code-unit order is UTF-8 byte
 * order, so the plain comparison serves; keys with astral characters take the byte-wise path.
 */
function sortByteWise(keys: string[]): void {
  if (keys.some((key) => /[\uD800-\uDFFF]/.test(key))) {
    keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  } else {
    keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

/** A growable byte buffer (Kong hashes bytes, and its 1 MB flush counts bytes, not characters). */
class ByteBuffer {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  length = 0;

  put(text: string): void {
    // A UTF-16 code unit is at most 3 UTF-8 bytes.
    if (this.length + text.length * 3 > this.buffer.length) this.grow(this.length + text.length * 3);
    this.length += this.buffer.write(text, this.length, 'utf8');
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  replaceWith(bytes: Buffer): void {
    bytes.copy(this.buffer, 0);
    this.length = bytes.length;
  }

  private grow(needed: number): void {
    const next = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }
}
