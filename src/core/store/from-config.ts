// The store a command uses: kong.conf (+ KONG_*, + -p prefix) mapped to store options.
import { loadValidConfig, type HybridConfig } from '../config/index.js';
import { storeOptionsFromConfig, type StoreOptions } from './index.js';

export interface StoreConfigFlags {
  /** kong.conf path (`-c`); default: the usual search paths, else KONG_* and defaults. */
  conf?: string;
  /** `-p/--prefix`, beats the file and the environment. */
  prefix?: string;
}

/** Loads and validates the node configuration (every problem at once, exit 1). */
export function loadStoreConfig(flags: StoreConfigFlags): HybridConfig {
  return loadValidConfig({
    path: flags.conf,
    overrides: flags.prefix === undefined ? undefined : { prefix: flags.prefix },
  }).config;
}

/** Loads and validates the node configuration and maps it to the store. */
export function storeOptionsFromFlags(flags: StoreConfigFlags): StoreOptions {
  return storeOptionsFromConfig(loadStoreConfig(flags));
}
