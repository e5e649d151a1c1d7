// Server-name matching rules for control plane certificates (pure; certificates come from the matrix tests).
import assert from 'node:assert/strict';
import { dnsPatternMatches } from '../../../src/core/pki/index.js';

describe('dnsPatternMatches', () => {
  const cases: [string, string, boolean][] = [
    ['kong_clustering', 'kong_clustering', true],
    ['cp.example.com', 'CP.EXAMPLE.COM', true],
    ['cp.example.com.', 'cp.example.com', true],
    ['cp.example.com', 'cp.example.com.', true],
    ['cp.example.com', 'example.com', false],
    ['*.example.com', 'cp.example.com', true],
    ['*.example.com', 'a.b.example.com', false],
    ['*.example.com', 'example.com', false],
    ['*.example.com', '.example.com', false],
    ['*.com', 'example.com', false],
    ['cp*.example.com', 'cp1.example.com', false],
    ['*.*.example.com', 'a.b.example.com', false],
    ['', 'cp.example.com', false],
    ['cp.example.com', '', false],
  ];
  for (const [pattern, name, expected] of cases) {
    it(`${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(name)}`, () => {
      assert.equal(dnsPatternMatches(pattern, name), expected);
    });
  }
});
