// Listener and host:port parsing: `0.0.0.0:8443 http2 ssl reuseport backlog=16384`, `[::]:8000`, `off`.
import { isIP } from 'node:net';
import type { HostPort, Listener } from './types.js';
import { fail, ok, splitList, type Parsed, type ValueType } from './values.js';

const FLAGS = ['ssl', 'http2', 'proxy_protocol', 'deferred', 'bind', 'reuseport', 'backlog=N'] as const;

/** Kong's usage line for listeners. */
export const LISTEN_USAGE = `must be of form: [off] | <ip>:<port> [${FLAGS.join('] [')}], [... next entry ...]`;

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9*]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

/** Parses `host:port`, `[v6]:port` or `v4:port`; host without brackets. */
export function parseHostPort(text: string): Parsed<HostPort> {
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
    if (isIP(host) !== 6) return fail(`'${text}': '${host}' is not an IPv6 address`);
  } else {
    const m = /^([^:[\]\s]+):(\d+)$/.exec(text);
    if (!m) {
      if ((text.match(/:/g) ?? []).length > 1) {
        return fail(
          `'${text}' is not of the form <host>:<port>`,
          'Put IPv6 addresses in brackets: [::]:8000.',
        );
      }
      return fail(`'${text}' is not of the form <host>:<port>`);
    }
    host = m[1]!;
    portText = m[2]!;
    if (isIP(host) === 0 && !HOSTNAME.test(host)) return fail(`'${text}': '${host}' is not a valid host`);
  }
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return fail(`'${text}': port must be between 1 and 65535`);
  }
  return ok({ host, port });
}

/** Parses one listener entry (address then flags). */
export function parseListener(entry: string): Parsed<Listener> {
  const [address, ...flagTokens] = entry.split(/\s+/);
  const addr = parseHostPort(address ?? '');
  if (!addr.ok) return fail(`${addr.message}; ${LISTEN_USAGE}`, addr.hint);
  const listener: Listener = {
    host: addr.value.host === '*' ? '0.0.0.0' : addr.value.host,
    port: addr.value.port,
    ssl: false,
    http2: false,
    reuseport: false,
    proxyProtocol: false,
    deferred: false,
    bind: false,
    flags: [],
    listener: '',
  };
  for (const raw of flagTokens) {
    const flag = raw.toLowerCase();
    const backlog = /^backlog=(\d+)$/.exec(flag);
    if (backlog) {
      listener.backlog = Number(backlog[1]);
    } else if (flag === 'ssl') listener.ssl = true;
    else if (flag === 'http2') listener.http2 = true;
    else if (flag === 'reuseport') listener.reuseport = true;
    else if (flag === 'proxy_protocol') listener.proxyProtocol = true;
    else if (flag === 'deferred') listener.deferred = true;
    else if (flag === 'bind') listener.bind = true;
    else return fail(`'${entry}': unknown flag '${raw}'; ${LISTEN_USAGE}`);
    if (!listener.flags.includes(flag)) listener.flags.push(flag);
  }
  const host = isIP(listener.host) === 6 ? `[${listener.host}]` : listener.host;
  listener.listener = [`${host}:${listener.port}`, ...listener.flags].join(' ');
  return ok(listener);
}

/** Parses a comma list of listeners; `off` (alone) means none. */
export function parseListenList(raw: string): Parsed<Listener[]> {
  const entries = splitList(raw);
  if (entries.length === 1 && entries[0]!.toLowerCase() === 'off') return ok([]);
  if (entries.some((e) => e.toLowerCase() === 'off')) {
    return fail(`'off' cannot be combined with addresses; ${LISTEN_USAGE}`);
  }
  const listeners: Listener[] = [];
  const errors: string[] = [];
  let hint: string | undefined;
  for (const entry of entries) {
    const parsed = parseListener(entry);
    if (parsed.ok) listeners.push(parsed.value);
    else {
      errors.push(parsed.message);
      hint ??= parsed.hint;
    }
  }
  return errors.length > 0 ? fail(errors.join('; '), hint) : ok(listeners);
}

/** `*_listen` keys: a listener list; `off` or empty means none. */
export function listenList(): ValueType<Listener[]> {
  return { describe: 'listen list | off', parse: (raw) => parseListenList(raw), unset: () => ok([]) };
}

/** A single `host:port`. */
export function hostPort(): ValueType<HostPort> {
  return {
    describe: 'host:port',
    parse: (raw) => parseHostPort(raw),
    unset: () => fail('must not be empty'),
  };
}

/** A comma list of `host:port` (several control planes to fail over between). */
export function hostPortList(): ValueType<HostPort[]> {
  return {
    describe: 'host:port list',
    parse(raw) {
      const out: HostPort[] = [];
      const errors: string[] = [];
      let hint: string | undefined;
      for (const entry of splitList(raw)) {
        const parsed = parseHostPort(entry);
        if (parsed.ok) out.push(parsed.value);
        else {
          errors.push(parsed.message);
          hint ??= parsed.hint;
        }
      }
      return errors.length > 0 ? fail(errors.join('; '), hint) : ok(out);
    },
    unset: () => ok([]),
  };
}
