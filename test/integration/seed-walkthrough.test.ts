// The deployment guide, step by step with `hybrid` in place of `kong`, in shared and in pki mode, using the
// files in examples/ as they are (addresses overridden with KONG_* variables, as the guide's Docker variant
// does): certificates, a control plane, a data plane, /clustering/data-planes, configuration through the
// Admin API and the decK example, proxied traffic, and a data plane that keeps serving when the CP dies.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { FAST_CLUSTER_ENV } from '../helpers/cluster-nodes.js';
import { OpensslPki } from '../helpers/openssl-pki.js';
import { freePort, makeTempDir } from '../helpers/tmp.js';
import { waitUntil } from '../helpers/wait.js';

const EXAMPLES = new URL('../../examples/', import.meta.url).pathname;
const CP_NAME = 'control-plane.kong.yourcorp.tld';

interface DataPlaneItem {
  id: string;
  hostname: string;
  ip: string;
  status: string;
  config_hash: string;
  labels: Record<string, string>;
}

describe('the hybrid mode deployment guide, followed with hybrid', function () {
  this.timeout(180_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let upstream: Server;
  let upstreamPort: number;
  const prefixes: string[] = [];

  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir());
    upstream = createServer((req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ url: req.url, via: req.headers.via, host: req.headers.host })),
    );
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamPort = (upstream.address() as { port: number }).port;
  });
  afterEach(async () => {
    for (const prefix of prefixes.splice(0))
      if (existsSync(join(prefix, 'pids', 'hybrid.pid'))) await runCli(['stop', '-p', prefix]);
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
    await cleanup();
  });

  const hybrid = async (args: string[], env: Record<string, string> = {}) => {
    const result = await runCli(args, { cwd: dir, env: { ...FAST_CLUSTER_ENV, ...env } });
    assert.equal(result.exitCode, 0, `hybrid ${args.join(' ')}\n${result.stdout}\n${result.stderr}`);
    return result;
  };

  /** Steps "Set up the control plane" through "Verify that nodes are connected", then traffic. */
  async function walkthrough(mode: 'shared' | 'pki') {
    copyFileSync(join(EXAMPLES, `cp-${mode}.conf`), join(dir, 'cp.conf'));
    copyFileSync(join(EXAMPLES, `dp-${mode}.conf`), join(dir, 'dp.conf'));
    const [admin, cluster, telemetry, proxy, status] = await Promise.all(
      [1, 2, 3, 4, 5].map(() => freePort()),
    );
    const cpEnv = {
      KONG_ADMIN_LISTEN: `127.0.0.1:${admin}`,
      KONG_CLUSTER_LISTEN: `127.0.0.1:${cluster}`,
      KONG_CLUSTER_TELEMETRY_LISTEN: `127.0.0.1:${telemetry}`,
    };
    const dpEnv = {
      KONG_PROXY_LISTEN: `127.0.0.1:${proxy}`,
      KONG_STATUS_LISTEN: `127.0.0.1:${status}`,
      KONG_CLUSTER_CONTROL_PLANE: `127.0.0.1:${cluster}`,
      KONG_CLUSTER_TELEMETRY_ENDPOINT: `127.0.0.1:${telemetry}`,
    };
    await hybrid(['check', 'cp.conf'], cpEnv);
    await hybrid(['check', 'dp.conf'], dpEnv);
    await hybrid(['start', '-c', 'cp.conf', '-p', 'cp'], cpEnv);
    prefixes.push(join(dir, 'cp'));
    await hybrid(['start', '-c', 'dp.conf', '-p', 'dp'], dpEnv);
    prefixes.push(join(dir, 'dp'));

    // "Verify that nodes are connected": curl http://<admin-hostname>:8001/clustering/data-planes
    const adminUrl = `http://127.0.0.1:${admin}`;
    const listed = await waitUntil(
      async () => {
        const page = (await (await fetch(`${adminUrl}/clustering/data-planes`)).json()) as {
          data: DataPlaneItem[];
          next: string | null;
        };
        return page.data.length === 1 && page.data[0]!.status === 'connected' ? page : null;
      },
      { timeoutMs: 20_000, message: 'the data plane listed as connected' },
    );
    assert.equal(listed.next, null);
    assert.equal(listed.data[0]!.ip, '127.0.0.1');

    // "Use the Admin API on the control plane as usual": a service and a route, proxied by the data plane.
    const post = async (path: string, body: object) => {
      const res = await fetch(`${adminUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 201, await res.text());
    };
    await post('/services', { name: 'echo', url: `http://127.0.0.1:${upstreamPort}/base` });
    const written = Date.now();
    await post('/services/echo/routes', { name: 'echo-route', paths: ['/echo'] });
    const proxyUrl = `http://127.0.0.1:${proxy}`;
    const answer = await waitUntil(
      async () => {
        const res = await fetch(`${proxyUrl}/echo/hello`);
        return res.status === 200 ? ((await res.json()) as { url: string; via: string }) : null;
      },
      { timeoutMs: 10_000, intervalMs: 10, message: 'the route proxied' },
    );
    const propagationMs = Date.now() - written;
    assert.equal(answer.url, '/base/hello');
    assert.match(answer.via, /hybrid/);
    assert.ok(propagationMs < 5_000, `configuration reached the data plane in ${propagationMs} ms`);

    // The decK example, imported into the running control plane from the command line.
    copyFileSync(join(EXAMPLES, 'kong.yaml'), join(dir, 'kong.yaml'));
    await hybrid(['config', 'db_import', 'kong.yaml', '-c', 'cp.conf', '-p', 'cp'], cpEnv);
    // Its route goes to 127.0.0.1:8080/8081 (nothing listens here): routed, then Kong's 502 — not a 404.
    const routed = await waitUntil(
      async () => {
        const res = await fetch(`${proxyUrl}/orders/1`);
        return res.status !== 404 ? res : null;
      },
      { timeoutMs: 10_000, message: 'the decK route served' },
    );
    assert.ok([502, 503].includes(routed.status), `status ${routed.status}`);

    // The hash the control plane sends is the one the data plane reports.
    const cpHash = (
      (await (await fetch(`${adminUrl}/status`)).json()) as {
        configuration_hash: string;
      }
    ).configuration_hash;
    await waitUntil(
      async () =>
        ((await (await fetch(`${adminUrl}/clustering/data-planes`)).json()) as { data: DataPlaneItem[] })
          .data[0]!.config_hash === cpHash,
      { timeoutMs: 10_000, message: 'the data plane reports the control plane hash' },
    );
    const clusterStatus = await hybrid(['cluster', 'status', '--admin-url', adminUrl, '--min-dps', '1']);
    assert.match(clusterStatus.stdout, /in sync/);

    // The control plane dies: the data plane keeps serving what it has.
    await hybrid(['stop', '-p', 'cp']);
    const during = await fetch(`${proxyUrl}/echo/still`);
    assert.equal(during.status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${status}/status/ready`)).status, 200);
    return listed.data[0]!;
  }

  it('shared mode: gen_cert, one pair on both nodes', async () => {
    await hybrid(['gen_cert']);
    await hybrid(['verify-pki', '--mode', 'shared', '--cert', 'cluster.crt', '--key', 'cluster.key']);
    await walkthrough('shared');
  });

  it('pki mode: a root CA, an intermediate, a control plane and a data plane certificate', async () => {
    const pki = await OpensslPki.create(join(dir, 'pki'));
    const root = await pki.root({ name: 'hybrid-root-ca', cn: 'Hybrid Root CA' });
    const intermediate = await pki.intermediate(root, {
      name: 'hybrid-intermediate',
      cn: 'Hybrid Intermediate CA',
    });
    const cp = await pki.leaf(intermediate, 'cp', {
      name: 'control-plane',
      cn: CP_NAME,
      san: [CP_NAME, `alternate-${CP_NAME}`],
      keySlot: 'cp',
    });
    const dp = await pki.leaf(intermediate, 'dp', {
      name: 'data-plane',
      cn: 'kong-dp-ce39edecp.service',
      keySlot: 'dp',
    });
    // The file names the examples use; a node presents its leaf followed by its intermediate.
    writeFileSync(join(dir, 'ca-cert.pem'), root.certPem);
    writeFileSync(join(dir, 'control-plane.crt'), pki.chainPem(cp, intermediate));
    writeFileSync(join(dir, 'control-plane.key'), cp.keyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'data-plane.crt'), pki.chainPem(dp, intermediate));
    writeFileSync(join(dir, 'data-plane.key'), dp.keyPem, { mode: 0o600 });
    for (const role of ['cp', 'dp']) {
      copyFileSync(join(EXAMPLES, `${role}-pki.conf`), join(dir, `${role}-check.conf`));
      // A control plane's file does not say which name data planes use: the operator gives it.
      await hybrid([
        'verify-pki',
        '-c',
        `${role}-check.conf`,
        ...(role === 'cp' ? ['--server-name', CP_NAME] : []),
      ]);
    }
    const item = await walkthrough('pki');
    assert.deepEqual(item.labels, { deployment: 'example', region: 'eu-west-1' });
  });
});
