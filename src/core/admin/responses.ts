// Admin API answers in Kong's shapes: plain messages, DAO error bodies and the HTTP status of each DAO code.
import { StoreErrorCode } from '../store/types.js';

/** What a handler returns; the server serialises `body` as JSON (none for 204 or when absent). */
export interface AdminResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Kong's HTTP status for each DAO error code (`kong/api/endpoints.lua`). */
const STATUS_BY_CODE: Record<number, number> = {
  [StoreErrorCode.INVALID_PRIMARY_KEY]: 400,
  [StoreErrorCode.SCHEMA_VIOLATION]: 400,
  [StoreErrorCode.PRIMARY_KEY_VIOLATION]: 400,
  [StoreErrorCode.FOREIGN_KEY_VIOLATION]: 400,
  [StoreErrorCode.UNIQUE_VIOLATION]: 409,
  [StoreErrorCode.NOT_FOUND]: 404,
  [StoreErrorCode.INVALID_OFFSET]: 400,
  [StoreErrorCode.DATABASE_ERROR]: 500,
  [StoreErrorCode.INVALID_SIZE]: 400,
  [StoreErrorCode.INVALID_UNIQUE]: 400,
  [StoreErrorCode.INVALID_OPTIONS]: 400,
  [StoreErrorCode.OPERATION_UNSUPPORTED]: 405,
  [StoreErrorCode.INVALID_FILTER]: 400,
};

export function httpStatusForDaoCode(code: number): number | undefined {
  return STATUS_BY_CODE[code];
}

export const ok = (body: unknown): AdminResponse => ({ status: 200, body });
export const created = (body: unknown): AdminResponse => ({ status: 201, body });
export const noContent = (): AdminResponse => ({ status: 204 });
export const notFound = (message = 'Not found'): AdminResponse => ({ status: 404, body: { message } });
export const methodNotAllowed = (allowed?: string[]): AdminResponse => ({
  status: 405,
  body: { message: 'Method not allowed' },
  headers: allowed ? { Allow: allowed.join(', ') } : undefined,
});
export const badRequest = (message: string): AdminResponse => ({ status: 400, body: { message } });
export const unexpected = (): AdminResponse => ({
  status: 500,
  body: { message: 'An unexpected error occurred' },
});

/** A Kong DAO error as thrown by the store: numeric `code` plus Kong's `name`, `message` and `fields`. */
export interface DaoErrorLike {
  code: number;
  name: string;
  message: string;
  fields?: unknown;
  options?: unknown;
}

export function isDaoError(err: unknown): err is DaoErrorLike {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as Record<string, unknown>;
  return typeof e.code === 'number' && STATUS_BY_CODE[e.code] !== undefined && typeof e.message === 'string';
}

/** The body Kong sends for a DAO error: `{code, name, message}` plus `fields` (or `options`) when present. */
export function daoErrorBody(err: DaoErrorLike): Record<string, unknown> {
  const body: Record<string, unknown> = { code: err.code, name: err.name, message: err.message };
  if (err.fields !== undefined) body.fields = err.fields;
  if (err.options !== undefined) body.options = err.options;
  return body;
}

/** Maps a DAO error to its Kong status and body; null when `err` is not a DAO error. */
export function daoErrorResponse(err: unknown): AdminResponse | null {
  if (!isDaoError(err)) return null;
  return { status: STATUS_BY_CODE[err.code]!, body: daoErrorBody(err) };
}

/** The verb Kong's DB-less strategy names in its refusal, per HTTP method. */
const UNSUPPORTED_VERB: Record<string, string> = {
  POST: 'create',
  PUT: 'create or update',
  PATCH: 'update',
  DELETE: 'remove',
};

/**
 * A data plane holds no database: writes answer 405 with Kong's DB-less body, e.g.
 * `cannot create 'services' entities when not using a database`.
 */
export function dataPlaneWriteRefused(method: string, entityLabel: string | undefined): AdminResponse {
  const message = entityLabel
    ? `cannot ${UNSUPPORTED_VERB[method] ?? 'modify'} '${entityLabel}' entities when not using a database`
    : 'this endpoint is disabled on data planes: they get their configuration from the control plane';
  return {
    status: 405,
    body: { code: StoreErrorCode.OPERATION_UNSUPPORTED, name: 'operation unsupported', message },
  };
}
