// An error log that writes the same trouble at most once per interval (Redis down must not log every request).
import type { PluginLog } from '../api.js';

export class ThrottledLog {
  private nextAt = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly log: PluginLog,
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  error(message: string): void {
    const now = this.now();
    if (now < this.nextAt) {
      this.suppressed++;
      return;
    }
    const more =
      this.suppressed > 0 ? ` (${this.suppressed} similar errors in the last interval not logged)` : '';
    this.log.error(message + more);
    this.suppressed = 0;
    this.nextAt = now + this.intervalMs;
  }
}
