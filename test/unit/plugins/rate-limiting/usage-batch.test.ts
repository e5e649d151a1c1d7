// The redis policy's batch arithmetic: distinct keys counted once, each request's count before it as if every
// request had made its own INCR in turn.
import assert from 'node:assert/strict';
import { countsOf, planBatch } from '../../../../src/core/plugins/rate-limiting/usage-batch.js';

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
});
