// This package's version: what nodes report as node_version and on the Admin API.
import { readFileSync } from 'node:fs';

// src/core and dist/core both sit two levels below the package root.
export const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
