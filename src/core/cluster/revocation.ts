// The control plane's OCSP check of data plane certificates (cluster_ocsp): checkOcsp behind a per-certificate cache.
import type { ParsedCertificate } from '../pki/index.js';
import {
  checkOcsp,
  ocspFinding,
  type OcspCheckOptions,
  type OcspPolicy,
  type OcspResult,
} from '../pki/ocsp.js';

/** How long a good or revoked answer without nextUpdate is trusted. */
export const OCSP_CACHE_DEFAULT_MS = 5 * 60_000;
/** Bound on cached answers; the oldest entry goes first when it is reached. */
export const OCSP_CACHE_MAX_ENTRIES = 10_000;

export type RevocationVerdict =
  | {
      allow: true;
      /** Why the certificate passed without a good answer (`optional` only). */ warning?: string;
    }
  | { allow: false; reason: string };

export interface RevocationCheckOptions {
  policy: OcspPolicy;
  /** The OCSP client; tests inject their own. */
  ask?: (options: OcspCheckOptions) => Promise<OcspResult>;
  now?: () => number;
}

export interface RevocationCheck {
  /** Judges `leaf` (issued by `issuer`, both from the verified path) under the policy. */
  verdict(leaf: ParsedCertificate, issuer: ParsedCertificate): Promise<RevocationVerdict>;
  /** How many times the responder was asked (cache misses). */
  lookups(): number;
}

interface Cached {
  result: OcspResult;
  until: number;
}

export function createRevocationCheck(options: RevocationCheckOptions): RevocationCheck {
  const ask = options.ask ?? checkOcsp;
  const now = options.now ?? Date.now;
  const cache = new Map<string, Cached>();
  // Data planes sharing a certificate and reconnecting together wait for one answer.
  const pending = new Map<string, Promise<OcspResult>>();
  let lookups = 0;

  async function lookup(leaf: ParsedCertificate, issuer: ParsedCertificate): Promise<OcspResult> {
    // A serial number is unique per issuer, so (issuer, serial) names a certificate.
    const key = `${issuer.sha256}/${leaf.x509.serialNumber}`;
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.result;
    if (hit) cache.delete(key);
    let answer = pending.get(key);
    if (!answer) {
      lookups += 1;
      answer = ask({ cert: leaf, issuer }).finally(() => pending.delete(key));
      pending.set(key, answer);
    }
    const result = await answer;
    // Only answers the responder vouched for are remembered; failures are retried on the next handshake.
    if (result.status === 'good' || result.status === 'revoked') {
      const until = result.nextUpdate?.getTime() ?? now() + OCSP_CACHE_DEFAULT_MS;
      if (until > now()) {
        if (cache.size >= OCSP_CACHE_MAX_ENTRIES) cache.delete(cache.keys().next().value!);
        cache.set(key, { result, until });
      }
    }
    return result;
  }

  return {
    async verdict(leaf, issuer) {
      const judged = ocspFinding(await lookup(leaf, issuer), options.policy, leaf.subject);
      if (judged.severity === 'error') return { allow: false, reason: judged.message };
      return judged.severity === 'warning' ? { allow: true, warning: judged.message } : { allow: true };
    },
    lookups: () => lookups,
  };
}
