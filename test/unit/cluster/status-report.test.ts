// clusterStatusReport: which data planes make a cluster unhealthy, and why, from the API answer and a time.
import assert from 'node:assert/strict';
import { stripVTControlCharacters } from 'node:util';
import type { DataPlaneItem } from '../../../src/core/admin/clustering.js';
import { describeAge, clusterStatusReport } from '../../../src/core/cluster/status-report.js';
import { renderClusterStatus } from '../../../src/cli/render-cluster-status.js';

const NOW_S = 1_800_000_000;
const NOW = NOW_S * 1000;
const HASH = 'c'.repeat(32);
const criteria = { pingTimeoutMs: 45_000, warnDays: 30 };

function dp(overrides: Partial<DataPlaneItem> = {}): DataPlaneItem {
  return {
    id: '11111111-1111-4111-8111-111111111111',
    hostname: 'dp-a',
    ip: '10.0.0.1',
    version: '3.4.0',
    sync_status: 'normal',
    config_hash: HASH,
    last_seen: NOW_S - 10,
    ttl: 1_209_590,
    labels: {},
    cert_details: { expiry_timestamp: NOW_S + 365 * 86_400 },
    status: 'connected',
    created_at: NOW_S - 1000,
    updated_at: NOW_S - 10,
    ...overrides,
  };
}

const codes = (r: ReturnType<typeof clusterStatusReport>) => r.problems.map((p) => p.code);

