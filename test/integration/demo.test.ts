// The README's first command runs this demo: it must work end to end and clean up after itself.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { execa } from 'execa';

describe('README demo (scripts/demo.js)', function () {
  this.timeout(120_000);

  it('runs a control plane and a data plane, shows them working, and stops both', async () => {
    const result = await execa('node', ['scripts/demo.js'], { reject: false, env: { FORCE_COLOR: '0' } });
    assert.equal(result.exitCode, 0, `${result.stdout}\n${result.stderr}`);
    const dir = /Hybrid demo in (\S+)/.exec(result.stdout)![1]!;
    assert.match(result.stdout, /Hybrid started \(control_plane/);
    assert.match(result.stdout, /Hybrid started \(data_plane/);
    assert.match(result.stdout, /HTTP 201/);
    assert.match(result.stdout, /\{"message":"ready"\}/, 'the data plane received the configuration');
    assert.match(result.stdout, /"configuration_hash":"[0-9a-f]{32}"/);
    assert.match(result.stdout, /no Route matched with those values/);
    assert.match(result.stdout, /Demo finished/);
    assert.equal(existsSync(dir), false, 'temporary directory removed');
  });
});
