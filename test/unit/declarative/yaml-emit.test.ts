// The export's YAML writer: what it writes, a YAML reader reads back unchanged.
import assert from 'node:assert/strict';
import yaml from 'js-yaml';
import { toYaml } from '../../../src/core/declarative/yaml-emit.js';

describe('toYaml', () => {
  it('round-trips awkward values through a YAML reader', () => {
    const value = {
      _format_version: '3.0',
      strings: [
        'true',
        'yes',
        'No',
        'off',
        '',
        '123',
        '0x1F',
        '1e3',
        '.inf',
        'a: b',
        '- x',
        '#c',
        ' lead',
        'ünï',
        'a\nb',
        '~',
        'null',
      ],
      numbers: [0, -1, 1.5, 1e21, 60000],
      flags: [true, false],
      nothing: null,
      empty: { list: [], map: {} },
      'key with space': { 'X-Cache-Status': true, 'a:b': 1 },
      nested: [[1, [2]], [{ a: [] }], { deep: { deeper: ['/s1', 'http://h:80/p'] } }],
      pem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    };
    assert.deepEqual(yaml.load(toYaml(value)), value);
  });

  it('writes plain scalars where safe, block style, keys in order', () => {
    assert.equal(
      toYaml({ b: 1, a: [{ name: 'svc', paths: ['/x'] }], c: 'http://h' }),
      'b: 1\na:\n  - name: svc\n    paths:\n      - /x\nc: "http://h"\n',
    );
  });
});
