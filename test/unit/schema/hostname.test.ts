// Host names as Kong checks them: letters, digits, '-', '_' per label; no leading or trailing '-'.
import assert from 'node:assert/strict';
import { host } from '../../../src/core/schema/typedefs.js';

const check = (v: string) => (host.custom as (v: string) => string | null)(v);

describe('host name typedef', () => {
  it("accepts the names of Kong's guides, underscores included", () => {
    for (const v of ['example_upstream', 'httpbin.org', 'a-b.c_d.example', '10.0.0.1', '[::1]'])
      assert.equal(check(v), null, v);
  });

  it('refuses empty labels, edge dashes and other characters', () => {
    for (const v of ['x..y', '-a.example', 'a-.example', 'a b', 'a/b', ''])
      assert.equal(check(v), `invalid hostname: ${v}`, v);
  });
});
