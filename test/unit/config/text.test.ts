// kong.conf syntax: key = value lines, comments, escaped hashes, whitespace, line numbers.
import assert from 'node:assert/strict';
import { parseConfigText, stripComment } from '../../../src/core/config/text.js';

describe('config text: parseConfigText', () => {
  it('reads key = value lines with their line numbers, skipping blanks and comment lines', () => {
    const text = '# a comment\n\nrole = data_plane\n   # indented comment\n  database   =   off  \n';
    const { entries, problems } = parseConfigText(text, '/x/kong.conf');
    assert.deepEqual(problems, []);
    assert.deepEqual(entries, [
      { key: 'role', value: 'data_plane', line: 3 },
      { key: 'database', value: 'off', line: 5 },
    ]);
  });

  it('strips trailing comments but keeps an escaped \\# as a literal hash', () => {
    const { entries } = parseConfigText('pg_password = abc\\#123 # the password\nlog_level = info# tight\n');
    assert.equal(entries[0]!.value, 'abc#123');
    assert.equal(entries[1]!.value, 'info');
  });

  it('keeps = signs inside the value and lower-cases keys', () => {
    const { entries } = parseConfigText('PROXY_SERVER = http://u:p=w@proxy:3128\n');
    assert.deepEqual(entries[0], { key: 'proxy_server', value: 'http://u:p=w@proxy:3128', line: 1 });
  });

  it('accepts an empty value (unsets the key) and CRLF line ends', () => {
    const { entries } = parseConfigText('cluster_cert =\r\nrole = control_plane\r\n');
    assert.deepEqual(entries, [
      { key: 'cluster_cert', value: '', line: 1 },
      { key: 'role', value: 'control_plane', line: 2 },
    ]);
  });

  it('reports every line that is not key = value, with its line number', () => {
    const { entries, problems } = parseConfigText(
      'role data_plane\nok = 1\n= value\nbad-key = 2\n',
      '/x/kong.conf',
    );
    assert.deepEqual(
      entries.map((e) => e.key),
      ['ok'],
    );
    assert.deepEqual(
      problems.map((p) => [p.line, p.code, p.severity, p.file]),
      [
        [1, 'config_syntax', 'error', '/x/kong.conf'],
        [3, 'config_syntax', 'error', '/x/kong.conf'],
        [4, 'config_syntax', 'error', '/x/kong.conf'],
      ],
    );
    assert.match(problems[0]!.message, /line 1 is not of the form key = value: 'role data_plane'/);
    assert.ok(problems[0]!.hint);
  });

  it('stripComment handles values without comments', () => {
    assert.equal(stripComment('plain'), 'plain');
    assert.equal(stripComment('a \\# b'), 'a # b');
    assert.equal(stripComment('# all comment'), '');
  });
});
