// Temporary directories and free ports for tests; everything made here is removed by the caller's cleanup.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function makeTempDir(
  prefix = 'hybrid-test-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A port that was free a moment ago on 127.0.0.1. */
export { freePort } from '../../src/core/http/free-port.js';
