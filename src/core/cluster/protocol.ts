// Clustering protocol constants, in one place: paths, message types, intervals, the empty hash.

/** The hash of "no configuration": 32 zeros, as Kong's DECLARATIVE_EMPTY_CONFIG_HASH. */
export const EMPTY_CONFIG_HASH = '0'.repeat(32);
