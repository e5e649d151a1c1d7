// /metrics of a real control plane and data plane started through the CLI: node, cluster link and data plane series.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { configHashNumber } from '../../../src/core/plugins/prometheus/exporter.js';
import { runCli } from '../../helpers/cli.js';
import { ClusterNodes, nodeId } from '../../helpers/cluster-nodes.js';
import { makeTempDir } from '../../helpers/tmp.js';
import { waitUntil } from '../../helpers/wait.js';
import {
  parseExposition,
  sampleValue,
  type Exposition,
} from '../../unit/plugins/prometheus/exposition-parser.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

async function scrape(url: string): Promise<Exposition> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4; charset=utf-8$/);
  return parseExposition(await res.text());
}

describe('prometheus /metrics (CP Admin API and DP status listener)', function () {
  this.timeout(90_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let nodes: ClusterNodes;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    nodes = new ClusterNodes(dir);
    assert.equal((await runCli(['gen_cert', 'shared.crt', 'shared.key'], { cwd: dir })).exitCode, 0);
  });
  after(async () => {
    await nodes.stopAll();
    await cleanup();
  });

  it('serves node, cluster link and data plane series, and follows the data plane’s connection', async () => {
    const shared = ['cluster_cert = shared.crt', 'cluster_cert_key = shared.key'];
    const cpNode = await nodes.controlPlane('cp', shared);
    await nodes.start(cpNode);
    const dpNode = await nodes.dataPlane('dp', cpNode.cluster, shared);
    await nodes.start(dpNode);
    const admin = cpNode.admin;
    const status = dpNode.status;
    const cpId = nodeId(cpNode);
    const dpId = nodeId(dpNode);
    const dpMetrics = `http://127.0.0.1:${status}/metrics`;
    const cpMetrics = `http://127.0.0.1:${admin}/metrics`;

    // A change on the CP gives the DP a configuration hash to report.
    const created = await fetch(`http://127.0.0.1:${admin}/services`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'orders', url: 'http://127.0.0.1:9/' }),
    });
    assert.equal(created.status, 201);

    const dp = await waitUntil(
      async () => {
        const parsed = await scrape(dpMetrics);
        return sampleValue(parsed, 'kong_control_plane_connected') === 1 ? parsed : null;
      },
      { timeoutMs: 20_000, message: 'the DP reports kong_control_plane_connected 1' },
    );
    assert.equal(sampleValue(dp, 'kong_node_info', { node_id: dpId, version: VERSION }), 1);
    const notAfter = new X509Certificate(readFileSync(join(dir, 'shared.crt'))).validTo;
    assert.equal(
      sampleValue(dp, 'kong_data_plane_cluster_cert_expiry_timestamp'),
      Math.floor(Date.parse(notAfter) / 1000),
    );
    assert.equal(sampleValue(dp, 'kong_datastore_reachable'), 1);

    const dpHash = await waitUntil(
      async () => {
        const body = (await (await fetch(`http://127.0.0.1:${status}/status`)).json()) as {
          configuration_hash: string;
        };
        return /^0{32}$/.test(body.configuration_hash) ? null : body.configuration_hash;
      },
      { timeoutMs: 10_000, message: 'the DP has a configuration' },
    );
    const dpLabels = { node_id: dpId, hostname: hostname(), ip: '127.0.0.1' };
    const cp = await waitUntil(
      async () => {
        const parsed = await scrape(cpMetrics);
        return sampleValue(parsed, 'kong_data_plane_config_hash', dpLabels) === configHashNumber(dpHash)
          ? parsed
          : null;
      },
      { timeoutMs: 10_000, message: 'the CP exports the hash the DP reports' },
    );
    assert.equal(sampleValue(cp, 'kong_node_info', { node_id: cpId, version: VERSION }), 1);
    assert.equal(sampleValue(cp, 'kong_datastore_reachable'), 1);
    const lastSeen = sampleValue(cp, 'kong_data_plane_last_seen', dpLabels)!;
    assert.ok(Math.abs(lastSeen - Date.now() / 1000) < 60, `last_seen ${lastSeen} is recent`);
    assert.equal(
      sampleValue(cp, 'kong_data_plane_version_compatible', { ...dpLabels, kong_version: VERSION }),
      1,
    );
    assert.equal(sampleValue(cp, 'kong_data_plane_connected', dpLabels), 1);
    assert.equal(sampleValue(cp, 'kong_data_plane_config_synced', dpLabels), 1);
    assert.equal(cp.types.get('kong_control_plane_connected'), undefined);

    await nodes.stop(cpNode);
    await waitUntil(async () => sampleValue(await scrape(dpMetrics), 'kong_control_plane_connected') === 0, {
      timeoutMs: 20_000,
      message: 'the DP reports kong_control_plane_connected 0 once the CP is gone',
    });
  });
});
