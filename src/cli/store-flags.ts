// Flags shared by the commands that open the control plane store.
import { Flags } from '@oclif/core';

export const storeFlags = {
  conf: Flags.string({
    char: 'c',
    description: 'Configuration file (kong.conf) naming the database (database, pg_*, prefix).',
  }),
  prefix: Flags.string({ char: 'p', description: 'Prefix directory (where the SQLite database lives).' }),
};
