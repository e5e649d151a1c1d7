// The router and balancer implementations the data plane's proxy is built with: the one place that names them.
import { EMPTY_ROUTER, type ProxyComponents } from './runtime.js';

/**
 * Routing is not part of this build yet: configurations are applied (certificates, upstream pools) but no
 * request matches a route, so every request is answered 404 as with an empty configuration. Service hosts
 * are reached directly (no upstream balancers).
 */
export const DATA_PLANE_COMPONENTS: ProxyComponents = {
  buildRouter: () => EMPTY_ROUTER,
  createBalancers: () => ({ forHost: () => null, close: () => undefined }),
};
