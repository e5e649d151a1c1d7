// Typed value parsers for configuration keys: each turns the raw text of one key into a typed value or a message.
import { isIP } from 'node:net';

/** Result of parsing one raw value. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string; hint?: string };

/** What parsers may need beyond the text: how to read files and where relative paths start. */
export interface ParseContext {
  /** Directory that relative paths are resolved against (the config file's, else the cwd). */
  baseDir: string;
  /** Reads a file as UTF-8; throws (with a Node `code`) when it cannot. */
  readFile: (path: string) => string;
}

/** A value type: its name for the reference, how to parse a non-empty value, and the unset value. */
export interface ValueType<T> {
  /** Human description for docs and messages, e.g. `on|off`, `integer ≥ 60`. */
  describe: string;
  /** `raw` is trimmed and non-empty. */
  parse: (raw: string, ctx: ParseContext) => Parsed<T>;
  /** Value of an empty setting (`key =`); an error when the key cannot be unset. */
  unset: () => Parsed<T>;
}

export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const fail = <T = never>(message: string, hint?: string): Parsed<T> => ({ ok: false, message, hint });

const mustBeSet = <T>(): Parsed<T> => fail('must not be empty');

/** Free text; empty means unset (null). */
export function text(): ValueType<string | null> {
  return { describe: 'string', parse: (raw) => ok(raw), unset: () => ok(null) };
}

/** Free text that must be present. */
export function requiredText(): ValueType<string> {
  return { describe: 'string', parse: (raw) => ok(raw), unset: mustBeSet };
}

/** Kong's booleans: `on`/`off` (also `true`/`false`); anything else is an error rather than silently off. */
export function boolean(): ValueType<boolean> {
  return {
    describe: 'on|off',
    parse(raw) {
      const v = raw.toLowerCase();
      if (v === 'on' || v === 'true') return ok(true);
      if (v === 'off' || v === 'false') return ok(false);
      return fail(`must be on or off, got '${raw}'`);
    },
    unset: () => ok(false),
  };
}

export interface NumberOptions {
  integer?: boolean;
  min?: number;
  max?: number;
  /** Message when below min, e.g. Kong's "must be 60 or greater". */
  minMessage?: string;
  /** Minimum is exclusive (value must be greater than min). */
  exclusiveMin?: boolean;
}

export function number(options: NumberOptions = {}): ValueType<number> {
  const { integer = false, min, max, exclusiveMin = false } = options;
  const range =
    min !== undefined && max !== undefined
      ? ` ${min}–${max}`
      : min !== undefined
        ? ` ${exclusiveMin ? '>' : '≥'} ${min}`
        : '';
  return {
    describe: `${integer ? 'integer' : 'number'}${range}`,
    parse(raw) {
      const pattern = integer ? /^[+-]?\d+$/ : /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
      if (!pattern.test(raw)) return fail(`is not ${integer ? 'an integer' : 'a number'}: '${raw}'`);
      const n = Number(raw);
      if (min !== undefined && (exclusiveMin ? n <= min : n < min)) {
        return fail(
          options.minMessage ?? (exclusiveMin ? `must be greater than ${min}` : `must be ${min} or greater`),
        );
      }
      if (max !== undefined && n > max) return fail(`must be ${max} or less`);
      return ok(n);
    },
    unset: mustBeSet,
  };
}

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** nginx-style sizes: `2048m`, `512k`, `1g` or plain bytes; parsed to bytes. */
export function size(): ValueType<number> {
  return {
    describe: 'size (bytes, or with k/m/g suffix)',
    parse(raw) {
      const m = /^(\d+)\s*([kmg]?)$/i.exec(raw);
      if (!m)
        return fail(
          `is not a size: '${raw}'`,
          'Write a number of bytes or use a k, m or g suffix, e.g. 2048m.',
        );
      const bytes = Number(m[1]) * (SIZE_UNITS[m[2]!.toLowerCase()] ?? 1);
      if (bytes <= 0) return fail('must be greater than 0');
      return ok(bytes);
    },
    unset: mustBeSet,
  };
}

/** One of a fixed set of words (Kong's message lists the allowed values). */
export function oneOf<const T extends string>(values: readonly T[]): ValueType<T> {
  return {
    describe: values.join('|'),
    parse(raw) {
      const found = values.find((v) => v === raw);
      if (found !== undefined) return ok(found);
      return fail(`has an invalid value: '${raw}' (${values.join(', ')})`);
    },
    unset: mustBeSet,
  };
}

/** Splits a comma list, trimming entries and dropping empty ones. */
export function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A comma-separated list; each entry optionally checked. Empty means an empty list. */
export function list(
  check?: (entry: string) => string | undefined,
  describe = 'comma list',
): ValueType<string[]> {
  return {
    describe,
    parse(raw) {
      const entries = splitList(raw);
      if (check) {
        const bad = entries.map(check).filter((m): m is string => m !== undefined);
        if (bad.length > 0) return fail(bad.join('; '));
      }
      return ok(entries);
    },
    unset: () => ok([]),
  };
}

/** True for an IPv4/IPv6 address or CIDR block. */
export function isIpOrCidr(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash === -1) return isIP(value) !== 0;
  const ip = value.slice(0, slash);
  const bits = value.slice(slash + 1);
  const family = isIP(ip);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** `proxy_server`: an http or https URL without query or fragment (Kong's rules and messages). */
export function proxyUrl(): ValueType<string | null> {
  return {
    describe: 'http(s) URL',
    parse(raw) {
      const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(raw);
      if (!scheme) return fail('missing scheme', 'Write it as http://host:port or https://host:port.');
      const s = scheme[1]!.toLowerCase();
      if (s !== 'http' && s !== 'https') return fail(`only supports "http" and "https", got ${s}`);
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return fail('is invalid: not a URL');
      }
      if (url.hostname === '') return fail('missing host');
      if (url.search !== '' || url.hash !== '' || raw.includes(';')) {
        return fail('fragments, query strings or parameters are meaningless in proxy configuration');
      }
      return ok(raw);
    },
    unset: () => ok(null),
  };
}
