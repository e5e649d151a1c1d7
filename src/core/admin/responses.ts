// Admin API answers in Kong's shapes: plain messages, DAO error bodies and the HTTP status of each DAO code.
import { StoreError, StoreErrorCode } from '../store/types.js';

/** What a handler returns; the server serialises `body` as JSON (none for 204 or when absent). */
export interface AdminResponse {
  status: number;
  body?: unknown;
  /** Sent as is instead of a JSON body (e.g. /metrics), with `contentType`. */
  text?: { contentType: string; content: string };
  headers?: Record<string, string>;
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

/** Maps a store error to Kong's status and body (`{code, name, message, fields}`); null for anything else. */
export function daoErrorResponse(err: unknown): AdminResponse | null {
  if (!(err instanceof StoreError)) return null;
  return { status: err.httpStatus, body: err.toBody() };
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
