// The `local` policy: counters in this node's memory, one map per period holding only the current window.
import type { Period } from './periods.js';

interface Window {
  start: number;
  counts: Map<string, number>;
}

/**
 * One plugin entity's counters on this node. A window's map is replaced when its period moves on, so memory holds
 * only identifiers seen in the current windows (Kong's shm entries expire the same way).
 */
export class LocalCounters {
  private readonly windows: Partial<Record<Period, Window>> = {};

  private window(period: Period, start: number): Window {
    let window = this.windows[period];
    if (window === undefined || window.start !== start) {
      window = { start, counts: new Map() };
      this.windows[period] = window;
    }
    return window;
  }

  /** Requests counted so far for `identifier` in the window of `period` starting at `start`. */
  usage(period: Period, start: number, identifier: string): number {
    return this.window(period, start).counts.get(identifier) ?? 0;
  }

  increment(period: Period, start: number, identifier: string): void {
    const counts = this.window(period, start).counts;
    counts.set(identifier, (counts.get(identifier) ?? 0) + 1);
  }
}
