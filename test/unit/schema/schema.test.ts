// The schema engine: types, defaults, enums, ranges, arrays, maps, nested records, custom and entity checks.
import assert from 'node:assert/strict';
import { flattenErrors, schemaToJson, validate, type Schema } from '../../../src/core/schema/schema.js';
import { pluginSchemaJson, BUNDLED_PLUGINS } from '../../../src/core/plugins/registry.js';

const schema: Schema = {
  name: 'thing',
  fields: {
    name: { type: 'string', required: true, len_min: 1 },
    mode: { type: 'string', default: 'a', one_of: ['a', 'b'] },
    count: { type: 'integer', between: [1, 10], default: 5 },
    ratio: { type: 'number', gt: 0 },
    flag: { type: 'boolean', default: false },
    list: { type: 'array', elements: { type: 'integer' } },
    set: { type: 'set', elements: { type: 'string' } },
    map: { type: 'map', keys: { type: 'string', match: /^[a-z]+$/ }, values: { type: 'integer' } },
    nested: {
      type: 'record',
      fields: {
        deep: { type: 'record', fields: { value: { type: 'integer', default: 7 } } },
        even: { type: 'integer', custom: (v: number) => (v % 2 === 0 ? null : 'must be even') },
      },
    },
  },
  checks: [(v) => (v.mode === 'b' && v.ratio === null ? { ratio: "required when 'mode' is 'b'" } : null)],
};

describe('schema engine', () => {
  it('fills defaults, including nested record defaults', () => {
    const result = validate(schema, { name: 'x' });
    assert.ok(result.ok);
    assert.deepEqual(result.value, {
      name: 'x',
      mode: 'a',
      count: 5,
      ratio: null,
      flag: false,
      list: null,
      set: null,
      map: null,
      nested: { deep: { value: 7 }, even: null },
    });
  });

  it('reports every error at once, keyed like Kong', () => {
    const result = validate(schema, {
      mode: 'c',
      count: 11,
      ratio: 0,
      flag: 'yes',
      list: [1, 'two', 3.5],
      map: { ok: 1, BAD: 2, also: 'x' },
      nested: { deep: { value: 'x' }, even: 3 },
      extra: true,
    });
    assert.ok(!result.ok);
    assert.deepEqual(result.errors, {
      extra: 'unknown field',
      name: 'required field missing',
      mode: 'expected one of: a, b',
      count: 'value should be between 1 and 10',
      ratio: 'value must be greater than 0',
      flag: 'expected a boolean',
      list: [null, 'expected an integer', 'expected an integer'],
      map: { BAD: 'invalid value: BAD', also: 'expected an integer' },
      nested: { deep: { value: 'expected an integer' }, even: 'must be even' },
    });
    assert.deepEqual(
      flattenErrors(result.errors).map((e) => e.path),
      [
        'extra',
        'name',
        'mode',
        'count',
        'ratio',
        'flag',
        'list[1]',
        'list[2]',
        'map.BAD',
        'map.also',
        'nested.deep.value',
        'nested.even',
      ],
    );
  });

  it('runs entity checks once the fields are valid; sets drop duplicates', () => {
    const bad = validate(schema, { name: 'x', mode: 'b' });
    assert.ok(!bad.ok);
    assert.deepEqual(bad.errors, { ratio: "required when 'mode' is 'b'" });
    const good = validate(schema, { name: 'x', set: ['a', 'a', 'b'] });
    assert.ok(good.ok);
    assert.deepEqual(good.value.set, ['a', 'b']);
  });

  it('rejects non-records and wrong types without throwing', () => {
    for (const input of [null, 1, 'x', [], true]) assert.equal(validate(schema, input).ok, false);
    assert.equal(validate(schema, { name: 1 }).ok, false);
    assert.equal(validate(schema, { name: 'x', count: Number.NaN }).ok, false);
    assert.equal(validate(schema, { name: 'x', count: 2.5 }).ok, false);
  });

  it('describes schemas as JSON (for /schemas/plugins/{name})', () => {
    const json = schemaToJson(schema);
    assert.deepEqual(json.fields[0], { name: { type: 'string', required: true, len_min: 1 } });
    for (const name of BUNDLED_PLUGINS) {
      const plugin = pluginSchemaJson(name);
      assert.ok(plugin, name);
      const config = plugin.fields.find((f) => 'config' in (f as object)) as {
        config: { fields: unknown[] };
      };
      assert.ok(config.config.fields.length > 0, name);
      assert.doesNotThrow(() => JSON.stringify(plugin));
    }
    assert.equal(pluginSchemaJson('nope'), undefined);
    assert.equal(BUNDLED_PLUGINS.length, 10);
  });
});
