// trusted_ips: which clients may tell the proxy who the real client is (X-Forwarded-*, the real-IP header).
import { BlockList, isIP } from 'node:net';

/** `ip` is the socket's remote address (undefined on unix sockets). */
export type TrustCheck = (ip: string | undefined) => boolean;

/** Builds the check once per configuration; entries are IPs, CIDR blocks or `unix:` (validated by config). */
export function trustedIps(entries: readonly string[]): TrustCheck {
  if (entries.length === 0) return () => false;
  const list = new BlockList();
  let unix = false;
  for (const entry of entries) {
    if (entry === 'unix:') {
      unix = true;
      continue;
    }
    const slash = entry.indexOf('/');
    const ip = slash === -1 ? entry : entry.slice(0, slash);
    const type = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    if (slash === -1) list.addAddress(ip, type);
    else list.addSubnet(ip, Number(entry.slice(slash + 1)), type);
  }
  return (ip) => {
    if (ip === undefined) return unix;
    const family = isIP(ip);
    if (family === 0) return false;
    return list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/** `::ffff:10.0.0.1` → `10.0.0.1`: dual-stack sockets report IPv4 clients in mapped form. */
export function plainAddress(ip: string | undefined): string | undefined {
  return ip !== undefined && ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}
