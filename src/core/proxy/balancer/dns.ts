// Name resolution for targets: A records with their TTL, /etc/hosts names through the system resolver.
import { promises as dnsPromises } from 'node:dns';

export interface ResolvedAddress {
  address: string;
  /** Seconds the answer may be used. */
  ttl: number;
}

/** Resolves a host name to its addresses; rejects (or returns none) when it cannot. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** How long a name from /etc/hosts (or another non-DNS source) is trusted before asking again. */
export const SYSTEM_LOOKUP_TTL = 60;
/** Kong's dns_error_ttl: retry soon after a server error. */
export const DNS_ERROR_TTL = 1;
/** Kong's dns_not_found_ttl: a name that does not exist is asked for again after this long. */
export const DNS_NOT_FOUND_TTL = 30;

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'NOTFOUND', 'NODATA']);

/** Seconds to wait before resolving again after `error`. */
export function retryAfter(error: unknown): number {
  const code = (error as { code?: string } | null)?.code;
  return code && NOT_FOUND.has(code) ? DNS_NOT_FOUND_TTL : DNS_ERROR_TTL;
}

/** DNS A records first (they carry a TTL); names DNS does not know, such as localhost, via getaddrinfo. */
export const systemResolver: Resolver = async (hostname) => {
  try {
    const records = await dnsPromises.resolve4(hostname, { ttl: true });
    if (records.length > 0) return records;
  } catch {
    // Fall through: /etc/hosts and search domains are only seen by getaddrinfo.
  }
  const found = await dnsPromises.lookup(hostname, { all: true, verbatim: true });
  // Prefer IPv4 as Kong's default dns_order (A before AAAA) does.
  const v4 = found.filter((f) => f.family === 4);
  return (v4.length > 0 ? v4 : found).map((f) => ({ address: f.address, ttl: SYSTEM_LOOKUP_TTL }));
};
