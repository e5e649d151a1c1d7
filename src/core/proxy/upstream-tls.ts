// TLS toward upstreams as Kong sets it: the CAs that verify an upstream (the service's ca_certificates, else the
// node's lua_ssl_trusted_certificate), the certificate presented (the service's client_certificate, else its
// upstream's) and the verify depth; entity ids are resolved to PEM once per configuration version.
import { createHash } from 'node:crypto';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { chainDepth, peerChainFromTls, trustContext, type TlsIdentity, type Trust } from '../pki/index.js';
import type { DeclarativeConfig, ForeignKey, ServiceEntity, UpstreamEntity } from './types.js';
import type { UpstreamTlsOptions } from './upstream-client.js';

/** nginx's proxy_ssl_verify_depth default, which Kong keeps while a service's tls_verify_depth is null. */
export const DEFAULT_TLS_VERIFY_DEPTH = 1;

/** A depth limit and the setting it comes from (named in the refusal). */
export interface DepthLimit {
  max: number;
  setting: 'tls_verify_depth' | 'lua_ssl_verify_depth';
}

type ConnectOptions = ReturnType<UpstreamTlsOptions['connectOptions']>;

/** Connections that verify nothing need no CAs: Node's defaults make the cheapest context. */
const UNVERIFIED: Trust = { system: true, pems: [] };

const acceptAnyPeer = (): undefined => undefined;

/** One TLS setup toward upstreams, shared by every service (and pool) that has the same one. */
export class UpstreamTls implements UpstreamTlsOptions {
  private options: ConnectOptions | null = null;

  constructor(
    readonly key: string,
    /** Verify the upstream's certificate: its chain, its name and the depth. */
    readonly verify: boolean,
    readonly depth: DepthLimit,
    /** The CAs a verified upstream must chain to. */
    readonly trust: Trust,
    /** The certificate presented to the upstream, if any. */
    readonly identity: TlsIdentity | null,
  ) {}

  connectOptions(): ConnectOptions {
    // Built on the first connection: most services of a version never open one.
    return (this.options ??= {
      secureContext: trustContext(this.verify ? this.trust : UNVERIFIED, this.identity ?? undefined),
      rejectUnauthorized: this.verify,
      checkServerIdentity: this.verify ? this.checkPeer : acceptAnyPeer,
    });
  }

  /** Node calls this once the chain verified; a resumed session is not checked again (it passed before). */
  private readonly checkPeer = (hostname: string, cert: PeerCertificate): Error | undefined =>
    depthRefusal(peerChainFromTls(cert), this.depth) ?? checkServerIdentity(hostname, cert);
}

/**
 * The refusal of a verified chain (DER, leaf first) that holds more intermediates than `limit` allows, coded as
 * OpenSSL's own (CERT_CHAIN_TOO_LONG); undefined when the chain is within it.
 */
export function depthRefusal(
  chain: readonly Buffer[],
  limit: DepthLimit,
): (Error & { code: string }) | undefined {
  const counted = chainDepth(chain);
  if ('problem' in counted) {
    return Object.assign(new Error(`certificate chain cannot be checked: ${counted.problem}`), {
      code: 'CERT_CHAIN_UNLINKED',
    });
  }
  if (counted.intermediates <= limit.max) return undefined;
  const n = counted.intermediates;
  return Object.assign(
    new Error(
      `certificate chain too long: ${n} intermediate${n === 1 ? '' : 's'}, ${limit.setting} allows ${limit.max}`,
    ),
    { code: 'CERT_CHAIN_TOO_LONG' },
  );
}

/** What the node contributes: its trust and the depth of health checks. */
export interface UpstreamTlsSettings {
  /** lua_ssl_trusted_certificate (with the cluster's trust on a data plane). */
  trust: Trust;
  /** lua_ssl_verify_depth, the depth limit of https health checks. */
  healthCheckDepth: number;
}

/** The upstream TLS of one configuration version. */
export interface UpstreamTlsSet {
  /** The TLS of requests to an https or wss `service`. */
  forService(service: ServiceEntity): UpstreamTls;
  /** The TLS of `upstream`'s active health checks: the node's trust and the upstream's client certificate. */
  forHealthChecks(upstream: UpstreamEntity, verify: boolean): UpstreamTls;
  /** The keys of the services' TLS: pools with any other key belong to a previous version. */
  readonly keys: ReadonlySet<string>;
}

interface Row {
  id?: unknown;
  cert?: unknown;
  key?: unknown;
}

const digest = (...parts: readonly string[]): string =>
  createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 16);

