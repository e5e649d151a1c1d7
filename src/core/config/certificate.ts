// Certificate and key values: a file path, inline PEM (real or `\n`-escaped newlines) or base64 of PEM, read to `{path?, pem}`.
import { resolve } from 'node:path';
import type { CertificateValue } from './types.js';
import { fail, ok, splitList, type ParseContext, type Parsed, type ValueType } from './values.js';

export type PemKind = 'certificate' | 'key';

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;

/** True when the text holds at least one complete PEM block of the kind (only framing is checked here). */
export function hasPemBlock(text: string, kind: PemKind): boolean {
  for (const m of text.matchAll(BLOCK)) {
    const label = m[1]!;
    if (kind === 'certificate' ? label === 'CERTIFICATE' : label.endsWith('PRIVATE KEY')) return true;
  }
  return false;
}

function looksInline(raw: string): boolean {
  return raw.includes('-----BEGIN ');
}

/** Single-line PEM in kong.conf may carry `\n` escapes instead of newlines. */
function unescapeInline(raw: string): string {
  return raw.includes('\n') ? raw : raw.replace(/\\n/g, '\n');
}

function tryBase64Pem(raw: string): string | undefined {
  if (!/^[A-Za-z0-9+/=\s]+$/.test(raw) || raw.length < 40) return undefined;
  const decoded = Buffer.from(raw, 'base64').toString('utf8');
  return looksInline(decoded) ? decoded : undefined;
}

const what = (kind: PemKind): string => (kind === 'certificate' ? 'certificate' : 'key');
const noBlock = (kind: PemKind): string =>
  kind === 'certificate' ? 'no PEM CERTIFICATE block found' : 'no PEM PRIVATE KEY block found';

/** Reads one certificate/key value; errors name the path or say it was inline. */
export function parseCertificateValue(
  raw: string,
  kind: PemKind,
  ctx: ParseContext,
): Parsed<CertificateValue> {
  if (looksInline(raw)) {
    const pem = unescapeInline(raw);
    if (!hasPemBlock(pem, kind)) return fail(`failed loading inline ${what(kind)}: ${noBlock(kind)}`);
    return ok({ pem });
  }
  const path = resolve(ctx.baseDir, raw);
  let content: string;
  try {
    content = ctx.readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A base64 blob is not a file name; Kong tries it as base64 when no such file exists.
    if (code === 'ENOENT' || code === 'ENAMETOOLONG' || code === 'ENOTDIR') {
      const decoded = tryBase64Pem(raw);
      if (decoded !== undefined) {
        if (!hasPemBlock(decoded, kind)) return fail(`failed loading base64 ${what(kind)}: ${noBlock(kind)}`);
        return ok({ pem: decoded });
      }
      return fail(
        `failed loading ${what(kind)} from ${path}: no such file`,
        'Give a readable file path (relative paths start at the config file’s directory) or inline PEM.',
      );
    }
    const reason =
      code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String(code ?? err);
    return fail(`failed loading ${what(kind)} from ${path}: ${reason}`);
  }
  if (!hasPemBlock(content, kind)) return fail(`failed loading ${what(kind)} from ${path}: ${noBlock(kind)}`);
  return ok({ path, pem: content });
}

/** One certificate or key (cluster_cert, cluster_cert_key, cluster_ca_cert); empty means none. */
export function certificate(kind: PemKind): ValueType<CertificateValue | null> {
  return {
    describe:
      kind === 'certificate' ? 'path or inline PEM (certificate)' : 'path or inline PEM (private key)',
    parse: (raw, ctx) => parseCertificateValue(raw, kind, ctx),
    unset: () => ok(null),
  };
}

/** A comma list of certificates or keys (ssl_cert, ssl_cert_key); inline PEM cannot be listed with commas. */
export function certificateList(kind: PemKind): ValueType<CertificateValue[]> {
  return {
    describe:
      kind === 'certificate'
        ? 'list of paths or inline PEM (certificates)'
        : 'list of paths or inline PEM (keys)',
    parse: (raw, ctx) => parseEach(raw, (entry) => parseCertificateValue(entry, kind, ctx)),
    unset: () => ok([]),
  };
}

/** One entry of lua_ssl_trusted_certificate: `system` (the default CA list) or CA certificates read as PEM. */
export type TrustedCertificate = 'system' | CertificateValue;

/** lua_ssl_trusted_certificate: `system` and CA certificate files (or inline PEM), comma separated, as Kong. */
export function trustedCertificateList(): ValueType<TrustedCertificate[]> {
  return {
    describe: 'system and/or list of paths or inline PEM (CA certificates)',
    parse: (raw, ctx) =>
      parseEach<TrustedCertificate>(raw, (entry) =>
        entry === 'system' ? ok('system') : parseCertificateValue(entry, 'certificate', ctx),
      ),
    // Unset trusts nothing, as Kong's NONE.
    unset: () => ok([]),
  };
}

/** Parses every entry of a list, reporting all the entries that fail together. */
function parseEach<T>(raw: string, parse: (entry: string) => Parsed<T>): Parsed<T[]> {
  const entries = looksInline(raw) ? [raw] : splitList(raw);
  const values: T[] = [];
  const errors: string[] = [];
  let hint: string | undefined;
  for (const entry of entries) {
    const parsed = parse(entry);
    if (parsed.ok) values.push(parsed.value);
    else {
      errors.push(parsed.message);
      hint ??= parsed.hint;
    }
  }
  return errors.length > 0 ? fail(errors.join('; '), hint) : ok(values);
}
