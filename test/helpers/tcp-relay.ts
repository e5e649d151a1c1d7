// A TCP relay in front of a port that a test can hold (accept, pass nothing on) or close, to cut a peer off on cue.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './tmp.js';

export type RelayState = 'open' | 'holding' | 'closed';

export interface TcpRelay {
  port: number;
  state(): RelayState;
  /** New connections are relayed; connections held so far are relayed now. */
  open(): Promise<void>;
  /** New connections are accepted and kept waiting (a peer that never answers); none reach the target. */
  hold(): Promise<void>;
  /** Nothing listens on the port (connections are refused); established connections are cut. */
  close(): Promise<void>;
  /** Connections relayed to the target so far. */
  relayed(): number;
}

/** Starts a relay from a free 127.0.0.1 port to 127.0.0.1:`target`, open. Call `close()` when done. */
export async function startTcpRelay(target: number): Promise<TcpRelay> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let held: Socket[] = [];
  let state: RelayState = 'closed';
  let server: Server | null = null;
  let relayed = 0;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const relay = (client: Socket) => {
    if (client.destroyed) return;
    relayed++;
    const upstream = connect(target, '127.0.0.1');
    track(upstream);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  };
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const next = createServer((client) => {
        track(client);
        if (state === 'open') relay(client);
        else held.push(client);
      });
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => resolve());
      server = next;
    });

  const relayState = async (next: Exclude<RelayState, 'closed'>) => {
    if (state === 'closed') await listen();
    state = next;
    if (next === 'open') {
      const waiting = held;
      held = [];
      for (const client of waiting) relay(client);
    }
  };

  await relayState('open');
  return {
    port,
    state: () => state,
    open: () => relayState('open'),
    hold: () => relayState('holding'),
    close: async () => {
      if (state === 'closed') return;
      state = 'closed';
      held = [];
      const closing = server;
      server = null;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => closing!.close(() => resolve()));
    },
    relayed: () => relayed,
  };
}
