// The redis policy's counting in batches: requests go to Redis together as one script call, each distinct key
// once with the number of requests it counts, and every request gets the count before it as if it had made its
// own INCR in turn. The script runs atomically, so nodes racing on one key still enforce the sum, exactly as with
// one call per request. A batch is sent at the end of the event-loop turn its first request came in, unless one
// is still on its way: then the requests wait for its answer (MAX_WAIT_MS at most) and go together next, so under
// load one round trip serves all the requests that arrived during the previous one.

/** Counts `increments[i]` on `keys[i]` (expiring a new key after `ttls[i]` s); answers each key's count before. */
export type CountKeys = (
  keys: readonly string[],
  increments: readonly number[],
  ttls: readonly number[],
) => Promise<readonly number[]>;

interface Waiter {
  keys: readonly string[];
  ttls: readonly number[];
  resolve: (used: number[]) => void;
  reject: (err: unknown) => void;
}

/** One batch's call: the distinct keys, and per request and key where its count comes from. */
export interface BatchPlan {
  keys: string[];
  increments: number[];
  ttls: number[];
  /** Per request, per key of it, in order: the index of its distinct key. */
  slots: number[];
  /** Alongside `slots`: requests of the batch counted on that key before this one. */
  earlier: number[];
}

/** Groups the requests' keys (pure: the batch's arithmetic, tested apart from Redis). */
export function planBatch(
  requests: readonly { keys: readonly string[]; ttls: readonly number[] }[],
): BatchPlan {
  const plan: BatchPlan = { keys: [], increments: [], ttls: [], slots: [], earlier: [] };
  const indexOf = new Map<string, number>();
  for (const request of requests) {
    for (let j = 0; j < request.keys.length; j++) {
      const key = request.keys[j]!;
      let index = indexOf.get(key);
      if (index === undefined) {
        index = plan.keys.length;
        indexOf.set(key, index);
        plan.keys.push(key);
        plan.increments.push(0);
        plan.ttls.push(request.ttls[j]!);
      }
      plan.slots.push(index);
      plan.earlier.push(plan.increments[index]!);
      plan.increments[index]!++;
    }
  }
  return plan;
}

/** Each request's counts before it, in order, from the counts before the batch of its distinct keys. */
export function countsOf(
  plan: BatchPlan,
  requests: readonly { keys: readonly string[] }[],
  before: readonly number[],
): number[][] {
  const out: number[][] = [];
  let k = 0;
  for (const request of requests) {
    const used = new Array<number>(request.keys.length);
    for (let j = 0; j < used.length; j++, k++) used[j] = Number(before[plan.slots[k]!]) + plan.earlier[k]!;
    out.push(used);
  }
  return out;
}

/** Requests sent in one script call at most (a call stays short for Redis; more go as further calls). */
export const MAX_BATCH = 512;

/** How long requests wait for an earlier call's answer before they go anyway (a Redis that stopped answering). */
export const MAX_WAIT_MS = 10;

export class UsageBatcher {
  private waiting: Waiter[] = [];
  private scheduled = false;
  /** Calls sent and not answered yet. */
  private inFlight = 0;
  /** Set while requests wait behind a call: sends them after maxWaitMs. */
  private waitTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly count: CountKeys,
    /** How long requests wait behind an unanswered call at most. */
    private readonly maxWaitMs = MAX_WAIT_MS,
  ) {}

  /** This request's counts before it on `keys`, counted with the other requests of its batch. */
  usage(keys: readonly string[], ttls: readonly number[]): Promise<number[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ keys, ttls, resolve, reject });
      if (this.inFlight === 0) {
        if (!this.scheduled) {
          this.scheduled = true;
          // After the I/O of this turn: every request parsed in it joins the batch.
          setImmediate(this.flushScheduled);
        }
      } else if (this.waitTimer === null) {
        this.waitTimer = setTimeout(this.flushWaited, this.maxWaitMs);
        this.waitTimer.unref();
      }
    });
  }

  private readonly flushScheduled = (): void => {
    this.scheduled = false;
    if (this.inFlight === 0) this.flush();
  };

  private readonly flushWaited = (): void => {
    this.waitTimer = null;
    this.flush();
  };

  /** Sends everything waiting, in calls of MAX_BATCH requests at most. */
  private flush(): void {
    if (this.waitTimer !== null) {
      clearTimeout(this.waitTimer);
      this.waitTimer = null;
    }
    while (this.waiting.length > 0) {
      const batch = this.waiting.length <= MAX_BATCH ? this.waiting : this.waiting.slice(0, MAX_BATCH);
      this.waiting = batch === this.waiting ? [] : this.waiting.slice(MAX_BATCH);
      this.send(batch);
    }
  }

  private send(waiters: Waiter[]): void {
    const plan = planBatch(waiters);
    let answer: Promise<readonly number[]>;
    try {
      answer = this.count(plan.keys, plan.increments, plan.ttls);
    } catch (err) {
      for (const w of waiters) w.reject(err);
      return;
    }
    this.inFlight++;
    answer.then(
      (before) => {
        this.settled();
        const counts = countsOf(plan, waiters, before);
        for (let i = 0; i < waiters.length; i++) waiters[i]!.resolve(counts[i]!);
      },
      (err: unknown) => {
        this.settled();
        for (const w of waiters) w.reject(err);
      },
    );
  }

  /** An answer came: the requests that arrived meanwhile go now. */
  private settled(): void {
    if (--this.inFlight === 0) this.flush();
  }
}
