// Planning an import without a database: references, derived ids, identity by natural key.
import assert from 'node:assert/strict';
import { planImport, type ImportPlan } from '../../../src/core/declarative/index.js';
import { uuidV5 } from '../../../src/core/declarative/plan.js';
import { ENTITY_ORDER, type Snapshot } from '../../../src/core/store/index.js';

const empty = (): Snapshot => Object.fromEntries(ENTITY_ORDER.map((e) => [e, []])) as unknown as Snapshot;
const SVC_ID = '3f1e7f0e-7c1a-4c55-9a5e-0d1b2c3d4e5f';

describe('planImport', () => {
  it('resolves top-level references given as a name, an id, { id } or { name }', () => {
    const plan = planImport(
      {
        _format_version: '3.0',
        services: [{ id: SVC_ID, name: 'svc', host: 'h.internal' }],
        routes: [
          { name: 'by-name', paths: ['/a'], service: 'svc' },
          { name: 'by-id', paths: ['/b'], service: SVC_ID },
          { name: 'by-object-id', paths: ['/c'], service: { id: SVC_ID } },
          { name: 'by-object-name', paths: ['/d'], service: { name: 'svc' } },
        ],
      },
      empty(),
    );
    assert.deepEqual(plan.problems, []);
    for (const route of plan.rows.routes) assert.deepEqual(route.service, { id: SVC_ID });
  });

  it('reports a reference to nothing at its path', () => {
    const plan = planImport(
      {
        _format_version: '3.0',
        routes: [{ paths: ['/'], service: 'ghost' }],
        plugins: [{ name: 'cors', route: 'nope' }],
      },
      empty(),
    );
    assert.deepEqual(plan.problems, [
      { path: 'routes[0].service', message: "could not find services 'ghost'" },
      { path: 'plugins[0].route', message: "could not find routes 'nope'" },
    ]);
  });

  it('derives stable ids from content, and finds stored entities by natural key', () => {
    const doc = { _format_version: '3.0', services: [{ host: 'a.internal', routes: [{ paths: ['/'] }] }] };
    const first: ImportPlan = planImport(doc, empty());
    const second = planImport(doc, empty());
    assert.equal(first.rows.services[0]!.id, second.rows.services[0]!.id);
    assert.equal(first.rows.routes[0]!.id, second.rows.routes[0]!.id);
    assert.equal(uuidV5('x'), uuidV5('x'));
    assert.match(uuidV5('x'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const stored = empty();
    stored.consumers = planImport(
      { _format_version: '3.0', consumers: [{ username: 'u' }] },
      empty(),
    ).rows.consumers;
    const again = planImport(
      { _format_version: '3.0', consumers: [{ username: 'u', custom_id: 'new' }] },
      stored,
    );
    assert.equal(again.rows.consumers[0]!.id, stored.consumers[0]!.id);
    assert.deepEqual([again.counts.created, again.counts.updated], [0, 1]);
  });

  it('refuses duplicates inside the file', () => {
    const plan = planImport(
      {
        _format_version: '3.0',
        services: [
          { name: 's', host: 'a.internal' },
          { name: 's', host: 'b.internal' },
        ],
        plugins: [{ name: 'cors' }, { name: 'cors' }],
      },
      empty(),
    );
    assert.deepEqual(
      plan.problems.map((p) => p.path),
      ['services[1].name', 'plugins[1]'],
    );
  });

  it('accepts SNIs nested in a certificate as plain names', () => {
    const plan = planImport(
      { _format_version: '3.0', certificates: [{ cert: 'x', key: 'y', snis: ['a.example'] }] },
      empty(),
    );
    // The certificate itself is invalid PEM, but its SNI is still checked against its id.
    assert.deepEqual(
      plan.problems.map((p) => p.path),
      ['certificates[0].cert', 'certificates[0].key'],
    );
  });
});
