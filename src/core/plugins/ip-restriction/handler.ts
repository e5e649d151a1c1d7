// ip-restriction: refuses clients whose address (as the proxy computed it) is denied or not allowed.
import { isIP } from 'node:net';
import { plainAddress } from '../../proxy/trusted-ips.js';
import { PACKAGE_VERSION } from '../../version.js';
import { definePlugin } from '../api.js';
import { ipListMatcher } from './ip-list.js';
import { schema } from './schema.js';

export interface IpRestrictionConfig {
  allow?: string[] | null;
  deny?: string[] | null;
  status?: number | null;
  message?: string | null;
}

const NO_ADDRESS = {
  message: 'Cannot identify the client IP address, unix domain sockets are not supported.',
};

/** An IP/CIDR list as a match function, or null when the list is empty. */
const matcher = (list: string[] | null | undefined) => (list && list.length > 0 ? ipListMatcher(list) : null);

export default definePlugin<IpRestrictionConfig>({
  name: 'ip-restriction',
  version: PACKAGE_VERSION,
  priority: 990,
  schema,
  init({ config }) {
    const denied = matcher(config.deny);
    const allowed = matcher(config.allow);
    const refusal = { message: config.message ?? 'Your IP address is not allowed' };
    const status = config.status ?? 403;
    return {
      access(ctx) {
        const ip = plainAddress(ctx.request.clientIp);
        if (!ip || isIP(ip) === 0) return ctx.exit(403, NO_ADDRESS);
        // Kong checks deny first: an address on both lists is refused.
        if (denied?.(ip)) return ctx.exit(status, refusal);
        if (allowed && !allowed(ip)) return ctx.exit(status, refusal);
      },
    };
  },
});
