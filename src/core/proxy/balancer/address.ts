// One address a balancer hands out: a target's IP and port, its weight, health and attempts in flight.
import type { BalancerTarget } from '../types.js';
import { HealthCounters } from './health.js';

export class Address {
  readonly health = new HealthCounters();
  /** Attempts picked and not yet `done` (least-connections). */
  inFlight = 0;

  constructor(
    readonly target: BalancerTarget,
    /** The target entity this address came from (health is carried across configs by it). */
    readonly targetId: string,
  ) {}

  get weight(): number {
    return this.target.weight;
  }
}

/** Formats an address for `host:port` keys and logs (IPv6 in brackets). */
export function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}
