// Regenerates docs/configuration.md from the key table in src/core/config/keys.ts.
import { writeFileSync } from 'node:fs';
import { renderConfigReference } from '../src/core/config/reference.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigReference());
