// Benchmark reference: the least a Node proxy can do — undici Pool.stream into the response, no routing, no
// header handling. Shows how much of the gap to nginx is Node itself and how much is the data plane's work.
// Usage: node --import tsx bench/proxy/bare-undici.ts <upstream port> <listen port>
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [upstreamPort, port] = process.argv.slice(2).map(Number);
const host = `127.0.0.1:${upstreamPort}`;
const pool = new Pool(`http://${host}`, { connections: 512, pipelining: 1 });

createServer((req, res) => {
  pool.stream(
    { path: req.url ?? '/', method: 'GET', headers: { host }, opaque: res },
    ({ statusCode, headers, opaque }) => {
      const out = opaque as typeof res;
      out.writeHead(statusCode, headers as Record<string, string>);
      return out;
    },
    (err) => {
      if (err && !res.headersSent) res.writeHead(502).end();
    },
  );
}).listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
