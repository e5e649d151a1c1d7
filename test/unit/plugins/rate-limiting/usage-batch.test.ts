// The redis policy's batch arithmetic: distinct keys counted once, each request's count before it as if every
// request had made its own INCR in turn.
import assert from 'node:assert/strict';
import {
  MAX_BATCH,
  MAX_WAIT_MS,
  UsageBatcher,
  countsOf,
  planBatch,
  type CountKeys,
} from '../../../../src/core/plugins/rate-limiting/usage-batch.js';
import { waitUntil } from '../../../helpers/wait.js';

/**
 * The batcher's calls, answered when the test says: a store that counts like the script (the script itself runs
 * against a real Redis in test/integration/plugins/rate-limiting-redis.test.ts).
 */
function heldCalls() {
  const store = new Map<string, number>();
  const calls: {
    keys: readonly string[];
    increments: readonly number[];
    answer(): void;
    fail(err: Error): void;
  }[] = [];
  const count: CountKeys = (keys, increments) =>
    new Promise((resolve, reject) => {
      calls.push({
        keys,
        increments,
        answer: () =>
          resolve(
            keys.map((key, i) => {
              const before = store.get(key) ?? 0;
              store.set(key, before + increments[i]!);
              return before;
            }),
          ),
        fail: reject,
      });
    });
  return { calls, count };
}

describe('rate-limiting usage batches', () => {
  const requests = [
    { keys: ['a:second', 'a:hour'], ttls: [1, 3600] },
    { keys: ['b:second', 'b:hour'], ttls: [1, 3600] },
    { keys: ['a:second', 'a:hour'], ttls: [1, 3600] },
    { keys: ['a:second', 'a:hour'], ttls: [1, 3600] },
  ];

  it('sends each distinct key once with the number of requests it counts and its expiry', () => {
    const plan = planBatch(requests);
    assert.deepEqual(plan.keys, ['a:second', 'a:hour', 'b:second', 'b:hour']);
    assert.deepEqual(plan.increments, [3, 3, 1, 1]);
    assert.deepEqual(plan.ttls, [1, 3600, 1, 3600]);
  });

  it('gives every request the count before it, in the order the requests came', () => {
    const plan = planBatch(requests);
    // Redis answers each key's count before the batch.
    const counts = countsOf(plan, requests, [5, 40, 0, 7]);
    assert.deepEqual(counts, [
      [5, 40],
      [0, 7],
      [6, 41],
      [7, 42],
    ]);
  });

  it('gives the same counts as one INCR per request would, whatever Redis held before', () => {
    const store = new Map<string, number>([['a:hour', 12]]);
    // One INCR per request, in order: the count before each.
    const sequential = requests.map((r) =>
      r.keys.map((key) => {
        const before = store.get(key) ?? 0;
        store.set(key, before + 1);
        return before;
      }),
    );
    const plan = planBatch(requests);
    const counts = countsOf(plan, requests, [0, 12, 0, 0]);
    assert.deepEqual(counts, sequential);
  });

  it('an empty batch sends nothing', () => {
    const plan = planBatch([]);
    assert.deepEqual(plan.keys, []);
    assert.deepEqual(countsOf(plan, [], []), []);
  });

  describe('batcher', () => {
    it('sends the requests of one event-loop turn as one call', async () => {
      const { calls, count } = heldCalls();
      const batcher = new UsageBatcher(count);
      const used = [1, 2, 3].map(() => batcher.usage(['k'], [60]));
      await waitUntil(() => calls.length === 1, { intervalMs: 1 });
      assert.deepEqual(calls[0]!.increments, [3]);
      calls[0]!.answer();
      assert.deepEqual(await Promise.all(used), [[0], [1], [2]]);
    });

    it('holds requests while a call is unanswered, then sends them together when the answer comes', async () => {
      const { calls, count } = heldCalls();
      // Waiting without a deadline here, so a slow machine cannot send them early.
      const batcher = new UsageBatcher(count, 60_000);
      const first = batcher.usage(['k'], [60]);
      await waitUntil(() => calls.length === 1, { intervalMs: 1 });
      const later = [batcher.usage(['k'], [60]), batcher.usage(['j'], [60])];
      // A turn later they are still waiting for the first call's answer.
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(calls.length, 1);
      calls[0]!.answer();
      assert.deepEqual(await first, [0]);
      await waitUntil(() => calls.length === 2, { intervalMs: 1 });
      assert.deepEqual(calls[1]!.keys, ['k', 'j']);
      calls[1]!.answer();
      assert.deepEqual(await Promise.all(later), [[1], [0]]);
    });

    it(`sends waiting requests anyway when a call stays unanswered (${MAX_WAIT_MS} ms by default)`, async () => {
      const { calls, count } = heldCalls();
      const batcher = new UsageBatcher(count, 50);
      void batcher.usage(['k'], [60]);
      await waitUntil(() => calls.length === 1, { intervalMs: 1 });
      const started = Date.now();
      const later = batcher.usage(['k'], [60]);
      await waitUntil(() => calls.length === 2, { intervalMs: 1, timeoutMs: 2000 });
      assert.ok(Date.now() - started >= 49);
      calls[1]!.answer();
      assert.deepEqual(await later, [0]);
    });

    it('a failed call fails every request of its batch, and the next requests go on', async () => {
      const { calls, count } = heldCalls();
      const batcher = new UsageBatcher(count);
      const used = [batcher.usage(['k'], [60]), batcher.usage(['k'], [60])];
      await waitUntil(() => calls.length === 1, { intervalMs: 1 });
      calls[0]!.fail(new Error('Redis went away'));
      for (const u of used) await assert.rejects(u, /Redis went away/);
      const next = batcher.usage(['k'], [60]);
      await waitUntil(() => calls.length === 2, { intervalMs: 1 });
      calls[1]!.answer();
      assert.deepEqual(await next, [0]);
    });

    it(`splits more than ${MAX_BATCH} requests into several calls`, async () => {
      const { calls, count } = heldCalls();
      const batcher = new UsageBatcher(count);
      const used = Array.from({ length: MAX_BATCH + 3 }, () => batcher.usage(['k'], [60]));
      await waitUntil(() => calls.length === 2, { intervalMs: 1 });
      assert.deepEqual(
        calls.map((c) => c.increments[0]),
        [MAX_BATCH, 3],
      );
      for (const call of calls) call.answer();
      const counts = await Promise.all(used);
      assert.deepEqual(
        counts.map((c) => c[0]),
        Array.from({ length: MAX_BATCH + 3 }, (_, i) => i),
      );
    });
  });
});
