// Turns what a Node TLS socket reports about its peer into the chain form verifyPeerChain takes.
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';

/**
 * `tlsSocket.getPeerCertificate(true)` (also what `checkServerIdentity` receives) is a linked list via
 * `issuerCertificate`: the peer's leaf, then the presented intermediates Node could link, then issuers
 * Node completed from its own trust store (so possibly our root), the last one pointing at itself.
 * `getPeerX509Certificate()` gives only the leaf, so it is not enough for pki mode.
 * Returns DER buffers, leaf first; verifyPeerChain ignores a copy of the trusted root.
 */
export function peerChainFromTls(
  peer: PeerCertificate | DetailedPeerCertificate | undefined | null,
): Buffer[] {
  const chain: Buffer[] = [];
  const seen = new Set<string>();
  let current: (PeerCertificate & { issuerCertificate?: DetailedPeerCertificate }) | undefined =
    peer ?? undefined;
  // An empty object is what Node returns when the peer sent no certificate.
  while (current?.raw && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    chain.push(current.raw);
    current = current.issuerCertificate;
  }
  return chain;
}
