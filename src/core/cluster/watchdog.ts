// Both sides drop a peer that has been silent for the ping timeout.
import type { WebSocket } from 'ws';
import { PING_TIMEOUT_MS } from './protocol.js';

/** Calls `onSilent` and terminates the socket when nothing was heard for PING_TIMEOUT_MS. */
export function watchdog(ws: WebSocket, onSilent: () => void) {
  let timer: NodeJS.Timeout | null = null;
  const reset = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      onSilent();
      ws.terminate();
    }, PING_TIMEOUT_MS);
  };
  reset();
  return { reset, stop: () => timer && clearTimeout(timer) };
}
