// Kong's precedence among one plugin's configurations at several scopes, and the priority order.
import assert from 'node:assert/strict';
import {
  byPriority,
  scopeKey,
  scopeName,
  selectByScope,
} from '../../../src/core/plugins/runner/precedence.js';

describe('plugin precedence', () => {
  // Every scope configured: each request must get the most specific one that matches it.
  const all = new Map<string, string>([
    [scopeKey('r', 's', 'c'), 'rsc'],
    [scopeKey('r', null, 'c'), 'rc'],
    [scopeKey(null, 's', 'c'), 'sc'],
    [scopeKey('r', 's', null), 'rs'],
    [scopeKey(null, null, 'c'), 'c'],
    [scopeKey('r', null, null), 'r'],
    [scopeKey(null, 's', null), 's'],
    [scopeKey(null, null, null), 'global'],
  ]);
  const cases: [string, string | null, string | null, string | null, string][] = [
    ['route+service+consumer', 'r', 's', 'c', 'rsc'],
    ['route+consumer (no service)', 'r', null, 'c', 'rc'],
    ['service+consumer (no route)', null, 's', 'c', 'sc'],
    ['route+service', 'r', 's', null, 'rs'],
    ['consumer only', null, null, 'c', 'c'],
    ['route only', 'r', null, null, 'r'],
    ['service only', null, 's', null, 's'],
    ['nothing', null, null, null, 'global'],
    ['other route, same service and consumer', 'r2', 's', 'c', 'sc'],
    ['other consumer', 'r', 's', 'c2', 'rs'],
    ['other route and service, same consumer', 'r2', 's2', 'c', 'c'],
    ['other everything', 'r2', 's2', 'c2', 'global'],
  ];
  for (const [label, route, service, consumer, expected] of cases) {
    it(`${label} → ${expected}`, () => {
      assert.equal(selectByScope(all, { route, service, consumer }), expected);
    });
  }

  // Removing scopes one by one from the most specific: the next one in Kong's order takes over.
  it('falls back in Kong order: rsc > rc > sc > rs > c > r > s > global', () => {
    const table = new Map(all);
    const order = ['rsc', 'rc', 'sc', 'rs', 'c', 'r', 's', 'global'];
    for (const name of order) {
      assert.equal(selectByScope(table, { route: 'r', service: 's', consumer: 'c' }), name);
      for (const [key, value] of table) if (value === name) table.delete(key);
    }
    assert.equal(selectByScope(table, { route: 'r', service: 's', consumer: 'c' }), null);
  });

  it("a plugin that can't be scoped to consumers looks them up as absent", () => {
    assert.equal(selectByScope(all, { route: 'r', service: 's', consumer: 'c' }, { noConsumer: true }), 'rs');
    assert.equal(selectByScope(all, { route: 'r', service: 's', consumer: null }, { noRoute: true }), 's');
    assert.equal(selectByScope(all, { route: 'r', service: 's', consumer: null }, { noService: true }), 'r');
  });

  it('names scopes', () => {
    assert.equal(scopeName({ route: 'r', service: null, consumer: 'c' }), 'rc');
    assert.equal(scopeName({ route: null, service: null, consumer: null }), 'global');
  });

  it('orders by priority, higher first, then by name', () => {
    const plugins = [
      { name: 'rate-limiting', priority: 910 },
      { name: 'correlation-id', priority: 100001 },
      { name: 'b-equal', priority: 5 },
      { name: 'key-auth', priority: 1250 },
      { name: 'a-equal', priority: 5 },
    ];
    assert.deepEqual(
      [...plugins].sort(byPriority).map((p) => p.name),
      ['correlation-id', 'key-auth', 'rate-limiting', 'a-equal', 'b-equal'],
    );
  });
});
