// The store a command uses: kong.conf (+ KONG_*, + -p prefix) mapped to store options.
import { loadValidConfig } from '../config/index.js';
import { storeOptionsFromConfig, type StoreOptions } from './index.js';

export interface StoreConfigFlags {
  /** kong.conf path (`-c`); default: the usual search paths, else KONG_* and defaults. */
  conf?: string;
  /** `-p/--prefix`, beats the file and the environment. */
  prefix?: string;
}

/** Loads and validates the node configuration (every problem at once, exit 1) and maps it to the store. */
export function storeOptionsFromFlags(flags: StoreConfigFlags): StoreOptions {
  const loaded = loadValidConfig({
    path: flags.conf,
    overrides: flags.prefix === undefined ? undefined : { prefix: flags.prefix },
  });
  return storeOptionsFromConfig(loaded.config);
}
