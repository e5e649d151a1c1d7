// The depth of a verified certificate chain, counted as OpenSSL's verify depth (nginx's proxy_ssl_verify_depth):
// Node verifies chains but has no depth limit, so the limit is checked on the chain after the handshake.
import { createHash, X509Certificate } from 'node:crypto';

export type ChainDepth = { intermediates: number } | { problem: string };

/**
 * Certificates parsed and links checked, by the SHA-256 of their DER: a server presents the same chain on every
 * handshake, and parsing it each time (~0.2 ms a certificate here) would cost more than the handshake's own
 * checks. A result for the same bytes never changes; the maps are emptied when they grow past their bound.
 */
const PARSED_KEPT = 512;
const LINKS_KEPT = 2048;
const parsed = new Map<string, X509Certificate>();
const links = new Map<string, boolean>();

function parse(der: Buffer, id: string): X509Certificate {
  let cert = parsed.get(id);
  if (!cert) {
    cert = new X509Certificate(der);
    if (parsed.size >= PARSED_KEPT) parsed.clear();
    parsed.set(id, cert);
  }
  return cert;
}

/** Whether `issuer` issued and signed `child` (the same certificate twice: whether it is self-signed). */
function signs(issuer: X509Certificate, issuerId: string, child: X509Certificate, childId: string): boolean {
  const key = `${childId} ${issuerId}`;
  let result = links.get(key);
  if (result === undefined) {
    result = child.checkIssued(issuer) && child.verify(issuer.publicKey);
    if (links.size >= LINKS_KEPT) links.clear();
    links.set(key, result);
  }
  return result;
}

const name = (cert: X509Certificate): string => cert.subject.replace(/\n/g, ', ');

/**
 * How many intermediates `chain` holds: DER, leaf first, up to the trust anchor, as Node reports a verified
 * peer (`peerChainFromTls(socket.getPeerCertificate(true))`). As OpenSSL counts, neither the leaf nor the
 * self-signed anchor counts: 0 is a leaf issued by the anchor itself (or a trusted self-signed leaf), and a
 * verify depth of N allows at most N. Node links that chain by names only, so each link's signature is
 * checked too: a chain that is not the one OpenSSL verified is reported, never counted.
 */
export function chainDepth(chain: readonly Buffer[]): ChainDepth {
  if (chain.length === 0) return { problem: 'the server presented no certificate' };
  const ids = chain.map((der) => createHash('sha256').update(der).digest('base64'));
  let certs: X509Certificate[];
  try {
    certs = chain.map((der, i) => parse(der, ids[i]!));
  } catch (err) {
    return { problem: `the chain holds a certificate that cannot be read: ${(err as Error).message}` };
  }
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!signs(certs[i + 1]!, ids[i + 1]!, certs[i]!, ids[i]!)) {
      return {
        problem: `the chain does not link up: ${name(certs[i + 1]!)} did not sign ${name(certs[i]!)}`,
      };
    }
  }
  const top = certs.length - 1;
  // An anchor that is not self-signed (never the case for a chain Node verified) counts, to err on the safe side.
  const anchor = top > 0 && signs(certs[top]!, ids[top]!, certs[top]!, ids[top]!) ? 1 : 0;
  return { intermediates: top - anchor };
}
