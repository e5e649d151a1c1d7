// Public surface of the PKI core: what the cluster handshake and the CLI import.
export { verifyPeerChain, DEFAULT_SERVER_NAME, DEFAULT_WARN_DAYS, MAX_INTERMEDIATES } from './chain.js';
export type { ChainReport, ClusterMtlsMode, PeerRole, VerifyPeerChainOptions } from './chain.js';
export { verifyPkiSetup } from './setup.js';
export type { PemSource, PkiSetupInput, PkiSetupReport } from './setup.js';
export { peerChainFromTls } from './tls-peer.js';
export { parseCertificate, CertificateParseError } from './certificate.js';
export type { CertificateInput, ParsedCertificate } from './certificate.js';
export { parsePemCertificates, parsePrivateKey, PemError } from './pem.js';
export { FINDINGS, finding, firstError, hasErrors } from './findings.js';
export type { Finding, FindingCode, Severity } from './findings.js';
export { matchesServerName, dnsPatternMatches } from './server-name.js';
export { nodeTrust, trustedPems, defaultCaCertificates, trustContext, TRUST_KEYS } from './trust.js';
export type { Trust, TlsIdentity } from './trust.js';
export { chainDepth, type ChainDepth } from './verify-depth.js';
