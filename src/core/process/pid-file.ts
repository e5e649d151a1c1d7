// The pid file: one running node per prefix, and how other commands find it.
import { constants, readFileSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { FileError } from '../errors.js';

/** The pid in the file, or null when there is no file or it holds no number. */
export async function readPid(path: string): Promise<number | null> {
  const text = await readFile(path, 'utf8').catch(() => null);
  const pid = text === null ? NaN : Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Whether a process with this pid exists and has not exited (signal 0 probes without signalling). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // An exited process waiting to be reaped (a zombie) still answers signal 0: it is not running.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): signal 0 is all we have
  }
}

/** The pid of the node running in this prefix, or null (a stale file left by a crash counts as none). */
export async function runningPid(path: string): Promise<number | null> {
  const pid = await readPid(path);
  return pid !== null && isAlive(pid) ? pid : null;
}

/**
 * Claims the pid file for `pid`, atomically (O_EXCL). A stale file whose process is gone is replaced;
 * a live one makes this fail, so two nodes never share a prefix.
 */
export async function claimPidFile(path: string, pid: number): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      await handle.writeFile(`${pid}\n`);
      await handle.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = await readPid(path);
      if (owner !== null && owner !== pid && isAlive(owner)) throw alreadyRunning(path, owner);
      await unlink(path).catch(() => undefined);
    }
  }
  throw alreadyRunning(path, (await readPid(path)) ?? 0);
}

/** Removes the pid file if it still names `pid` (a successor's file is left alone). */
export async function releasePidFile(path: string, pid: number): Promise<void> {
  if ((await readPid(path)) === pid) await unlink(path).catch(() => undefined);
}

export function alreadyRunning(path: string, pid: number): FileError {
  return new FileError('node_running', path, `a node is already running in this prefix (pid ${pid})`, {
    hint: 'Stop it first (hybrid stop -p PREFIX), or give another prefix with -p.',
  });
}
