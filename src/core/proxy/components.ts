// The router and balancer implementations the data plane's proxy is built with: the one place that names them.
import { createBalancers, type Balancers } from './balancer/index.js';
import { buildRouter } from './router/index.js';
import type { ProxyComponents } from './runtime.js';

export const DATA_PLANE_COMPONENTS: ProxyComponents = {
  buildRouter: (config) => buildRouter(config),
  // Only balancers made here are ever passed back as `previous`.
  createBalancers: (config, { log, previous, tls }) =>
    createBalancers(config, { log, previous: previous as Balancers | undefined, tls }),
};
