// A TCP port that was free a moment ago on a local address: for demos and tests that pick their own ports.
//
// Ports come from below the kernel's ephemeral range: a port bound to 0 and closed lies inside that range,
// where any outgoing connection on the machine may take it as its source port before our process binds it.
// Ports handed out by this process are not handed out again.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOWEST = 10_000;
const ATTEMPTS = 64;
const handedOut = new Set<number>();

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const below = ephemeralStart();
  for (let attempt = 0; attempt < ATTEMPTS && below - LOWEST > 1000; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (below - LOWEST));
    if (handedOut.has(port)) continue;
    if (await bindable(port, host)) {
      handedOut.add(port);
      return port;
    }
  }
  // No room below the ephemeral range (or all tries taken): let the kernel choose.
  for (;;) {
    const port = await bindable(0, host);
    if (port !== false && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** Binds `port` (0: any) for a moment; resolves with the port bound, or false when it is taken. */
function bindable(port: number, host: string): Promise<number | false> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      server.close(() => resolve(address && typeof address === 'object' ? address.port : false));
    });
  });
}

let rangeStart: number | null = null;

/** The first port of the kernel's ephemeral range (Linux's default when it can't be read). */
function ephemeralStart(): number {
  if (rangeStart !== null) return rangeStart;
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    rangeStart = Number(low) > 0 ? Number(low) : 32_768;
  } catch {
    rangeStart = 32_768;
  }
  return rangeStart;
}