export function buildUpstreamTls(
  config: DeclarativeConfig,
  settings: UpstreamTlsSettings,
  log: { warn(message: string): void },
): UpstreamTlsSet {
  const certificates = new Map<string, TlsIdentity>();
  for (const row of (config.certificates ?? []) as Row[]) {
    if (typeof row.id === 'string' && typeof row.cert === 'string' && typeof row.key === 'string')
      certificates.set(row.id, { cert: row.cert, key: row.key });
  }
  const cas = new Map<string, string>();
  for (const row of (config.ca_certificates ?? []) as Row[]) {
    if (typeof row.id === 'string' && typeof row.cert === 'string') cas.set(row.id, row.cert);
  }
  const upstreams = new Map<string, UpstreamEntity>();
  for (const upstream of config.upstreams ?? []) upstreams.set(upstream.name.toLowerCase(), upstream);

  const warned = new Set<string>();
  const warnOnce = (message: string): void => {
    if (warned.has(message)) return;
    warned.add(message);
    log.warn(message);
  };
  const shared = new Map<string, UpstreamTls>();
  const caTrusts = new Map<string, { trust: Trust; label: string }>();
  const identities = new Map<string, string>();

  // Labelled by content: a reloaded trust gives new pools, never a connection verified against the old one.
  const nodeTrust = {
    trust: settings.trust,
    label: `node-${digest(settings.trust.system ? 'system' : '', ...settings.trust.pems)}`,
  };
  const unverified = { trust: UNVERIFIED, label: '-' };

  /** The CAs of ca_certificates (ids missing from the configuration are not trusted). */
  const caTrust = (ids: readonly string[], owner: string): { trust: Trust; label: string } => {
    if (ids.length === 0) {
      warnOnce(`${owner}: tls_verify is on and ca_certificates is empty: no upstream certificate is trusted`);
    }
    const memo = ids.join(',');
    let found = caTrusts.get(memo);
    if (!found) {
      const pems: string[] = [];
      for (const id of ids) {
        const pem = cas.get(id);
        if (pem === undefined) warnOnce(`${owner}: ca_certificates ${id} is not in the configuration`);
        else pems.push(pem);
      }
      found = { trust: { system: false, pems }, label: digest(...pems) };
      caTrusts.set(memo, found);
    }
    return found;
  };

  const clientCertificate = (ref: ForeignKey, owner: string): { id: string; pair: TlsIdentity } | null => {
    const pair = certificates.get(ref.id);
    if (!pair) {
      warnOnce(`${owner}: client_certificate ${ref.id} is not in the configuration; none is presented`);
      return null;
    }
    return { id: ref.id, pair };
  };

  const make = (
    verify: boolean,
    depth: DepthLimit,
    trust: { trust: Trust; label: string },
    client: { id: string; pair: TlsIdentity } | null,
  ): UpstreamTls => {
    let cert = '-';
    if (client) {
      cert = identities.get(client.id) ?? `${client.id}@${digest(client.pair.cert, client.pair.key)}`;
      identities.set(client.id, cert);
    }
    // Without verification the CAs and the depth make no difference, so they do not split pools.
    const key = verify
      ? `verify ${depth.setting}=${depth.max} ca=${trust.label} cert=${cert}`
      : `noverify cert=${cert}`;
    let tls = shared.get(key);
    if (!tls) {
      tls = new UpstreamTls(key, verify, depth, trust.trust, client?.pair ?? null);
      shared.set(key, tls);
    }
    return tls;
  };

  const resolveService = (service: ServiceEntity): UpstreamTls => {
    const owner = `service ${service.name ?? service.id}`;
    const verify = service.tls_verify === true;
    const trust = !verify
      ? unverified
      : Array.isArray(service.ca_certificates)
        ? caTrust(service.ca_certificates, owner)
        : nodeTrust;
    // Kong: the service's certificate; only a service without one falls back to its upstream's.
    let client: { id: string; pair: TlsIdentity } | null = null;
    if (service.client_certificate?.id) client = clientCertificate(service.client_certificate, owner);
    else {
      const upstream = upstreams.get(service.host.toLowerCase());
      if (upstream?.client_certificate?.id)
        client = clientCertificate(upstream.client_certificate, `upstream ${upstream.name}`);
    }
    const depth: DepthLimit = {
      max: service.tls_verify_depth ?? DEFAULT_TLS_VERIFY_DEPTH,
      setting: 'tls_verify_depth',
    };
    return make(verify, depth, trust, client);
  };

  const byService = new Map<string, UpstreamTls>();
  const keys = new Set<string>();
  for (const service of config.services ?? []) {
    if (service.protocol !== 'https' && service.protocol !== 'wss') continue;
    const tls = resolveService(service);
    byService.set(service.id, tls);
    keys.add(tls.key);
  }
  const healthChecks = new Map<string, UpstreamTls>();

  return {
    keys,
    forService(service) {
      let tls = byService.get(service.id);
      if (!tls) {
        tls = resolveService(service);
        byService.set(service.id, tls);
      }
      return tls;
    },
    forHealthChecks(upstream, verify) {
      const memo = `${upstream.id} ${verify}`;
      let tls = healthChecks.get(memo);
      if (!tls) {
        const ref = upstream.client_certificate;
        const client = ref?.id ? clientCertificate(ref, `upstream ${upstream.name}`) : null;
        const depth: DepthLimit = { max: settings.healthCheckDepth, setting: 'lua_ssl_verify_depth' };
        tls = make(verify, depth, verify ? nodeTrust : unverified, client);
        healthChecks.set(memo, tls);
      }
      return tls;
    },
  };
}
