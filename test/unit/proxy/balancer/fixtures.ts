// Configurations, requests and a log recorder for the balancer unit tests.
import type { BalancerRequest, DeclarativeConfig, UpstreamEntity } from '../../../../src/core/proxy/types.js';

export const UPSTREAM_ID = '00000000-0000-4000-8000-000000000001';

/** One upstream named `service.upstream` with `targets` as [target, weight?] pairs. */
export function upstreamConfig(
  upstream: Partial<UpstreamEntity>,
  targets: [string, number?][],
  ids: string[] = targets.map((_, i) => `00000000-0000-4000-8000-1${String(i).padStart(11, '0')}`),
): DeclarativeConfig {
  return {
    _format_version: '3.0',
    upstreams: [{ id: UPSTREAM_ID, name: 'service.upstream', ...upstream }],
    targets: targets.map(([target, weight], i) => ({
      id: ids[i]!,
      target,
      weight: weight ?? 100,
      upstream: { id: UPSTREAM_ID },
    })),
  };
}

export function request(over: Partial<BalancerRequest> = {}): BalancerRequest {
  return { clientIp: '192.0.2.1', headers: {}, path: '/', query: new URLSearchParams(), ...over };
}

export function recordingLog(): { info(m: string): void; warn(m: string): void; lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`) };
}
