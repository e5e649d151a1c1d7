// The byte-bounded LRU behind proxy-cache: accounting, recency, TTLs, oversize entries, resizing.
import assert from 'node:assert/strict';
import {
  ENTRY_OVERHEAD_BYTES,
  MemoryStore,
  type CachedResponse,
} from '../../../../src/core/plugins/proxy-cache/memory-store.js';

const response = (size: number): CachedResponse => ({
  status: 200,
  headers: { 'content-type': 'text/plain' },
  body: Buffer.alloc(size),
  timestamp: 0,
  ttl: 60,
});
// Key "k1" (2 bytes) + the content-type header (12 + 10) + overhead.
const cost = (size: number) => size + 2 + 22 + ENTRY_OVERHEAD_BYTES;

describe('proxy-cache memory store', () => {
  it('counts bytes of key, headers and body and gives them back on purge', () => {
    const store = new MemoryStore(10_000);
    assert.ok(store.store('k1', response(100), 60, 0));
    assert.equal(store.bytes, cost(100));
    store.store('k1', response(50), 60, 0);
    assert.equal(store.bytes, cost(50), 'replacing an entry does not count it twice');
    store.purge('k1');
    assert.equal(store.bytes, 0);
    assert.equal(store.count, 0);
  });

  it('evicts the least recently used entry first', () => {
    const store = new MemoryStore(cost(1000) * 3);
    store.store('k1', response(1000), 60, 0);
    store.store('k2', response(1000), 60, 0);
    store.store('k3', response(1000), 60, 0);
    assert.ok(store.fetch('k1', 0));
    store.store('k4', response(1000), 60, 0);
    assert.equal(store.fetch('k2', 0), undefined);
    assert.ok(store.fetch('k1', 0) && store.fetch('k3', 0) && store.fetch('k4', 0));
    assert.ok(store.bytes <= store.capacity);
  });

  it('drops expired entries before fresh ones when it needs room', () => {
    const store = new MemoryStore(cost(1000) * 2);
    store.store('k1', response(1000), 100, 0);
    store.store('k2', response(1000), 1, 0);
    store.store('k3', response(1000), 100, 5_000);
    assert.equal(store.fetch('k2', 5_000), undefined);
    assert.ok(store.fetch('k1', 5_000), 'the older but fresh entry stays');
  });

  it('expires entries by TTL; a TTL of 0 keeps them until evicted', () => {
    const store = new MemoryStore(100_000);
    store.store('k1', response(1), 10, 0);
    store.store('k2', response(1), 0, 0);
    assert.ok(store.fetch('k1', 9_999));
    assert.equal(store.fetch('k1', 10_000), undefined);
    assert.ok(store.fetch('k2', 1e12));
    assert.equal(store.count, 1);
  });

  it('refuses an entry larger than the whole store and shrinks on resize', () => {
    const store = new MemoryStore(cost(1000) * 2);
    assert.equal(store.store('k1', response(cost(1000) * 2), 60, 0), false);
    store.store('k1', response(1000), 60, 0);
    store.store('k2', response(1000), 60, 0);
    store.resize(cost(1000), 0);
    assert.equal(store.count, 1);
    assert.ok(store.fetch('k2', 0));
  });
});
