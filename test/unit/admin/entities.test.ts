// The entity endpoint table: every store entity reachable, nesting derived from the store's foreign keys.
import assert from 'node:assert/strict';
import { ENTITY_ENDPOINTS, endpointFor } from '../../../src/core/admin/entities.js';
import { storeSchemas } from '../../../src/core/admin/schemas.js';
import { ENTITIES } from '../../../src/core/store/index.js';

describe('admin entity endpoints', () => {
  it('covers every entity of the store once', () => {
    assert.deepEqual(ENTITY_ENDPOINTS.map((e) => e.entity).sort(), Object.keys(ENTITIES).sort());
  });

  it('nests children under their parents as Kong does (routes under services, key-auth under consumers)', () => {
    assert.deepEqual(endpointFor('routes').foreign, [{ field: 'service', parent: 'services' }]);
    assert.deepEqual(
      endpointFor('plugins')
        .foreign.map((f) => f.parent)
        .sort(),
      ['consumers', 'routes', 'services'],
    );
    assert.equal(endpointFor('keyauth_credentials').path, 'key-auths');
    assert.equal(endpointFor('keyauth_credentials').nestedPath, 'key-auth');
    assert.equal(endpointFor('targets').topLevel, false);
  });

  it('reads form field types from the entity and plugin schemas', () => {
    assert.equal(storeSchemas.entityFields('services')?.retries?.type, 'integer');
    assert.equal(storeSchemas.pluginConfigFields('rate-limiting')?.minute?.type, 'number');
    assert.equal(storeSchemas.pluginConfigFields('no-such-plugin'), undefined);
    assert.equal(storeSchemas.entity('no-such-entity'), undefined);
    assert.ok(Array.isArray((storeSchemas.entity('routes') as { fields: unknown[] }).fields));
  });
});
