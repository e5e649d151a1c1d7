// A port whose connects get no answer: a listener (in python3, as Node's servers always accept) with a backlog of
// one that never accepts, the one slot taken. Further SYNs are dropped, so a connect hangs until its timeout.
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { freePort } from './tmp.js';

export interface SilentListener {
  port: number;
  close(): void;
}

export async function silentListener(): Promise<SilentListener> {
  const port = await freePort();
  const program = [
    'import socket, sys',
    's = socket.socket()',
    `s.bind(('127.0.0.1', ${port}))`,
    's.listen(0)',
    "print('ready', flush=True)",
    'sys.stdin.read()',
  ].join('\n');
  const child = spawn('python3', ['-c', program], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the listener exited with ${code}`)));
    child.stdout.once('data', () => resolve());
  });
  // The backlog's one slot: taken by a connection the listener never accepts.
  const filler: Socket = await new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
  return {
    port,
    close() {
      filler.destroy();
      child.kill();
    },
  };
}
