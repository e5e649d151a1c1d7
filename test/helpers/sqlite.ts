// A throwaway SQLite store in a temporary directory.
import { join } from 'node:path';
import { openStore, type Store } from '../../src/core/store/index.js';
import { makeTempDir } from './tmp.js';

/** A migrated store in a fresh directory; `cleanup()` closes it and removes the directory. */
export async function tempSqliteStore(): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  const tmp = await makeTempDir('hybrid-sqlite-');
  const store = await openStore({ engine: 'sqlite', path: join(tmp.dir, 'hybrid.sqlite') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await tmp.cleanup();
    },
  };
}
