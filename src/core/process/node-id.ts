// The node's stable identity: a UUID kept in <prefix>/node.id across restarts.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { HybridError } from '../errors.js';
import { writeFiles } from '../files/write-files.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads the node id, creating it on first start. A file holding anything but a UUID is an error, never replaced. */
export async function readOrCreateNodeId(path: string): Promise<string> {
  const existing = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (existing !== null) {
    const id = existing.trim();
    if (!UUID.test(id)) {
      throw new HybridError('node_id_invalid', `${path} does not hold a UUID`, {
        hint: 'Restore the file, or delete it to give this node a new identity.',
      });
    }
    return id.toLowerCase();
  }
  const id = randomUUID();
  try {
    await writeFiles([{ path, content: `${id}\n`, mode: 0o644 }]);
  } catch (err) {
    // Another process created it first: theirs wins.
    if ((err as HybridError).code === 'file_exists') return readOrCreateNodeId(path);
    throw err;
  }
  return id;
}
