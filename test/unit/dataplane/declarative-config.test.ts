// A declarative_config file as a data plane serves it: the control plane's table shape, a stable hash, clear refusals.
import assert from 'node:assert/strict';
import { utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDeclarativeConfig } from '../../../src/core/dataplane/initial-config.js';
import { FileError, InvalidError } from '../../../src/core/errors.js';
import { makeTempDir } from '../../helpers/tmp.js';

const NESTED = [
  '_format_version: "3.0"',
  'services:',
  '  - name: billing',
  '    url: http://billing.internal:8080/v1',
  '    routes:',
  '      - name: billing-route',
  '        paths: [/billing]',
  '',
].join('\n');

describe('loadDeclarativeConfig', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await makeTempDir()));
  after(async () => cleanup());

  it('flattens the file into rows with defaults and { id } references, as the control plane sends them', () => {
    const file = join(dir, 'nested.yml');
    writeFileSync(file, NESTED);
    const { table } = loadDeclarativeConfig(file);
    const services = table.services as Record<string, unknown>[];
    const routes = table.routes as Record<string, unknown>[];
    assert.equal(table._format_version, '3.0');
    assert.equal(services.length, 1);
    assert.equal(routes.length, 1);
    assert.deepEqual(routes[0]!.service, { id: services[0]!.id });
    assert.equal(services[0]!.host, 'billing.internal');
    assert.equal(services[0]!.retries, 5, 'schema defaults are filled in');
    assert.equal('routes' in services[0]!, false, 'nothing stays nested');
  });

  it('stamps rows without timestamps with the file time: one file, one hash, until the file changes', () => {
    const file = join(dir, 'stable.yml');
    writeFileSync(file, NESTED);
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    const first = loadDeclarativeConfig(file);
    assert.equal((first.table.services as { created_at: number }[])[0]!.created_at, 1_700_000_000);
    assert.equal(loadDeclarativeConfig(file).hash, first.hash);
    utimesSync(file, 1_700_000_100, 1_700_000_100);
    assert.notEqual(loadDeclarativeConfig(file).hash, first.hash);
  });

  it('keeps the timestamps a file carries (an export), whatever the file time', () => {
    const file = join(dir, 'exported.yml');
    writeFileSync(
      file,
      [
        '_format_version: "3.0"',
        'services:',
        '  - id: 3f1e7f0e-7c1a-4c55-9a5e-0d1b2c3d4e5f',
        '    name: svc',
        '    host: svc.internal',
        '    created_at: 1600000000',
        '    updated_at: 1600000001',
        '',
      ].join('\n'),
    );
    const before = loadDeclarativeConfig(file).hash;
    utimesSync(file, 1_700_000_500, 1_700_000_500);
    const after = loadDeclarativeConfig(file);
    assert.equal(after.hash, before);
    assert.deepEqual(
      (after.table.services as Record<string, unknown>[]).map((s) => [s.created_at, s.updated_at]),
      [[1_600_000_000, 1_600_000_001]],
    );
  });

  it('refuses an invalid file with every problem and its path (exit code 1)', () => {
    const file = join(dir, 'bad.yml');
    writeFileSync(
      file,
      '_format_version: "3.0"\nservices:\n  - name: a\n    url: nope\nroutes:\n  - service: ghost\n',
    );
    assert.throws(
      () => loadDeclarativeConfig(file),
      (err: unknown) =>
        err instanceof InvalidError &&
        err.code === 'declarative_config_invalid' &&
        err.exitCode === 1 &&
        /^declarative_config: invalid declarative config .*bad\.yml/.test(err.message) &&
        err.message.includes('services[0].url') &&
        err.message.includes("routes[0].service: could not find services 'ghost'") &&
        /hybrid config parse/.test(err.hint ?? ''),
    );
  });

  it('refuses a missing file or broken YAML', () => {
    assert.throws(
      () => loadDeclarativeConfig(join(dir, 'absent.yml')),
      (err: unknown) => err instanceof FileError && err.code === 'file_not_found',
    );
    const broken = join(dir, 'broken.yml');
    writeFileSync(broken, 'services: [\n');
    assert.throws(() => loadDeclarativeConfig(broken), /line \d+, column \d+/);
  });
});
