// Prometheus text exposition (format 0.0.4): counter, gauge and histogram families whose series are resolved
// once per label set and kept, so recording a sample is a Map lookup and an addition.

/** The Content-Type of a /metrics answer (Kong sends `text/plain; charset=UTF-8`). */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A label value as it must appear between the quotes: backslash, double quote and newline escaped. */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`)) : value;
}

/** HELP text escapes backslash and newline only. */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/** A sample value: integers as integers, the special values as Prometheus spells them. */
export function formatSampleValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** `{a="x",b="y"}`, or '' without labels. */
function labelText(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return '';
  let text = '{';
  for (let i = 0; i < names.length; i++) {
    if (i > 0) text += ',';
    text += `${names[i]}="${escapeLabelValue(values[i] ?? '')}"`;
  }
  return `${text}}`;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function checkNames(name: string, labelNames: readonly string[]): void {
  if (!NAME.test(name)) throw new Error(`invalid metric name '${name}'`);
  for (const label of labelNames) {
    if (!LABEL.test(label) || label.startsWith('__') || label === 'le')
      throw new Error(`invalid label name '${label}' of ${name}`);
  }
}

/** What every family has; `write` appends its lines (HELP and TYPE only when it has a sample). */
export interface MetricFamily {
  readonly name: string;
  write(lines: string[]): void;
}

/** The key of a label set in a family's map (no label value can hold a NUL that matters here). */
function seriesKey(values: readonly string[]): string {
  return values.length === 1 ? values[0]! : values.join('\u0000');
}

/** One label set of a counter or gauge. */
export interface ValueSeries {
  readonly labels: string;
  value: number;
}

abstract class ValueFamily implements MetricFamily {
  protected readonly series = new Map<string, ValueSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    private readonly type: 'counter' | 'gauge',
  ) {
    checkNames(name, labelNames);
  }

  protected resolve(values: readonly string[]): ValueSeries {
    const key = seriesKey(values);
    let found = this.series.get(key);
    if (!found) {
      if (values.length !== this.labelNames.length)
        throw new Error(`${this.name} takes ${this.labelNames.length} label values, got ${values.length}`);
      found = { labels: labelText(this.labelNames, values), value: 0 };
      this.series.set(key, found);
    }
    return found;
  }

  write(lines: string[]): void {
    if (this.series.size === 0) return;
    lines.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`);
    for (const s of sortedSeries(this.series))
      lines.push(`${this.name}${s.labels} ${formatSampleValue(s.value)}`);
  }
}

/** Series in a stable order (by label text), as Kong's exporter prints them sorted. */
function sortedSeries<T extends { labels: string }>(series: Map<string, T>): T[] {
  return [...series.values()].sort((a, b) => (a.labels < b.labels ? -1 : a.labels > b.labels ? 1 : 0));
}

export class Counter extends ValueFamily {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames, 'counter');
  }

  inc(values: readonly string[], by = 1): void {
    this.incSeries(this.resolve(values), by);
  }

  /** Resolves (and keeps) the series of a label set; callers on a hot path may hold on to it. */
  seriesFor(values: readonly string[]): ValueSeries {
    return this.resolve(values);
  }

  /** Adds to a series resolved earlier by `seriesFor` (no lookup at all). */
  incSeries(series: ValueSeries, by = 1): void {
    if (by < 0 || Number.isNaN(by)) return; // a counter never goes down
    series.value += by;
  }

  /** The current value of one series (0 when it has none yet). */
  get(values: readonly string[]): number {
    return this.series.get(seriesKey(values))?.value ?? 0;
  }
}

export class Gauge extends ValueFamily {
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, labelNames, 'gauge');
  }

  set(values: readonly string[], value: number): void {
    this.resolve(values).value = value;
  }
}

/** One label set of a histogram: per-bucket counts (not cumulative; the last slot is above every bound). */
export interface HistogramSeries {
  readonly labels: string;
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export class Histogram implements MetricFamily {
  private readonly series = new Map<string, HistogramSeries>();
  private readonly bounds: Float64Array;
  private readonly leTexts: string[];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    buckets: readonly number[],
  ) {
    checkNames(name, labelNames);
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]! > buckets[i - 1]!)) throw new Error(`${name}: buckets must increase`);
    }
    this.bounds = Float64Array.from(buckets);
    this.leTexts = [...buckets.map(formatSampleValue), '+Inf'];
  }

  /** Resolves (and keeps) the series of a label set; callers on a hot path may hold on to it. */
  seriesFor(values: readonly string[]): HistogramSeries {
    const key = seriesKey(values);
    let found = this.series.get(key);
    if (!found) {
      if (values.length !== this.labelNames.length)
        throw new Error(`${this.name} takes ${this.labelNames.length} label values, got ${values.length}`);
      found = {
        labels: labelText(this.labelNames, values),
        counts: new Float64Array(this.bounds.length + 1),
        sum: 0,
        count: 0,
      };
      this.series.set(key, found);
    }
    return found;
  }

  observe(values: readonly string[], value: number): void {
    this.observeSeries(this.seriesFor(values), value);
  }

  /** Records into a series resolved earlier by `seriesFor` (no lookup at all). */
  observeSeries(series: HistogramSeries, value: number): void {
    if (Number.isNaN(value)) return;
    series.counts[this.bucketIndex(value)]!++;
    series.sum += value;
    series.count++;
  }

  /** The first bucket whose upper bound holds `value` (bounds.length: none does); binary search. */
  bucketIndex(value: number): number {
    const bounds = this.bounds;
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (value <= bounds[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  write(lines: string[]): void {
    // A series resolved ahead (e.g. upstream latency of a route only the gateway answered) has no sample yet.
    const observed = sortedSeries(this.series).filter((s) => s.count > 0);
    if (observed.length === 0) return;
    lines.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} histogram`);
    for (const s of observed) {
      // `le` goes last inside the braces, after the series' own labels.
      const open = s.labels === '' ? '{' : `${s.labels.slice(0, -1)},`;
      let cumulative = 0;
      for (let i = 0; i < s.counts.length; i++) {
        cumulative += s.counts[i]!;
        lines.push(`${this.name}_bucket${open}le="${this.leTexts[i]}"} ${formatSampleValue(cumulative)}`);
      }
      lines.push(`${this.name}_count${s.labels} ${formatSampleValue(s.count)}`);
      lines.push(`${this.name}_sum${s.labels} ${formatSampleValue(s.sum)}`);
    }
  }
}

/** The exposition of several families, sorted by name (as Kong's exporter orders them), ending in a newline. */
export function renderFamilies(families: Iterable<MetricFamily>): string {
  const lines: string[] = [];
  for (const family of [...families].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)))
    family.write(lines);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
