// Kong's generated entity endpoints: collections, entities by id or name, nested and foreign-key paths.
import { ENTITIES } from '../store/entities/index.js';
import type { EntityName, EntityRow, Store } from '../store/types.js';
import type { AdminRequest, AdminRoute } from './context.js';
import { inferRecord, type RecordShape } from './infer.js';
import { nextPageLink, parseListQuery } from './query.js';
import { created, noContent, notFound, ok, methodNotAllowed, type AdminResponse } from './responses.js';

/** Field shapes used to read form bodies; without them form values reach the store as strings. */
export interface AdminSchemaSource {
  entityFields(entity: EntityName): RecordShape | undefined;
  pluginConfigFields(plugin: string): RecordShape | undefined;
}

interface ForeignKey {
  /** Field of the child holding `{ id }` of the parent, e.g. `service` on routes. */
  field: string;
  parent: EntityName;
}

export interface EntityEndpoint {
  entity: EntityName;
  /** Collection path segment, e.g. `services` or `key-auths`. */
  path: string;
  /** Path segment under a parent when it differs, e.g. `key-auth` in `/consumers/{c}/key-auth`. */
  nestedPath?: string;
  /** The store's foreign keys of this entity: each gives nested and parent-seen-from-child paths. */
  foreign: ForeignKey[];
  /** False for targets: Kong reaches them only through their upstream. */
  topLevel: boolean;
  /** Field naming a child within its parent when the key is not a UUID (`target` of a target). */
  scopedKey?: string;
}

type PathSpec = Omit<EntityEndpoint, 'foreign'>;

/** Admin API paths of each entity, as Kong names them; the nesting follows the store's foreign keys. */
const PATHS: readonly PathSpec[] = [
  { entity: 'services', path: 'services', topLevel: true },
  { entity: 'routes', path: 'routes', topLevel: true },
  { entity: 'consumers', path: 'consumers', topLevel: true },
  { entity: 'plugins', path: 'plugins', topLevel: true },
  { entity: 'upstreams', path: 'upstreams', topLevel: true },
  { entity: 'targets', path: 'targets', topLevel: false, scopedKey: 'target' },
  { entity: 'certificates', path: 'certificates', topLevel: true },
  { entity: 'snis', path: 'snis', topLevel: true },
  { entity: 'ca_certificates', path: 'ca_certificates', topLevel: true },
  { entity: 'keyauth_credentials', path: 'key-auths', nestedPath: 'key-auth', topLevel: true },
];

export const ENTITY_ENDPOINTS: readonly EntityEndpoint[] = PATHS.map((spec) => ({
  ...spec,
  foreign: ENTITIES[spec.entity].foreign.map((fk) => ({ field: fk.field, parent: fk.reference })),
}));

