// Does a control plane certificate match the server name a data plane expects (RFC 6125 rules, CN only without SAN DNS)?
import { isIP } from 'node:net';
import type { ParsedCertificate } from './certificate.js';

const normalise = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/**
 * One DNS pattern against one name. A wildcard is only a whole left-most label (`*.example.com`), matches
 * exactly one label, and needs at least two labels after it — the rules OpenSSL applies without partial
 * wildcards, which is stricter than Node's default `checkHost`.
 */
export function dnsPatternMatches(pattern: string, name: string): boolean {
  const p = normalise(pattern);
  const n = normalise(name);
  if (!p || !n) return false;
  if (!p.startsWith('*.')) return p === n;
  const rest = p.slice(2);
  if (rest.includes('*') || rest.split('.').length < 2) return false;
  const dot = n.indexOf('.');
  return dot > 0 && n.slice(dot + 1) === rest;
}

/** The names the certificate would be matched on, for messages. */
export function presentedNames(cert: ParsedCertificate): string[] {
  if (cert.sanDns.length > 0 || cert.sanIp.length > 0) return [...cert.sanDns, ...cert.sanIp];
  return cert.commonName ? [`CN=${cert.commonName}`] : [];
}

export function matchesServerName(cert: ParsedCertificate, serverName: string): boolean {
  if (isIP(serverName)) return cert.x509.checkIP(serverName) !== undefined;
  if (cert.sanDns.length > 0) return cert.sanDns.some((dns) => dnsPatternMatches(dns, serverName));
  // CN is a fallback only when the certificate has no DNS SAN at all.
  return cert.commonName !== undefined && dnsPatternMatches(cert.commonName, serverName);
}
