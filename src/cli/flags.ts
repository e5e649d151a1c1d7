// Flags several commands share, declared once.
import { Flags } from '@oclif/core';

export const prefixFlag = Flags.string({
  char: 'p',
  description:
    'Prefix directory of the node (pid file, logs, node.id). Default: the config prefix, KONG_PREFIX, or /usr/local/hybrid.',
});
