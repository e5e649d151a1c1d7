// Which data planes a control plane configures: version and plugin-set rules.
import assert from 'node:assert/strict';
import { checkPlugins, checkVersion } from '../../../src/core/cluster/compat.js';

describe('cluster compatibility', () => {
  const cases: [string, string, boolean][] = [
    ['3.4.0', '3.4.0', true],
    ['3.4.2', '3.4.0', true],
    ['3.4.0', '3.3.9', true], // an older data plane minor is fine
    ['3.4.0', '3.5.0', false], // a newer data plane minor is not
    ['3.4.0', '2.8.0', false], // majors must match
    ['3.4.0', '4.0.0', false],
    ['3.4.0', 'garbage', false],
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
});
