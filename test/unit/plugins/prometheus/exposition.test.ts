// The exposition writer: valid text format under a strict reader, escaping, histograms, bucket search.
import assert from 'node:assert/strict';
import {
  Counter,
  Gauge,
  Histogram,
  escapeLabelValue,
  formatSampleValue,
  renderFamilies,
} from '../../../../src/core/plugins/prometheus/exposition.js';
import { parseExposition, sampleValue } from './exposition-parser.js';

describe('prometheus exposition', () => {
  it('writes HELP and TYPE once per family, families sorted by name, and parses back strictly', () => {
    const gauge = new Gauge('b_gauge', 'A gauge', ['x']);
    gauge.set(['2'], 2);
    gauge.set(['1'], 1.5);
    const counter = new Counter('a_total', 'A counter');
    counter.inc([], 3);
    const text = renderFamilies([gauge, counter]);
    assert.equal(
      text,
      [
        '# HELP a_total A counter',
        '# TYPE a_total counter',
        'a_total 3',
        '# HELP b_gauge A gauge',
        '# TYPE b_gauge gauge',
        'b_gauge{x="1"} 1.5',
        'b_gauge{x="2"} 2',
        '',
      ].join('\n'),
    );
    const parsed = parseExposition(text);
    assert.equal(sampleValue(parsed, 'b_gauge', { x: '1' }), 1.5);
    assert.equal(parsed.types.get('a_total'), 'counter');
  });

  it('escapes quotes, backslashes and newlines in label values and reads them back unchanged', () => {
    const tricky = 'say "hi"\\path\nnext line';
    assert.equal(escapeLabelValue(tricky), 'say \\"hi\\"\\\\path\\nnext line');
    const counter = new Counter('kong_http_requests_total', 'help with \\ and\nnewline', [
      'service',
      'route',
    ]);
    counter.inc([tricky, 'r{1},="x"']);
    const text = renderFamilies([counter]);
    assert.match(text, /^# HELP kong_http_requests_total help with \\\\ and\\nnewline$/m);
    const parsed = parseExposition(text);
    assert.equal(sampleValue(parsed, 'kong_http_requests_total', { service: tricky, route: 'r{1},="x"' }), 1);
  });

  it('writes a histogram as cumulative _bucket lines ending in le="+Inf", then _count and _sum', () => {
    const histogram = new Histogram('lat_ms', 'Latency', ['service'], [1, 5, 10]);
    for (const v of [0.5, 1, 3, 10, 11, 200]) histogram.observe(['s'], v);
    const text = renderFamilies([histogram]);
    assert.equal(
      text,
      [
        '# HELP lat_ms Latency',
        '# TYPE lat_ms histogram',
        'lat_ms_bucket{service="s",le="1"} 2',
        'lat_ms_bucket{service="s",le="5"} 3',
        'lat_ms_bucket{service="s",le="10"} 4',
        'lat_ms_bucket{service="s",le="+Inf"} 6',
        'lat_ms_count{service="s"} 6',
        'lat_ms_sum{service="s"} 225.5',
        '',
      ].join('\n'),
    );
    parseExposition(text);
  });

  it('writes a histogram without labels with le alone in the braces', () => {
    const histogram = new Histogram('plain', 'No labels', [], [1]);
    histogram.observe([], 2);
    const parsed = parseExposition(renderFamilies([histogram]));
    assert.equal(sampleValue(parsed, 'plain_bucket', { le: '1' }), 0);
    assert.equal(sampleValue(parsed, 'plain_bucket', { le: '+Inf' }), 1);
    assert.equal(sampleValue(parsed, 'plain_count'), 1);
  });

  it('finds the bucket of a value by binary search: a value on a bound belongs to it', () => {
    const histogram = new Histogram('h', 'h', [], [1, 2, 5, 7, 10]);
    const cases: [number, number][] = [
      [0, 0],
      [1, 0],
      [1.0001, 1],
      [2, 1],
      [6.9, 3],
      [10, 4],
      [10.5, 5],
      [Infinity, 5],
    ];
    for (const [value, index] of cases) assert.equal(histogram.bucketIndex(value), index, `value ${value}`);
  });

  it('leaves out families and histogram series without samples', () => {
    const histogram = new Histogram('h', 'h', ['a'], [1]);
    histogram.seriesFor(['resolved-but-empty']);
    assert.equal(renderFamilies([histogram, new Counter('c', 'c', ['a'])]), '');
    histogram.observe(['seen'], 1);
    const parsed = parseExposition(renderFamilies([histogram]));
    assert.deepEqual([...new Set(parsed.samples.map((s) => s.labels.a))], ['seen']);
  });

  it('formats special values and never lets a counter go down', () => {
    assert.equal(formatSampleValue(NaN), 'NaN');
    assert.equal(formatSampleValue(Infinity), '+Inf');
    assert.equal(formatSampleValue(-Infinity), '-Inf');
    assert.equal(formatSampleValue(3.402823669209385e38), '3.402823669209385e+38');
    const counter = new Counter('c_total', 'c');
    counter.inc([], 2);
    counter.inc([], -1);
    assert.equal(counter.get([]), 2);
  });

  it('refuses invalid metric and label names, le as a label, and a wrong number of label values', () => {
    assert.throws(() => new Counter('1bad', 'x'), /invalid metric name/);
    assert.throws(() => new Gauge('ok', 'x', ['bad-label']), /invalid label name/);
    assert.throws(() => new Histogram('ok', 'x', ['le'], [1]), /invalid label name/);
    assert.throws(() => new Histogram('ok', 'x', [], [2, 1]), /buckets must increase/);
    assert.throws(() => new Counter('ok', 'x', ['a', 'b']).inc(['only one']), /takes 2 label values/);
  });

  it('has a reader strict enough to refuse malformed expositions', () => {
    const typed = '# TYPE m gauge\n';
    assert.throws(() => parseExposition(`${typed}m{a="x"y"} 1\n`), /not a valid sample line/);
    assert.throws(() => parseExposition(`${typed}m{a="x\\q"} 1\n`), /not a valid sample line/);
    assert.throws(() => parseExposition(`${typed}m 1`), /ends with a newline/);
    assert.throws(() => parseExposition('m 1\n'), /before its TYPE/);
    assert.throws(
      () => parseExposition(`${typed}m{a="1"} 1\n# TYPE n gauge\nn 1\nm{a="2"} 1\n`),
      /one group/,
    );
    const histogram = '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\nh_sum 1\n';
    assert.throws(() => parseExposition(histogram), /not cumulative/);
    assert.throws(
      () => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\nh_sum 1\n'),
      /\+Inf/,
    );
  });
});
