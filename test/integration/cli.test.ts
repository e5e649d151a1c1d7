// The CLI shell itself: version, help, unknown commands.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runCli } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('hybrid CLI', () => {
  it('prints its version', async () => {
    const result = await runCli(['--version']);
    assert.equal(result.exitCode, 0);
    assert.match(result.stdout, new RegExp(`^hybrid-gateway/${pkg.version.replace(/\./g, '\\.')} `));
  });

  it('fails on an unknown command with a non-zero exit', async () => {
    const result = await runCli(['no-such-command']);
    assert.notEqual(result.exitCode, 0);
    assert.match(result.stderr, /not found/i);
  });
});
