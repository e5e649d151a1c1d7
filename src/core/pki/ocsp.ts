// OCSP client: asks the responder named in a certificate's AIA and trusts only a verified, fresh, matching answer.
import { randomBytes, webcrypto } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { ParsedCertificate } from './certificate.js';
import { finding, withSeverity, type Finding } from './findings.js';

export const OCSP_TIMEOUT_MS = 5_000;
/** Clock skew tolerated between us and the responder for thisUpdate / nextUpdate. */
export const OCSP_CLOCK_SKEW_MS = 5 * 60_000;
const NONCE_OID = '1.3.6.1.5.5.7.48.1.2';

/** `on`: anything but a good answer rejects; `optional`: only revoked rejects, the rest warns (SPEC §3). */
export type OcspPolicy = 'on' | 'optional';

export type OcspResult =
  | { status: 'good'; url: string; thisUpdate: Date; nextUpdate?: Date }
  | { status: 'revoked'; url: string; thisUpdate: Date; nextUpdate?: Date; revokedAt?: Date }
  | { status: 'unknown'; url: string; reason: string }
  | { status: 'no_responder' }
  | { status: 'unreachable'; url: string; reason: string }
  | { status: 'bad_response'; url: string; reason: string };

export interface OcspCheckOptions {
  cert: ParsedCertificate;
  /** The certificate that issued `cert` (next on the verified path). */
  issuer: ParsedCertificate;
  timeoutMs?: number;
  /** Instant to judge freshness at (default: now). */
  at?: Date;
}

// An explicit engine instead of pkijs's process-global one, so nothing else in the process is affected.
const engine = new pkijs.CryptoEngine({
  name: 'node',
  crypto: webcrypto as unknown as pkijs.CryptoEngineParameters['crypto'],
});

class BadResponse extends Error {}

/**
 * One POST on its own connection (no keep-alive: simple responders such as `openssl ocsp` serve one
 * connection at a time), bounded by a single deadline for connect + answer.
 */
