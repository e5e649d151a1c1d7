// Which data planes a control plane configures: version, plugin-set and plugin-version rules.
import assert from 'node:assert/strict';
import {
  announcedPlugins,
  checkConfiguration,
  checkPlugins,
  checkPluginVersions,
  checkVersion,
  pluginVersionNotes,
} from '../../../src/core/cluster/compat.js';

describe('cluster compatibility', () => {
  const cases: [string, string, boolean][] = [
    ['3.4.0', '3.4.0', true],
    ['3.4.2', '3.4.0', true],
    ['3.4.0', '3.3.9', true], // an older data plane minor is fine
    ['3.4.0', '3.5.0', false], // a newer data plane minor is not
    ['3.4.0', '2.8.0', false], // majors must match
    ['3.4.0', '4.0.0', false],
    ['3.4.0', 'garbage', false],
    ['3.4.0', '3.4', false], // Kong's pattern wants x.y.z
    ['3.4.0', '3.4.0-rc.1', true],
  ];
  for (const [cp, dp, ok] of cases) {
    it(`control plane ${cp} ${ok ? 'accepts' : 'refuses'} data plane ${dp}`, () => {
      const result = checkVersion(cp, dp);
      assert.equal(result.compatible, ok);
      if (!result.compatible) assert.equal(result.reason, 'kong_version_incompatible');
    });
  }

  it('accepts a data plane that has every configured plugin', () => {
    assert.deepEqual(checkPlugins(['key-auth', 'cors'], ['cors', 'key-auth', 'prometheus']), {
      compatible: true,
    });
  });

  it('names every configured plugin a data plane lacks', () => {
    const result = checkPlugins(['key-auth', 'my-plugin', 'other', 'key-auth'], ['key-auth']);
    assert.equal(result.compatible, false);
    assert.ok(!result.compatible && result.reason === 'plugin_set_incompatible');
    assert.match(!result.compatible ? result.message : '', /plugins my-plugin, other configured/);
  });

  describe('plugin versions of configured plugins (plugin_version_incompatible)', () => {
    // [control plane's version, data plane's version, compatible]
    const cases: [string | undefined, string | undefined, boolean][] = [
      ['1.2.3', '1.2.3', true],
      ['1.2.3', '1.2.0', true], // another patch
      ['1.2.3', '1.1.9', true], // an older data plane minor: only logged
      ['1.2.3', '1.3.0', false], // a newer data plane minor
      ['1.2.3', '2.0.0', false], // another major, newer
      ['2.0.0', '1.9.9', false], // another major, older
      ['1.2.3', '1.2.3-beta', true],
      ['1.2.3', '1.2', true], // not x.y.z: unspecified, not compared
      ['1.2.3', 'dev', true],
      ['1.2.3', undefined, true],
      ['1.2', '9.0.0', true],
      [undefined, '9.0.0', true],
    ];
    for (const [cp, dp, ok] of cases) {
      it(`control plane ${cp ?? '(none)'} ${ok ? 'configures' : 'does not configure'} data plane ${dp ?? '(none)'}`, () => {
        const result = checkPluginVersions(
          ['my-plugin'],
          [{ name: 'my-plugin', version: cp }],
          [{ name: 'my-plugin', version: dp }],
        );
        assert.equal(result.compatible, ok);
        if (!result.compatible) {
          assert.equal(result.reason, 'plugin_version_incompatible');
          assert.equal(
            result.message,
            `configured plugin my-plugin ${dp} (control plane has ${cp}) on the data plane of an incompatible version`,
          );
        }
      });
    }

    it('compares only configured plugins', () => {
      const cp = [
        { name: 'a', version: '1.0.0' },
        { name: 'b', version: '1.0.0' },
      ];
      const dp = [
        { name: 'a', version: '1.0.0' },
        { name: 'b', version: '2.0.0' },
      ];
      assert.deepEqual(checkPluginVersions(['a'], cp, dp), { compatible: true });
      assert.equal(checkPluginVersions(['a', 'b'], cp, dp).compatible, false);
    });

    it('names every incompatible plugin once, sorted', () => {
      const result = checkPluginVersions(
        ['z', 'a', 'z', 'ok'],
        [
          { name: 'a', version: '1.0.0' },
          { name: 'z', version: '3.1.0' },
          { name: 'ok', version: '1.0.0' },
        ],
        [
          { name: 'z', version: '3.2.0' },
          { name: 'a', version: '0.9.0' },
          { name: 'ok', version: '1.0.0' },
        ],
      );
      assert.ok(!result.compatible);
      assert.equal(
        result.message,
        'configured plugins a 0.9.0 (control plane has 1.0.0), z 3.2.0 (control plane has 3.1.0) on the data plane of an incompatible version',
      );
    });

    it('leaves a plugin the control plane does not announce uncompared', () => {
      assert.deepEqual(checkPluginVersions(['x'], [], [{ name: 'x', version: '1.0.0' }]), {
        compatible: true,
      });
    });
  });

  describe('checkConfiguration', () => {
    const cp = [
      { name: 'a', version: '1.0.0' },
      { name: 'b', version: '1.0.0' },
    ];
    it('reports a missing plugin before a version difference', () => {
      const result = checkConfiguration(new Set(['a', 'b']), cp, [{ name: 'a', version: '2.0.0' }]);
      assert.ok(!result.compatible);
      assert.equal(result.reason, 'plugin_set_incompatible');
    });
    it('then the version rule', () => {
      const result = checkConfiguration(new Set(['a', 'b']), cp, [
        { name: 'a', version: '2.0.0' },
        { name: 'b', version: '1.0.0' },
      ]);
      assert.ok(!result.compatible);
      assert.equal(result.reason, 'plugin_version_incompatible');
    });
    it('accepts matching plugins', () => {
      assert.deepEqual(checkConfiguration(new Set(['a']), cp, cp), { compatible: true });
    });
  });

  describe('pluginVersionNotes (logged when a data plane connects)', () => {
    const cases: [string | undefined, string | undefined, 'warn' | 'info' | 'notice' | null][] = [
      ['1.2.3', '1.2.3', null],
      ['1.2.3', '1.2.9', null],
      ['1.2.3', '2.2.3', 'warn'],
      ['1.2.3', '1.1.0', 'info'],
      ['1.2.3', '1.3.0', 'info'],
      ['1.2.3', undefined, 'notice'],
      [undefined, '1.2.3', 'notice'],
      ['dev', 'dev', null],
    ];
    for (const [cp, dp, level] of cases) {
      it(`control plane ${cp ?? '(none)'}, data plane ${dp ?? '(none)'}: ${level ?? 'nothing'}`, () => {
        const notes = pluginVersionNotes([{ name: 'p', version: cp }], [{ name: 'p', version: dp }]);
        assert.deepEqual(
          notes.map((n) => n.level),
          level ? [level] : [],
        );
      });
    }

    it('says which plugin and both versions', () => {
      assert.deepEqual(
        pluginVersionNotes([{ name: 'p', version: '1.2.3' }], [{ name: 'p', version: '2.0.0' }]),
        [
          {
            level: 'warn',
            message: 'data plane p plugin version 2.0.0 is different to control plane plugin version 1.2.3',
          },
        ],
      );
    });

    it('says nothing of plugins the data plane lacks', () => {
      assert.deepEqual(pluginVersionNotes([{ name: 'p', version: '1.2.3' }], []), []);
    });
  });

  describe('announcedPlugins (basic_info as sent)', () => {
    it('keeps well-formed entries and drops the rest', () => {
      assert.deepEqual(
        announcedPlugins([
          { name: 'a', version: '1.0.0' },
          { name: 'b' },
          { name: 'c', version: 3 },
          { version: '1.0.0' },
          { name: 7, version: '1.0.0' },
          null,
          'd',
          42,
        ]),
        [{ name: 'a', version: '1.0.0' }, { name: 'b' }, { name: 'c' }],
      );
    });
  });
});
