// Run as its own process before a node opens its config cache: reads the record (and rewrites it, which walks
// lmdb's free list) and prints it on stdout. A damaged lmdb file can crash its reader; here that only ends the probe.
import { openEnvironment, RECORD_KEY } from './lmdb-environment.js';

const [path, mapSize] = process.argv.slice(2);
try {
  const db = openEnvironment(path!, Number(mapSize));
  const record = db.getBinary(RECORD_KEY);
  if (!record) {
    // Damage inside the tree can hide the record while the meta pages still count it.
    const { entryCount } = db.getStats() as { entryCount: number };
    if (entryCount > 0)
      throw new Error(`the index counts ${entryCount} record(s) but the configuration is unreadable`);
  }
  if (record) db.putSync(RECORD_KEY, Buffer.from(record));
  await db.close();
  if (record) process.stdout.write(record);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exitCode = 1;
}