function post(url: string, body: Buffer, timeoutMs: number): Promise<ArrayBuffer> {
  const send = url.toLowerCase().startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/ocsp-request',
        accept: 'application/ocsp-response',
        'content-length': body.length,
      },
      signal: AbortSignal.timeout(timeoutMs),
    });
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`HTTP ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const all = Buffer.concat(chunks);
        resolve(all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength));
      });
      res.on('error', reject);
    });
    req.on('error', (err: Error & { code?: string }) =>
      reject(new Error(err.name === 'AbortError' ? 'timed out' : (err.code ?? err.message))),
    );
    req.end(body);
  });
}

/** Asks the responder in `cert`'s AIA about `cert`. Never throws for network or protocol trouble. */
export async function checkOcsp(options: OcspCheckOptions): Promise<OcspResult> {
  const url = options.cert.ocspUrls.find((u) => /^https?:\/\//i.test(u));
  if (!url) return { status: 'no_responder' };

  const cert = pkijs.Certificate.fromBER(options.cert.der);
  const issuer = pkijs.Certificate.fromBER(options.issuer.der);
  const request = new pkijs.OCSPRequest();
  // SHA-1 CertIDs are what every responder (RFC 5019 profile, openssl ocsp) matches on; they only identify.
  await request.createForCertificate(cert, { hashAlgorithm: 'SHA-1', issuerCertificate: issuer }, engine);
  const nonce = randomBytes(16);
  request.tbsRequest.requestExtensions = [
    new pkijs.Extension({
      extnID: NONCE_OID,
      extnValue: new asn1js.OctetString({ valueHex: nonce }).toBER(),
    }),
  ];
  const certID = request.tbsRequest.requestList[0]?.reqCert as pkijs.CertID;

  let body: ArrayBuffer;
  try {
    body = await post(url, Buffer.from(request.toSchema(true).toBER()), options.timeoutMs ?? OCSP_TIMEOUT_MS);
  } catch (err) {
    return { status: 'unreachable', url, reason: (err as Error).message };
  }

  try {
    return await judgeResponse(body, {
      url,
      certID,
      nonce,
      issuer,
      at: options.at ?? new Date(),
    });
  } catch (err) {
    if (err instanceof BadResponse) return { status: 'bad_response', url, reason: err.message };
    return { status: 'bad_response', url, reason: `unreadable OCSP response: ${(err as Error).message}` };
  }
}

interface Expectation {
  url: string;
  certID: pkijs.CertID;
  nonce: Buffer;
  issuer: pkijs.Certificate;
  at: Date;
}

const RESPONSE_STATUS: Record<number, string> = {
  1: 'malformedRequest',
  2: 'internalError',
  3: 'tryLater',
  5: 'sigRequired',
  6: 'unauthorized',
};

async function judgeResponse(body: ArrayBuffer, expect: Expectation): Promise<OcspResult> {
  const ocsp = pkijs.OCSPResponse.fromBER(body);
  const code = ocsp.responseStatus.valueBlock.valueDec;
  if (code !== 0) {
    // "unauthorized" is how a responder says it does not serve this CA at all.
    if (code === 6)
      return { status: 'unknown', url: expect.url, reason: 'responder is not authoritative (unauthorized)' };
    throw new BadResponse(`responder answered ${RESPONSE_STATUS[code] ?? `status ${code}`}`);
  }
  if (!ocsp.responseBytes) throw new BadResponse('successful response without responseBytes');
  const basic = pkijs.BasicOCSPResponse.fromBER(ocsp.responseBytes.response.valueBlock.valueHexView);

  // A response signed directly by the issuer may omit certificates; the issuer is then the only candidate.
  if (!basic.certs || basic.certs.length === 0) basic.certs = [expect.issuer];
  // pkijs checks the signature, and that a delegated signer carries OCSPSigning and was issued by the CA.
  // The CA itself is a trusted responder for its own certificates (its own chain was verified already).
  let verified = false;
  try {
    verified = await basic.verify(
      { trustedCerts: [expect.issuer], trustedResponders: [expect.issuer] },
      engine,
    );
  } catch (err) {
    throw new BadResponse(`signature not trusted: ${(err as Error).message}`);
  }
  if (!verified) throw new BadResponse('signature does not verify');

  const nonceExt = basic.tbsResponseData.responseExtensions?.find((e) => e.extnID === NONCE_OID);
  // Responders that pre-sign answers (RFC 5019) send no nonce; one that does send it must echo ours.
  if (nonceExt) {
    const echoed = asn1js.fromBER(nonceExt.extnValue.valueBlock.valueHexView).result as asn1js.OctetString;
    const got = Buffer.from(echoed.valueBlock?.valueHexView ?? nonceExt.extnValue.valueBlock.valueHexView);
    if (!got.equals(expect.nonce)) throw new BadResponse('nonce does not match the request');
  }

  const single = basic.tbsResponseData.responses.find((r) => r.certID.isEqual(expect.certID));
  if (!single) throw new BadResponse('no answer for the certificate that was asked about');
  const now = expect.at.getTime();
  if (single.thisUpdate.getTime() > now + OCSP_CLOCK_SKEW_MS)
    throw new BadResponse(`thisUpdate ${single.thisUpdate.toISOString()} is in the future`);
  if (single.nextUpdate && single.nextUpdate.getTime() < now - OCSP_CLOCK_SKEW_MS)
    throw new BadResponse(`stale answer: nextUpdate ${single.nextUpdate.toISOString()} has passed`);

  const times = {
    thisUpdate: single.thisUpdate,
    ...(single.nextUpdate ? { nextUpdate: single.nextUpdate } : {}),
  };
  const tag = (single.certStatus as asn1js.BaseBlock).idBlock.tagNumber;
  if (tag === 0) return { status: 'good', url: expect.url, ...times };
  if (tag === 1) {
    const revokedAt = revocationTime(single.certStatus as asn1js.Constructed);
    return { status: 'revoked', url: expect.url, ...times, ...(revokedAt ? { revokedAt } : {}) };
  }
  return { status: 'unknown', url: expect.url, reason: 'responder does not know this certificate' };
}

function revocationTime(status: asn1js.Constructed): Date | undefined {
  const first = status.valueBlock?.value?.[0];
  return first instanceof asn1js.GeneralizedTime ? first.toDate() : undefined;
}

/** The finding an OCSP result becomes under a policy; `optional` lets everything but `revoked` through as a warning. */
export function ocspFinding(result: OcspResult, policy: OcspPolicy, subject?: string): Finding {
  let f: Finding;
  switch (result.status) {
    case 'good':
      f = finding(
        'ocsp_good',
        `OCSP ${result.url}: good${result.nextUpdate ? ` (next update ${result.nextUpdate.toISOString()})` : ''}`,
        subject,
      );
      break;
    case 'revoked':
      f = finding(
        'ocsp_revoked',
        `OCSP ${result.url}: revoked${result.revokedAt ? ` at ${result.revokedAt.toISOString()}` : ''}`,
        subject,
      );
      break;
    case 'unknown':
      f = finding('ocsp_unknown', `OCSP ${result.url}: unknown (${result.reason})`, subject);
      break;
    case 'no_responder':
      f = finding(
        'ocsp_no_responder',
        'the certificate names no OCSP responder (authorityInfoAccess)',
        subject,
      );
      break;
    case 'unreachable':
      f = finding('ocsp_unreachable', `OCSP ${result.url}: no answer (${result.reason})`, subject);
      break;
    case 'bad_response':
      f = finding('ocsp_bad_response', `OCSP ${result.url}: ${result.reason}`, subject);
      break;
  }
  return policy === 'optional' && f.severity === 'error' && f.code !== 'ocsp_revoked'
    ? withSeverity(f, 'warning')
    : f;
}
