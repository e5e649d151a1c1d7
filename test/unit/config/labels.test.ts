// cluster_dp_labels: at most 10 key:value pairs under Kong's character rules.
import assert from 'node:assert/strict';
import { parseDpLabels } from '../../../src/core/config/labels.js';

describe('config cluster_dp_labels', () => {
  it('parses key:value pairs; the value may contain more colons', () => {
    const r = parseDpLabels('deployment:mycloud, region:us-east-1, zone:eu:a1, Tier_1:Edge.2');
    assert.ok(r.ok);
    assert.deepEqual(r.value, {
      deployment: 'mycloud',
      region: 'us-east-1',
      zone: 'eu:a1',
      Tier_1: 'Edge.2',
    });
  });

  it('accepts 10 labels and rejects 11', () => {
    const ten = Array.from({ length: 10 }, (_, i) => `k${i}:v${i}`).join(',');
    assert.ok(parseDpLabels(ten).ok);
    const r = parseDpLabels(`${ten},k10:v10`);
    assert.ok(!r.ok);
    assert.equal(r.message, 'labels validation failed: count exceeded 10 max elements (got 11)');
  });

  it('rejects missing values, bad characters, reserved prefixes, long parts and duplicates', () => {
    const cases: [string, RegExp][] = [
      ['region', /label value validation failed: '' must have between 1 and 63 characters/],
      [':v', /label key validation failed: '' must have between 1 and 63 characters/],
      ['re gion:x', /label key validation failed: 're gion' is invalid/],
      ['-region:x', /label key validation failed: '-region' is invalid/],
      ['region:x-', /label value validation failed: 'x-' is invalid/],
      ['kong_tier:1', /reserved prefix 'kong'/],
      ['KonnectX:1', /reserved prefix 'konnect'/],
      [`${'a'.repeat(64)}:v`, /must have between 1 and 63 characters/],
      ['a:1,a:2', /label key 'a' is given twice/],
    ];
    for (const [input, expected] of cases) {
      const r = parseDpLabels(input);
      assert.ok(!r.ok, input);
      assert.match(r.message, expected, input);
    }
    const r = parseDpLabels('ok:1,bad key:2,kic:3');
    assert.ok(!r.ok);
    assert.equal(r.message.split('; ').length, 2, 'every bad label is reported');
  });
});
