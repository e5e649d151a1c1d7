// Request bodies: JSON, urlencoded and multipart forms, decoded into one argument object per Kong's rules.
import { multipartBoundary, parseMultipart, partText } from '../http/multipart.js';
import { decodeForm, FormDecodeError } from './form.js';

/** Kong's `nginx_admin_client_max_body_size` default (10m). */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

export type ParsedBody =
  /** No body (or an empty one): the arguments are `{}`. */
  | { kind: 'empty' }
  | { kind: 'json'; args: Record<string, unknown> }
  /** Form values are strings until `inferRecord` coerces them with the entity schema. */
  | { kind: 'form'; args: Record<string, unknown> }
  | { kind: 'error'; status: 400 | 415; body: Record<string, unknown> };

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';
const MULTIPART_TYPE = 'multipart/form-data';

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function formError(err: FormDecodeError): ParsedBody {
  return {
    kind: 'error',
    status: 400,
    body: {
      code: 2,
      name: 'schema violation',
      message: `schema violation (${err.field}: ${err.message})`,
      fields: { [err.field]: err.message },
    },
  };
}

/**
 * The path of the first string (key or value) holding a NUL character, or null. No entity field may
 * contain one, and PostgreSQL cannot store one: refusing it here keeps it from becoming a 500.
 */
export function findNulCharacter(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path || '@entity' : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNulCharacter(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const here = path ? `${path}.${key}` : key;
      if (key.includes('\u0000')) return here;
      const found = findNulCharacter(item, here);
      if (found) return found;
    }
  }
  return null;
}

function nulError(field: string): ParsedBody {
  return {
    kind: 'error',
    status: 400,
    body: {
      code: 2,
      name: 'schema violation',
      message: `schema violation (${field}: must not contain NUL characters)`,
      fields: { [field]: 'must not contain NUL characters' },
    },
  };
}

function formArgs(args: Record<string, unknown>): ParsedBody {
  const nul = findNulCharacter(args);
  return nul ? nulError(nul) : { kind: 'form', args };
}

function isEmptyBody(raw: Buffer): boolean {
  return raw.length === 0;
}

/**
 * Decodes a request body by content type. JSON must be an object; a body of another media type is
 * refused with 415 as Kong does; a body-less request (curl -X POST with no --data) reads as `{}`.
 */
export function parseBody(contentType: string | undefined, raw: Buffer): ParsedBody {
  const type = mediaType(contentType);
  if (isEmptyBody(raw)) return { kind: 'empty' };
  if (type === JSON_TYPE || type.endsWith('+json')) {
    let value: unknown;
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch {
      return { kind: 'error', status: 400, body: { message: 'Cannot parse JSON body' } };
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return { kind: 'error', status: 400, body: { message: 'JSON body must be an object' } };
    const nul = findNulCharacter(value);
    if (nul) return nulError(nul);
    return { kind: 'json', args: value as Record<string, unknown> };
  }
  if (type === FORM_TYPE) {
    try {
      return formArgs(decodeForm(new URLSearchParams(raw.toString('utf8'))));
    } catch (err) {
      if (err instanceof FormDecodeError) return formError(err);
      throw err;
    }
  }
  if (type === MULTIPART_TYPE) {
    // File parts count as values (their content), so `curl -F cert=@cert.pem` works as in Kong.
    const boundary = multipartBoundary(contentType ?? '');
    let pairs: Array<[string, string]>;
    try {
      if (!boundary) throw new Error('no boundary');
      pairs = parseMultipart(raw, boundary).map((part) => [part.name, partText(part)]);
    } catch {
      return { kind: 'error', status: 400, body: { message: 'Cannot parse multipart body' } };
    }
    try {
      return formArgs(decodeForm(pairs));
    } catch (err) {
      if (err instanceof FormDecodeError) return formError(err);
      throw err;
    }
  }
  return { kind: 'error', status: 415, body: { message: 'Unsupported Media Type' } };
}
