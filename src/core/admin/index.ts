// The Admin API's public surface: start it, and the types other subsystems use to add routes to it.
export { startAdminApi } from './server.js';
export type { AdminApi, AdminApiOptions, AdminListenAddress, BoundAdminAddress } from './server.js';
export type { AdminHandler, AdminRequest, AdminRoute } from './context.js';
export type { AdminLogger, NodeRole } from './app.js';
export type { AdminResponse } from './responses.js';
export { ok, created, noContent, notFound, badRequest, methodNotAllowed } from './responses.js';
export { nextPageLink, parseListQuery } from './query.js';
export type { NodeInfo, PluginInfo, SchemaDocuments } from './info.js';
export type { AdminSchemaSource } from './entities.js';
