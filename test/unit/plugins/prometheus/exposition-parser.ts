// A strict reader of the Prometheus text format (0.0.4) for tests: every line must match, every family must be
// declared once before its samples, and histograms must be complete and cumulative.
import assert from 'node:assert/strict';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  types: Map<string, string>;
  help: Map<string, string>;
}

const METRIC = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_NAME = '[a-zA-Z_][a-zA-Z0-9_]*';
/** Inside quotes: anything but `"`, `\` and newline, or one of the three escapes. */
const LABEL_VALUE = '(?:[^"\\\\\\n]|\\\\[\\\\"n])*';
const VALUE = '(?:[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|NaN|[+-]Inf)';
const HELP_LINE = new RegExp(`^# HELP (${METRIC}) ((?:[^\\\\\\n]|\\\\[\\\\n])*)$`);
const TYPE_LINE = new RegExp(`^# TYPE (${METRIC}) (counter|gauge|histogram|summary|untyped)$`);
const SAMPLE_LINE = new RegExp(
  `^(${METRIC})(?:\\{((?:${LABEL_NAME}="${LABEL_VALUE}")(?:,${LABEL_NAME}="${LABEL_VALUE}")*)?\\})? (${VALUE})$`,
);
const LABEL_PAIR = new RegExp(`(${LABEL_NAME})="(${LABEL_VALUE})"`, 'g');

function unescape(value: string): string {
  return value.replace(/\\([\\"n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/** The family a sample belongs to (a histogram's _bucket/_sum/_count belong to it). */
function familyOf(name: string, types: Map<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      if (types.get(base) === 'histogram') return base;
    }
  }
  return name;
}

export function parseExposition(text: string): Exposition {
  assert.ok(text === '' || text.endsWith('\n'), 'the exposition ends with a newline');
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  const finished = new Set<string>();
  let current: string | null = null;
  const lines = text === '' ? [] : text.slice(0, -1).split('\n');
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    let m: RegExpExecArray | null;
    if ((m = HELP_LINE.exec(line))) {
      assert.ok(!help.has(m[1]!), `${where}: HELP given twice`);
      help.set(m[1]!, m[2]!);
      continue;
    }
    if ((m = TYPE_LINE.exec(line))) {
      assert.ok(!types.has(m[1]!), `${where}: TYPE given twice`);
      types.set(m[1]!, m[2]!);
      continue;
    }
    m = SAMPLE_LINE.exec(line);
    assert.ok(m, `${where}: not a valid sample line`);
    const name = m[1]!;
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(LABEL_PAIR)) {
      assert.ok(!(pair[1]! in labels), `${where}: label ${pair[1]} repeated`);
      labels[pair[1]!] = unescape(pair[2]!);
    }
    const family = familyOf(name, types);
    assert.ok(types.has(family), `${where}: sample before its TYPE`);
    if (family !== current) {
      assert.ok(!finished.has(family), `${where}: samples of ${family} are not one group`);
      if (current) finished.add(current);
      current = family;
    }
    samples.push({ name, labels, value: parseValue(m[3]!) });
  }
  checkHistograms(samples, types);
  return { samples, types, help };
}

/** Buckets cumulative and increasing in `le`, ending at +Inf equal to _count, and a _sum for each series. */
function checkHistograms(samples: Sample[], types: Map<string, string>): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const bySeries = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
    const seriesOf = (labels: Record<string, string>) => {
      const { le: _le, ...rest } = labels;
      const key = JSON.stringify(rest);
      let found = bySeries.get(key);
      if (!found) bySeries.set(key, (found = { buckets: [] }));
      return found;
    };
    for (const s of samples) {
      if (s.name === `${family}_bucket`) {
        assert.ok(s.labels.le !== undefined, `${family}_bucket without le`);
        seriesOf(s.labels).buckets.push([parseValue(s.labels.le!), s.value]);
      } else if (s.name === `${family}_sum`) seriesOf(s.labels).sum = s.value;
      else if (s.name === `${family}_count`) seriesOf(s.labels).count = s.value;
    }
    for (const [key, series] of bySeries) {
      const where = `${family}${key}`;
      assert.ok(series.buckets.length > 0, `${where}: no buckets`);
      for (let i = 1; i < series.buckets.length; i++) {
        assert.ok(series.buckets[i]![0] > series.buckets[i - 1]![0], `${where}: le not increasing`);
        assert.ok(series.buckets[i]![1] >= series.buckets[i - 1]![1], `${where}: buckets not cumulative`);
      }
      const last = series.buckets.at(-1)!;
      assert.equal(last[0], Infinity, `${where}: last bucket is le="+Inf"`);
      assert.equal(series.count, last[1], `${where}: _count equals the +Inf bucket`);
      assert.ok(series.sum !== undefined, `${where}: has _sum`);
    }
  }
}

/** The value of the one sample with this name and exactly these labels (undefined when absent). */
export function sampleValue(
  exposition: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  const found = exposition.samples.filter(
    (s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want,
  );
  assert.ok(found.length <= 1, `${name} ${want} appears ${found.length} times`);
  return found[0]?.value;
}
