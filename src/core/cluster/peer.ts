// The cluster handshake's certificate check, the same on both sides: the PKI module's verifyPeerChain.
import type { TLSSocket } from 'node:tls';
import { clusterServerName, type HybridConfig } from '../config/index.js';
import { firstError, peerChainFromTls, verifyPeerChain, type ParsedCertificate } from '../pki/index.js';

/** The roots a pki-mode node trusts (cluster_ca_cert); none in shared mode. */
export function clusterTrustedRoots(config: HybridConfig): string[] | undefined {
  return config.cluster_mtls === 'pki' && config.cluster_ca_cert ? [config.cluster_ca_cert.pem] : undefined;
}

export type PeerCheck =
  | { accepted: true; /** Leaf first, ending at the trusted root in pki mode. */ path: ParsedCertificate[] }
  | { accepted: false; reason: string };

/**
 * Checks the certificate chain the peer presented on `socket`: a control plane checks data planes
 * (`peerRole = 'dp'`), a data plane checks its control plane (`'cp'`, which must also match
 * cluster_server_name).
 */
export function checkPeer(config: HybridConfig, peerRole: 'cp' | 'dp', socket: TLSSocket): PeerCheck {
  const chain = peerChainFromTls(socket.getPeerCertificate(true));
  if (chain.length === 0) return { accepted: false, reason: 'no certificate presented' };
  const report = verifyPeerChain({
    mode: config.cluster_mtls,
    role: peerRole,
    peerChain: chain,
    trustedRoots: clusterTrustedRoots(config),
    sharedCert: config.cluster_mtls === 'shared' ? config.cluster_cert!.pem : undefined,
    serverName: peerRole === 'cp' ? clusterServerName(config) : undefined,
    warnDays: 0,
  });
  return report.valid
    ? { accepted: true, path: report.path }
    : { accepted: false, reason: firstError(report.findings)?.message ?? 'certificate refused' };
}

/** `checkPeer` for callers that only need the verdict: why the peer is refused, or null when it is accepted. */
export function refusePeer(config: HybridConfig, peerRole: 'cp' | 'dp', socket: TLSSocket): string | null {
  const check = checkPeer(config, peerRole, socket);
  return check.accepted ? null : check.reason;
}