export function endpointFor(entity: EntityName): EntityEndpoint {
  const spec = ENTITY_ENDPOINTS.find((e) => e.entity === entity);
  if (!spec) throw new Error(`no Admin API endpoint for entity ${entity}`);
  return spec;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function foreignId(row: EntityRow, field: string): string | null {
  const value = row[field];
  if (typeof value === 'object' && value !== null && typeof (value as { id?: unknown }).id === 'string')
    return (value as { id: string }).id;
  return null;
}

/** Builds the entity routes over one store; `schemas` lets form bodies be typed as Kong does. */
export function entityRoutes(store: Store, schemas?: AdminSchemaSource): AdminRoute[] {
  /** Form bodies carry strings: type them by the entity schema (and a plugin's config by its own). */
  const typedArgs = (
    entity: EntityName,
    req: AdminRequest,
    existing?: EntityRow | null,
  ): Record<string, unknown> => {
    if (req.bodyKind !== 'form' || !schemas) return { ...req.args };
    let args = req.args;
    if (entity === 'plugins') {
      const name = typeof args.name === 'string' ? args.name : existing?.name;
      const config = args.config;
      const shape = typeof name === 'string' ? schemas.pluginConfigFields(name) : undefined;
      if (shape && typeof config === 'object' && config !== null && !Array.isArray(config))
        args = { ...args, config: inferRecord(config as Record<string, unknown>, shape) };
    }
    const shape = schemas.entityFields(entity);
    return shape ? inferRecord(args, shape) : { ...args };
  };

  /** Plugin PATCH by form needs the stored name to type `config.*` values. */
  const existingForTyping = async (entity: EntityName, key: string, req: AdminRequest) =>
    entity === 'plugins' && req.bodyKind === 'form' && typeof req.args.name !== 'string'
      ? store.get(entity, key)
      : null;

  /** Kong also names a certificate by one of its SNIs: `/certificates/example.com`. */
  const entityKey = async (entity: EntityName, key: string): Promise<string> => {
    if (entity !== 'certificates' || UUID.test(key)) return key;
    const sni = await store.get('snis', key);
    return sni ? (foreignId(sni, 'certificate') ?? key) : key;
  };

  /** A child of `parent` by id or endpoint key (a target by `host:port`), only if it belongs to it. */
  const findChild = (spec: EntityEndpoint, fk: ForeignKey, parent: EntityRow, key: string) =>
    store.get(spec.entity, key, { parent: { field: fk.field, id: parent.id } });

  const routes: AdminRoute[] = [];
  const add = (
    method: AdminRoute['method'],
    path: string,
    entity: string,
    handler: (req: AdminRequest) => Promise<AdminResponse>,
  ) => routes.push({ method, path, handler, entity });

  for (const spec of ENTITY_ENDPOINTS) {
    const { entity } = spec;

    if (spec.topLevel) {
      const collection = `/${spec.path}`;
      const item = `/${spec.path}/:key`;

      add('GET', collection, entity, async (req) => {
        const query = parseListQuery(req.query);
        if (!query.ok) return { status: 400, body: query.error };
        const page = await store.list(entity, query.options);
        return ok({
          data: page.data,
          offset: page.offset,
          next: nextPageLink(req.path, page.offset, req.query),
        });
      });
      add('POST', collection, entity, async (req) =>
        created(await store.insert(entity, typedArgs(entity, req))),
      );

      add('GET', item, entity, async (req) => {
        const row = await store.get(entity, await entityKey(entity, req.params.key!));
        return row ? ok(row) : notFound();
      });
      add('PUT', item, entity, async (req) =>
        ok(await store.upsert(entity, req.params.key!, typedArgs(entity, req))),
      );
      add('PATCH', item, entity, async (req) => {
        const key = await entityKey(entity, req.params.key!);
        const existing = await existingForTyping(entity, key, req);
        return ok(await store.update(entity, key, typedArgs(entity, req, existing)));
      });
      add('DELETE', item, entity, async (req) => {
        await store.delete(entity, await entityKey(entity, req.params.key!));
        return noContent();
      });
    }

    for (const fk of spec.foreign) {
      const parentSpec = endpointFor(fk.parent);
      const nested = `/${parentSpec.path}/:parent/${spec.nestedPath ?? spec.path}`;
      const nestedItem = `${nested}/:key`;

      add('GET', nested, entity, async (req) => {
        const query = parseListQuery(req.query);
        if (!query.ok) return { status: 400, body: query.error };
        const parent = await store.get(fk.parent, req.params.parent!);
        if (!parent) return notFound();
        const page = await store.list(entity, {
          ...query.options,
          parent: { field: fk.field, id: parent.id },
        });
        return ok({
          data: page.data,
          offset: page.offset,
          next: nextPageLink(req.path, page.offset, req.query),
        });
      });
      add('POST', nested, entity, async (req) => {
        const parent = await store.get(fk.parent, req.params.parent!);
        if (!parent) return notFound();
        const args = typedArgs(entity, req);
        args[fk.field] = { id: parent.id };
        return created(await store.insert(entity, args));
      });

      add('GET', nestedItem, entity, async (req) => {
        const parent = await store.get(fk.parent, req.params.parent!);
        const child = parent && (await findChild(spec, fk, parent, req.params.key!));
        return child ? ok(child) : notFound();
      });
      add('PUT', nestedItem, entity, async (req) => {
        const parent = await store.get(fk.parent, req.params.parent!);
        if (!parent) return notFound();
        const args = typedArgs(entity, req);
        args[fk.field] = { id: parent.id };
        let key = req.params.key!;
        if (spec.scopedKey && !UUID.test(key)) {
          // A target is named by host:port within its upstream: replace it if present, else create it.
          const existing = await findChild(spec, fk, parent, key);
          if (args[spec.scopedKey] === undefined) args[spec.scopedKey] = key;
          if (!existing) return ok(await store.insert(entity, args));
          key = existing.id;
        }
        return ok(await store.upsert(entity, key, args));
      });
      add('PATCH', nestedItem, entity, async (req) => {
        const parent = await store.get(fk.parent, req.params.parent!);
        const child = parent && (await findChild(spec, fk, parent, req.params.key!));
        if (!parent || !child) return notFound();
        const args = typedArgs(entity, req, child);
        if (args[fk.field] === undefined) args[fk.field] = { id: parent.id };
        return ok(await store.update(entity, child.id, args));
      });
      add('DELETE', nestedItem, entity, async (req) => {
        const parent = await store.get(fk.parent, req.params.parent!);
        const child = parent && (await findChild(spec, fk, parent, req.params.key!));
        if (!parent || !child) return notFound();
        await store.delete(entity, child.id);
        return noContent();
      });

      if (!spec.topLevel) continue;
      // The parent seen from its child, e.g. /routes/{route}/service.
      const foreignItem = `/${spec.path}/:key/${fk.field}`;
      const parentOf = async (req: AdminRequest): Promise<string | null> => {
        const child = await store.get(entity, req.params.key!);
        return child ? foreignId(child, fk.field) : null;
      };
      add('GET', foreignItem, fk.parent, async (req) => {
        const id = await parentOf(req);
        const parent = id && (await store.get(fk.parent, id));
        return parent ? ok(parent) : notFound();
      });
      add('PUT', foreignItem, fk.parent, async (req) => {
        const id = await parentOf(req);
        return id ? ok(await store.upsert(fk.parent, id, typedArgs(fk.parent, req))) : notFound();
      });
      add('PATCH', foreignItem, fk.parent, async (req) => {
        const id = await parentOf(req);
        if (!id) return notFound();
        const existing = await existingForTyping(fk.parent, id, req);
        return ok(await store.update(fk.parent, id, typedArgs(fk.parent, req, existing)));
      });
      add('DELETE', foreignItem, fk.parent, async (req) =>
        (await parentOf(req)) ? methodNotAllowed() : notFound(),
      );
    }
  }
  return routes;
}
