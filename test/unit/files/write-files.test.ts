// writeFiles: all-or-nothing, exact modes, no silent overwrite.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileError } from '../../../src/core/errors.js';
import { writeFiles } from '../../../src/core/files/write-files.js';
import { makeTempDir } from '../../helpers/tmp.js';

describe('writeFiles', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => ({ dir, cleanup } = await makeTempDir()));
  afterEach(async () => cleanup());

  it('writes every file with its mode and leaves no temporary files', async () => {
    await writeFiles([
      { path: join(dir, 'a'), content: 'A', mode: 0o600 },
      { path: join(dir, 'b'), content: 'B', mode: 0o644 },
    ]);
    assert.equal(statSync(join(dir, 'a')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'b')).mode & 0o777, 0o644);
    assert.deepEqual(readdirSync(dir).sort(), ['a', 'b']);
  });

  it('writes nothing when any target exists, and says which', async () => {
    writeFileSync(join(dir, 'b'), 'old');
    await assert.rejects(
      writeFiles([
        { path: join(dir, 'a'), content: 'A', mode: 0o600 },
        { path: join(dir, 'b'), content: 'B', mode: 0o644 },
      ]),
      (err: FileError) => err.code === 'file_exists' && err.path === join(dir, 'b') && err.exitCode === 3,
    );
    assert.equal(existsSync(join(dir, 'a')), false);
    assert.equal(readFileSync(join(dir, 'b'), 'utf8'), 'old');
  });

  it('writes nothing when a later target cannot be written', async () => {
    await assert.rejects(
      writeFiles([
        { path: join(dir, 'a'), content: 'A', mode: 0o600 },
        { path: join(dir, 'missing-dir', 'b'), content: 'B', mode: 0o644 },
      ]),
      { code: 'directory_missing' },
    );
    assert.deepEqual(readdirSync(dir), []);
  });

  it('replaces existing files with overwrite, taking the new mode', async () => {
    writeFileSync(join(dir, 'k'), 'old', { mode: 0o666 });
    await writeFiles([{ path: join(dir, 'k'), content: 'new', mode: 0o600 }], { overwrite: true });
    assert.equal(readFileSync(join(dir, 'k'), 'utf8'), 'new');
    assert.equal(statSync(join(dir, 'k')).mode & 0o777, 0o600);
  });

  it('refuses a directory as a target', async () => {
    mkdirSync(join(dir, 'd'));
    await assert.rejects(
      writeFiles([{ path: join(dir, 'd'), content: 'x', mode: 0o600 }], { overwrite: true }),
      {
        code: 'path_is_directory',
      },
    );
  });
});
