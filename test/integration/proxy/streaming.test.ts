// Bodies stream through the proxy both ways without being held in memory: 100 MB up and 100 MB down with
// the process's RSS growing by less than 50 MB.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import {
  serviceConfig,
  startTestProxy,
  startUpstream,
  type TestProxy,
  type Upstream,
} from '../../helpers/proxy.js';

const TOTAL = 100 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'a');
const RSS_GROWTH_LIMIT = 50 * 1024 * 1024;

/** Tracks the highest RSS while a transfer runs. */
function rssWatch(): { stop(): number } {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss()) - start;
    },
  };
}

describe('proxy: streaming bodies', function () {
  this.timeout(60_000);
  let upstream: Upstream;
  let proxy: TestProxy;

  before(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.method === 'POST') {
        let received = 0;
        req.on('data', (c: Buffer) => (received += c.length));
        req.on('end', () => res.end(String(received)));
        return;
      }
      // Download: written as fast as the proxy reads it, honouring backpressure.
      res.writeHead(200, { 'content-length': TOTAL });
      let sent = 0;
      const pump = () => {
        while (sent < TOTAL) {
          sent += CHUNK.length;
          if (!res.write(CHUNK)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    proxy = await startTestProxy({ config: serviceConfig({ host: '127.0.0.1', port: upstream.port }) });
    // Warm up pools and code paths so the measurement sees the transfer, not first-use allocations.
    await transfer('GET', 0);
  });
  after(async () => {
    await proxy.close();
    await upstream.close();
  });

  /** Uploads `upload` bytes (POST) or downloads (GET); resolves with the bytes received back. */
  function transfer(
    method: 'GET' | 'POST',
    upload: number,
  ): Promise<{ status: number; text: string; received: number }> {
    return new Promise((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: proxy.port,
        method,
        path: '/big',
        agent: false,
        headers: method === 'POST' ? { 'content-length': String(upload) } : {},
      });
      req.on('response', (res) => {
        let received = 0;
        let text = '';
        res.on('data', (c: Buffer) => {
          received += c.length;
          if (text.length < 64) text += c.toString('latin1', 0, Math.min(c.length, 64));
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, received }));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (method === 'GET') return void req.end();
      let sent = 0;
      const pump = () => {
        while (sent < upload) {
          sent += CHUNK.length;
          if (!req.write(CHUNK)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
  }

  it('streams a 100 MB request body upstream with flat memory', async () => {
    const watch = rssWatch();
    const reply = await transfer('POST', TOTAL);
    const growth = watch.stop();
    assert.equal(reply.status, 200);
    assert.equal(reply.text, String(TOTAL));
    assert.ok(growth < RSS_GROWTH_LIMIT, `RSS grew by ${(growth / 1048576).toFixed(1)} MB`);
  });

  it('streams a 100 MB response body to the client with flat memory', async () => {
    const watch = rssWatch();
    const reply = await transfer('GET', 0);
    const growth = watch.stop();
    assert.equal(reply.status, 200);
    assert.equal(reply.received, TOTAL);
    assert.ok(growth < RSS_GROWTH_LIMIT, `RSS grew by ${(growth / 1048576).toFixed(1)} MB`);
  });
});
