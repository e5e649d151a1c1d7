// The six rate-limiting periods and their fixed windows, aligned as Kong aligns them (UTC calendar starts).

export const PERIODS = ['second', 'minute', 'hour', 'day', 'month', 'year'] as const;
export type Period = (typeof PERIODS)[number];

/**
 * Seconds a window counts for: Kong's `expiration.lua`. `RateLimit-Reset` is computed from these, so a month is
 * 30 days and a year 365 days there even though the windows themselves start on calendar boundaries.
 */
export const PERIOD_SECONDS: Readonly<Record<Period, number>> = {
  second: 1,
  minute: 60,
  hour: 3_600,
  day: 86_400,
  month: 2_592_000,
  year: 31_536_000,
};

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Start (epoch ms) of the window of each period containing `now`, like Kong's `timestamp.get_timestamps`:
 * second/minute/hour/day by arithmetic, month/year from the UTC calendar. The calendar starts are cached until
 * `now` leaves them, so the hot path does no Date work.
 */
export class PeriodWindows {
  private monthStart = 0;
  private monthEnd = -1;
  private yearStart = 0;
  private yearEnd = -1;

  /** Window start of `period` for `now` (ms). */
  start(period: Period, now: number): number {
    switch (period) {
      case 'second':
        return now - (now % SECOND);
      case 'minute':
        return now - (now % MINUTE);
      case 'hour':
        return now - (now % HOUR);
      case 'day':
        return now - (now % DAY);
      case 'month':
        if (now < this.monthStart || now >= this.monthEnd) {
          const d = new Date(now);
          this.monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
          this.monthEnd = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
        }
        return this.monthStart;
      case 'year':
        if (now < this.yearStart || now >= this.yearEnd) {
          const y = new Date(now).getUTCFullYear();
          this.yearStart = Date.UTC(y, 0, 1);
          this.yearEnd = Date.UTC(y + 1, 0, 1);
        }
        return this.yearStart;
    }
  }
}

/** Kong's `RateLimit-Reset`: whole seconds left in the window by its nominal length, at least 1. */
export function secondsToReset(period: Period, windowStart: number, now: number): number {
  return Math.max(1, PERIOD_SECONDS[period] - Math.floor((now - windowStart) / SECOND));
}
