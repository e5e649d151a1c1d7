// Writes a set of files all-or-nothing, with their final permissions from the first byte and no silent overwrite.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { FileError } from '../errors.js';

export interface FileToWrite {
  path: string;
  content: string | Uint8Array;
  /** Permission bits, applied at creation so the content is never visible with wider ones. */
  mode: number;
}

export interface WriteFilesOptions {
  /** Replace files that exist (each replaced atomically by rename). */
  overwrite?: boolean;
}

/**
 * Writes every file or none. Each file is written to a temporary sibling created with its final mode
 * (O_EXCL), synced, then moved into place: by `link` when overwriting is not allowed (so a file that
 * appears meanwhile is never clobbered), by `rename` otherwise.
 */
export async function writeFiles(files: FileToWrite[], options: WriteFilesOptions = {}): Promise<string[]> {
  const targets = files.map((file) => ({ ...file, path: resolve(file.path) }));
  await checkTargets(targets, options.overwrite ?? false);

  const temps: string[] = [];
  const placed: string[] = [];
  try {
    for (const file of targets) temps.push(await writeTemp(file));
    for (const [index, file] of targets.entries()) {
      const temp = temps[index]!;
      if (options.overwrite) {
        await rename(temp, file.path);
      } else {
        await link(temp, file.path);
        placed.push(file.path);
      }
    }
    return targets.map((file) => file.path);
  } catch (err) {
    // Only files this call created are removed; a pre-existing file is never touched.
    await Promise.all(placed.map((path) => unlink(path).catch(() => undefined)));
    throw asFileError(err, targets[placed.length]?.path ?? targets[0]!.path);
  } finally {
    await Promise.all(temps.map((temp) => unlink(temp).catch(() => undefined)));
  }
}

async function checkTargets(targets: FileToWrite[], overwrite: boolean): Promise<void> {
  const existing: string[] = [];
  for (const file of targets) {
    const dir = dirname(file.path);
    const dirStat = await stat(dir).catch(() => null);
    if (!dirStat?.isDirectory()) {
      throw new FileError('directory_missing', dir, `directory ${dir} does not exist`, {
        hint: `Create it first (mkdir -p ${dir}) or choose another path.`,
      });
    }
    const found = await lstat(file.path).catch(() => null);
    if (found?.isDirectory()) {
      throw new FileError('path_is_directory', file.path, `${file.path} is a directory`, {
        hint: 'Give a file path.',
      });
    }
    if (found) existing.push(file.path);
  }
  if (existing.length > 0 && !overwrite) {
    const [first] = existing;
    const what =
      existing.length === 1 ? `${first} already exists` : `${existing.join(' and ')} already exist`;
    throw new FileError('file_exists', first!, `${what}; refusing to overwrite`, {
      hint: 'Pass --force to replace, or choose other paths. Nothing was written.',
    });
  }
}

async function writeTemp(file: FileToWrite): Promise<string> {
  const temp = join(dirname(file.path), `.${basename(file.path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, file.mode);
  try {
    // The umask can only narrow the mode given to open(); chmod sets exactly what was asked.
    await handle.chmod(file.mode);
    await handle.writeFile(file.content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temp;
}

function asFileError(err: unknown, path: string): FileError {
  if (err instanceof FileError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EEXIST') {
    return new FileError('file_exists', path, `${path} appeared while writing; refusing to overwrite it`, {
      hint: 'Another process is writing there. Pass --force to replace it.',
      cause: err,
    });
  }
  const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message;
  return new FileError('write_failed', path, `cannot write ${path}: ${reason}`, {
    hint: 'Check the directory exists and is writable by this user.',
    cause: err,
  });
}
