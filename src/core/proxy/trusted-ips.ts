// trusted_ips: which clients may tell the proxy who the real client is (X-Forwarded-*, the real-IP header).
import { isIP } from 'node:net';
import { ipListMatcher } from '../plugins/ip-restriction/ip-list.js';

/** `ip` is the socket's remote address (undefined on unix sockets). */
export type TrustCheck = (ip: string | undefined) => boolean;

/** Builds the check once per configuration; entries are IPs, CIDR blocks or `unix:` (validated by config). */
export function trustedIps(entries: readonly string[]): TrustCheck {
  if (entries.length === 0) return () => false;
  const unix = entries.includes('unix:');
  // Checked on every request: the arithmetic matcher, not node:net's BlockList (about 2 µs a check).
  const matches = ipListMatcher(entries.filter((entry) => entry !== 'unix:'));
  return (ip) => (ip === undefined ? unix : matches(ip));
}

/** `::ffff:10.0.0.1` → `10.0.0.1`: dual-stack sockets report IPv4 clients in mapped form. */
export function plainAddress(ip: string | undefined): string | undefined {
  return ip !== undefined && ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}
