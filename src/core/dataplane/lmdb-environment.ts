// The lmdb environment of the config cache: one place that knows how it is opened and protected on disk.
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';

/** The single key holding the cached record. */
export const RECORD_KEY = 'config';

/** Opens (creating) the environment: a 0700 directory holding 0600 data.mdb and lock.mdb. */
export function openEnvironment(path: string, mapSize: number): RootDatabase<Buffer, string> {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  chmodSync(path, 0o700);
  const db = open<Buffer, string>({
    path,
    // Kong's dbless.lmdb is a directory; without this lmdb takes a dotted name for a file.
    noSubdir: false,
    mapSize,
    encoding: 'binary',
    compression: false,
  });
  for (const file of ['data.mdb', 'lock.mdb']) {
    const full = join(path, file);
    if (existsSync(full)) chmodSync(full, 0o600);
  }
  return db;
}
