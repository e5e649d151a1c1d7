// The balancing algorithms over a list of addresses: smooth weighted round-robin, least-connections,
// and a consistent-hashing ring.
import type { Address } from './address.js';
import { hash32 } from './hash.js';

export interface Algorithm {
  /** Takes the (new) address list; called whenever targets or their DNS answers change. */
  rebuild(addresses: readonly Address[]): void;
  /** The next address among those `usable` accepts; weight-0 addresses are never returned. */
  pick(usable: (address: Address) => boolean, hashKey: string): Address | null;
}

/**
 * nginx's smooth weighted round-robin: each pick adds every candidate's weight to its running
 * score, takes the highest and subtracts the total from it. Weights 1:2:3 give C B A C B C, not
 * A B B C C C, and skipped (unhealthy, excluded) addresses simply take no part.
 */
export class RoundRobin implements Algorithm {
  private addresses: readonly Address[] = [];
  private scores = new Float64Array(0);

  rebuild(addresses: readonly Address[]): void {
    this.addresses = addresses;
    this.scores = new Float64Array(addresses.length);
  }

  pick(usable: (address: Address) => boolean): Address | null {
    let best = -1;
    let total = 0;
    for (let i = 0; i < this.addresses.length; i++) {
      const address = this.addresses[i]!;
      if (address.weight === 0 || !usable(address)) continue;
      this.scores[i]! += address.weight;
      total += address.weight;
      if (best < 0 || this.scores[i]! > this.scores[best]!) best = i;
    }
    if (best < 0) return null;
    this.scores[best]! -= total;
    return this.addresses[best]!;
  }
}

/**
 * Kong's least-connections: the lowest (in flight + 1) / weight wins. Ties go to the first candidate
 * after a rotating start, so an idle upstream is still spread evenly.
 */
export class LeastConnections implements Algorithm {
  private addresses: readonly Address[] = [];
  private start = 0;

  rebuild(addresses: readonly Address[]): void {
    this.addresses = addresses;
    this.start = 0;
  }

  pick(usable: (address: Address) => boolean): Address | null {
    const n = this.addresses.length;
    if (n === 0) return null;
    const start = this.start;
    this.start = (start + 1) % n;
    let best: Address | null = null;
    let bestScore = Infinity;
    for (let i = 0; i < n; i++) {
      const address = this.addresses[(start + i) % n]!;
      if (address.weight === 0 || !usable(address)) continue;
      const score = (address.inFlight + 1) / address.weight;
      if (score < bestScore) {
        best = address;
        bestScore = score;
      }
    }
    return best;
  }
}

/** Points an address of average weight gets on the ring (Kong's SERVER_POINTS). */
export const POINTS_PER_ADDRESS = 160;
/** Kong's smallest continuum: `slots` below it are raised to it. */
export const MIN_RING_SIZE = 1000;

/**
 * Kong's ketama-style ring of `slots` positions. Each address gets points in proportion to its
 * weight (160 for an average one) at hash("ip:port i") mod slots; a key hashes to a position and
 * belongs to the first point at or before it, walking on past unusable addresses. An address's
 * points depend only on its own name and its share of the average weight, so adding an eleventh
 * equal target moves only the keys it takes over (about 1/11), and every node builds the same ring.
 */
export class ConsistentHashing implements Algorithm {
  private readonly size: number;
  private addresses: readonly Address[] = [];
  /** Occupied ring positions, ascending, and the index into `addresses` owning each. */
  private positions = new Uint32Array(0);
  private owners = new Int32Array(0);

  constructor(slots: number) {
    this.size = Math.max(slots, MIN_RING_SIZE);
  }

  rebuild(addresses: readonly Address[]): void {
    this.addresses = addresses;
    let totalWeight = 0;
    let count = 0;
    for (const address of addresses) {
      if (address.weight === 0) continue;
      totalWeight += address.weight;
      count++;
    }
    // Keep at least half of the ring free so points rarely collide.
    const budget = Math.min(count * POINTS_PER_ADDRESS, Math.floor(this.size / 2));
    const owner = new Int32Array(this.size).fill(-1);
    const claim = new Uint32Array(this.size);
    addresses.forEach((address, index) => {
      if (address.weight === 0) return;
      const entries = Math.max(1, Math.floor((address.weight / totalWeight) * budget));
      for (let i = 1; i <= entries; i++) {
        const point = hash32(`${address.target.key} ${i}`);
        const position = point % this.size;
        // Two points on one position: the larger full hash keeps it, whatever the order addresses
        // come in. Kong moves the loser on to another position instead, which lets a new target
        // shift keys between old ones; dropping it keeps every move going to the new target.
        if (owner[position] === -1 || point > claim[position]!) {
          owner[position] = index;
          claim[position] = point;
        }
      }
    });
    let occupied = 0;
    for (let position = 0; position < this.size; position++) if (owner[position] !== -1) occupied++;
    this.positions = new Uint32Array(occupied);
    this.owners = new Int32Array(occupied);
    let j = 0;
    for (let position = 0; position < this.size; position++) {
      if (owner[position] === -1) continue;
      this.positions[j] = position;
      this.owners[j] = owner[position]!;
      j++;
    }
  }

  pick(usable: (address: Address) => boolean, hashKey: string): Address | null {
    const n = this.positions.length;
    if (n === 0) return null;
    const position = hash32(hashKey) % this.size;
    // The last point at or before the key's position (wrapping to the highest one).
    let lo = 0;
    let hi = n - 1;
    let at = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.positions[mid]! <= position) {
        at = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    for (let step = 0; step < n; step++) {
      const address = this.addresses[this.owners[at]!]!;
      if (usable(address)) return address;
      at = at === 0 ? n - 1 : at - 1;
    }
    return null;
  }
}
