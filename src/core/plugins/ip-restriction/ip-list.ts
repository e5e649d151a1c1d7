// Matching an address against a list of IPs and CIDR ranges (IPv4 and IPv6) in plain arithmetic: node:net's
// BlockList costs about 2 µs per check, too much for every request.
import { isIP } from 'node:net';

/** `a.b.c.d` as an unsigned 32-bit number (the caller has checked it is IPv4). */
function ipv4Number(ip: string): number {
  let value = 0;
  let octet = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      value = value * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + (c - 48);
  }
  return value * 256 + octet;
}

/** An IPv6 address as eight 16-bit groups (the caller has checked it is IPv6; a zone is ignored). */
function ipv6Groups(ip: string): number[] {
  const zone = ip.indexOf('%');
  const address = zone === -1 ? ip : ip.slice(0, zone);
  const halves = address.split('::');
  const parse = (part: string): number[] => {
    if (part === '') return [];
    const groups: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const v4 = ipv4Number(piece);
        groups.push(Math.floor(v4 / 65536), v4 % 65536);
      } else groups.push(parseInt(piece, 16));
    }
    return groups;
  };
  const head = parse(halves[0]!);
  if (halves.length === 1) return head;
  const tail = parse(halves[1]!);
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

interface Ipv6Range {
  groups: number[];
  bits: number;
}

function inIpv6Range(groups: readonly number[], range: Ipv6Range): boolean {
  let bits = range.bits;
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const take = Math.min(16, bits);
    const mask = (0xffff << (16 - take)) & 0xffff;
    if ((groups[i]! & mask) !== (range.groups[i]! & mask)) return false;
  }
  return true;
}

/**
 * A check for `entries` (IPs or CIDRs, already validated). An IPv4 address matches IPv4 entries only and an IPv6
 * address IPv6 entries only, as Kong's ipmatcher; a string that is not an address matches nothing.
 */
export function ipListMatcher(entries: readonly string[]): (ip: string) => boolean {
  const v4: number[] = []; // network, mask pairs
  const v6: Ipv6Range[] = [];
  for (const entry of entries) {
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const family = isIP(address);
    if (family === 4) {
      const bits = slash === -1 ? 32 : Number(entry.slice(slash + 1));
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      v4.push((ipv4Number(address) & mask) >>> 0, mask);
    } else if (family === 6) {
      v6.push({ groups: ipv6Groups(address), bits: slash === -1 ? 128 : Number(entry.slice(slash + 1)) });
    }
  }
  return (ip) => {
    const family = isIP(ip);
    if (family === 4) {
      if (v4.length === 0) return false;
      const value = ipv4Number(ip);
      for (let i = 0; i < v4.length; i += 2) if ((value & v4[i + 1]!) >>> 0 === v4[i]) return true;
      return false;
    }
    if (family === 6 && v6.length > 0) {
      const groups = ipv6Groups(ip);
      return v6.some((range) => inIpv6Range(groups, range));
    }
    return false;
  };
}
