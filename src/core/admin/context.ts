// The request and route types every Admin API handler (ours or another subsystem's) is written against.
import type { IncomingHttpHeaders } from 'node:http';
import type { AdminResponse } from './responses.js';
import type { HttpMethod } from './router.js';

export interface AdminRequest {
  method: HttpMethod;
  /** The path as requested, without query string and trailing slash (used to build `next` links). */
  path: string;
  /** Decoded `:name` segments of the matched pattern. */
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Decoded body arguments; `{}` when there was no body. */
  args: Record<string, unknown>;
  /** Where `args` came from: form values are still strings and need schema inference. */
  bodyKind: 'empty' | 'json' | 'form';
}

export type AdminHandler = (req: AdminRequest) => Promise<AdminResponse> | AdminResponse;

/**
 * A route other subsystems add to the Admin API, e.g. clustering's
 * `{ method: 'GET', path: '/clustering/data-planes', handler }`. Literal segments take precedence over
 * `:param` segments, so registration order does not matter.
 */
export interface AdminRoute {
  method: HttpMethod;
  /** Pattern with `:name` parameters, e.g. `/clustering/data-planes` or `/upstreams/:upstream/health`. */
  path: string;
  handler: AdminHandler;
  /** Entity collection name written by this route, for the data plane's refusal message. */
  entity?: string;
  /** Lets a write route run on a data plane (default: every write is refused there). */
  allowOnDataPlane?: boolean;
}