describe('clusterStatusReport', () => {
  it('is healthy when every connected data plane is in sync, recently seen, with a distant expiry', () => {
    const report = clusterStatusReport(
      { controlPlaneHash: HASH, dataPlanes: [dp(), dp({ id: 'b', hostname: 'dp-b' })] },
      NOW,
      {
        ...criteria,
        minDataPlanes: 2,
      },
    );
    assert.equal(report.healthy, true);
    assert.deepEqual(report.problems, []);
    assert.equal(report.control_plane_hash, HASH);
    assert.equal(report.data_planes[0]!.in_sync, true);
    assert.equal(report.data_planes[0]!.last_seen_ago, 10);
    assert.equal(report.data_planes[0]!.cert_days_left, 365);
  });

  it('flags a connected data plane whose hash differs from the control plane, naming both hashes', () => {
    const report = clusterStatusReport(
      { controlPlaneHash: HASH, dataPlanes: [dp({ config_hash: 'd'.repeat(32) })] },
      NOW,
      criteria,
    );
    assert.equal(report.healthy, false);
    assert.deepEqual(codes(report), ['out_of_sync']);
    assert.match(report.problems[0]!.message, /dp-a .*dddddddd differs from the control plane's cccccccc/);
    assert.equal(report.data_planes[0]!.in_sync, false);
  });

  it('flags an incompatible sync_status instead of a hash mismatch', () => {
    const report = clusterStatusReport(
      {
        controlPlaneHash: HASH,
        dataPlanes: [dp({ sync_status: 'plugin_set_incompatible', config_hash: '0'.repeat(32) })],
      },
      NOW,
      criteria,
    );
    assert.deepEqual(codes(report), ['incompatible']);
    assert.match(report.problems[0]!.message, /plugin_set_incompatible/);
  });

  it('does not count the hash of a disconnected data plane, but one not seen within the ping timeout is a problem', () => {
    const fresh = dp({ status: 'disconnected', config_hash: 'd'.repeat(32), last_seen: NOW_S - 5 });
    assert.deepEqual(
      codes(clusterStatusReport({ controlPlaneHash: HASH, dataPlanes: [fresh] }, NOW, criteria)),
      [],
    );
    const gone = dp({ status: 'disconnected', last_seen: NOW_S - 600 });
    const report = clusterStatusReport({ controlPlaneHash: HASH, dataPlanes: [gone] }, NOW, criteria);
    assert.deepEqual(codes(report), ['not_seen']);
    assert.match(report.problems[0]!.message, /disconnected, last seen 10m ago \(ping timeout 45 s\)/);
  });

  it('allows write coalescing slack on last_seen, and flags a connected data plane silent past it', () => {
    const justOnTime = dp({ last_seen: NOW_S - 46 });
    assert.deepEqual(
      codes(clusterStatusReport({ controlPlaneHash: HASH, dataPlanes: [justOnTime] }, NOW, criteria)),
      [],
    );
    const silent = dp({ last_seen: NOW_S - 48 });
    assert.deepEqual(
      codes(clusterStatusReport({ controlPlaneHash: HASH, dataPlanes: [silent] }, NOW, criteria)),
      ['not_seen'],
    );
  });

  it('flags certificates expiring within --warn-days, and expired ones', () => {
    const soon = dp({ cert_details: { expiry_timestamp: NOW_S + 10 * 86_400 + 5 } });
    let report = clusterStatusReport({ controlPlaneHash: HASH, dataPlanes: [soon] }, NOW, criteria);
    assert.deepEqual(codes(report), ['cert_expiring']);
    assert.match(report.problems[0]!.message, /expires on \d{4}-\d{2}-\d{2}, in 10 day\(s\) \(warn: 30\)/);
    assert.deepEqual(
      codes(
        clusterStatusReport({ controlPlaneHash: HASH, dataPlanes: [soon] }, NOW, {
          ...criteria,
          warnDays: 7,
        }),
      ),
      [],
    );
    const expired = dp({ cert_details: { expiry_timestamp: NOW_S - 1 } });
    report = clusterStatusReport({ controlPlaneHash: HASH, dataPlanes: [expired] }, NOW, criteria);
    assert.deepEqual(codes(report), ['cert_expired']);
    assert.equal(report.data_planes[0]!.cert_days_left, -1);
  });

  it('flags fewer connected data planes than --min-dps, counting only connected ones', () => {
    const report = clusterStatusReport(
      {
        controlPlaneHash: HASH,
        dataPlanes: [dp(), dp({ id: 'b', status: 'disconnected', last_seen: NOW_S - 1 })],
      },
      NOW,
      { ...criteria, minDataPlanes: 2 },
    );
    assert.deepEqual(codes(report), ['too_few_data_planes']);
    assert.equal(report.problems[0]!.message, '1 data plane(s) connected, at least 2 required');
    assert.equal(
      clusterStatusReport({ controlPlaneHash: HASH, dataPlanes: [] }, NOW, criteria).healthy,
      true,
    );
  });

  it('cannot judge sync without a control plane hash, and says so', () => {
    const report = clusterStatusReport({ controlPlaneHash: null, dataPlanes: [dp()] }, NOW, criteria);
    assert.deepEqual(codes(report), ['no_control_plane_hash']);
    assert.equal(report.data_planes[0]!.in_sync, null);
  });

  it('flags a connected data plane that has not reported a hash yet', () => {
    const report = clusterStatusReport(
      { controlPlaneHash: HASH, dataPlanes: [dp({ config_hash: null })] },
      NOW,
      criteria,
    );
    assert.deepEqual(codes(report), ['out_of_sync']);
  });

  it('renders one row per data plane and each problem', () => {
    const report = clusterStatusReport(
      {
        controlPlaneHash: HASH,
        dataPlanes: [dp(), dp({ id: 'b', hostname: 'dp-b', config_hash: 'e'.repeat(32) })],
      },
      NOW,
      criteria,
    );
    const lines = renderClusterStatus(report, 30).map(stripVTControlCharacters);
    assert.equal(lines[0], `control plane configuration hash: ${HASH}`);
    assert.match(
      lines[1]!,
      /^HOSTNAME\s+IP\s+VERSION\s+STATUS\s+SYNC\s+CONFIG HASH\s+LAST SEEN\s+CERT EXPIRY$/,
    );
    assert.match(
      lines[2]!,
      /^dp-a\s+10\.0\.0\.1\s+3\.4\.0\s+connected\s+in sync\s+cccccccc\s+10s ago\s+\d{4}-\d{2}-\d{2} \(365d\)$/,
    );
    assert.match(lines[3]!, /^dp-b .* out of sync\s+eeeeeeee /);
    assert.match(lines[4]!, /✗ dp-b .* \[out_of_sync\]/);
    assert.match(lines.at(-1)!, /unhealthy: 1 problem\(s\), 2 of 2 data plane\(s\) connected/);
  });

  it('describes ages coarsely', () => {
    assert.deepEqual([0, 59, 60, 3599, 3600, 86_399, 86_400 * 3].map(describeAge), [
      '0s',
      '59s',
      '1m',
      '59m',
      '1h',
      '23h',
      '3d',
    ]);
  });
});
