// `config init`: a commented sample decK file that imports as is.
import { writeFileSync } from 'node:fs';
import { FileError } from '../errors.js';

export const SAMPLE_CONFIG = `# A declarative configuration for Hybrid (decK / Kong format 3.0).
# Import it into the control plane store with:  hybrid config db_import kong.yml -c kong.conf
# Routes nest in services, targets in upstreams, plugins anywhere; entities are matched by
# their name (or id), so importing the same file again changes nothing.
_format_version: "3.0"

services:
  - name: example-service
    url: http://httpbin.org
    routes:
      - name: example-route
        paths:
          - /example
    plugins:
      - name: rate-limiting
        config:
          minute: 60
          policy: local

consumers:
  - username: example-user
    keyauth_credentials:
      - key: change-me-please

upstreams:
  - name: example.upstream
    targets:
      - target: 127.0.0.1:8080
        weight: 100

plugins:
  - name: correlation-id
    config:
      header_name: Kong-Request-ID
`;

/** Writes the sample; an existing file is kept unless `force`. */
export function writeSampleConfig(path: string, force = false): { path: string } {
  try {
    writeFileSync(path, SAMPLE_CONFIG, { flag: force ? 'w' : 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST')
      throw new FileError('file_exists', path, `${path} already exists`, {
        hint: 'Use --force to overwrite it.',
      });
    throw new FileError('file_unwritable', path, `cannot write ${path}: ${(err as Error).message}`);
  }
  return { path };
}
