// Per-message metric updates at the cost of an addition (bench: `npm run bench`, through smppd).
//
// A prom-client inc() or observe() hashes its labels, validates them and allocates a few objects,
// even on a child bound to its labels: ~0.3-1 µs each, several per message. Here the hot path adds
// to plain numbers, and the totals reach prom-client when it collects (a scrape, or metric.get()),
// so what Prometheus and the admin API read is exact at the moment they read it.
//
//   BatchedCounter    a counter series (a child, or the unlabelled counter itself): inc() adds
//                     locally; the counter's collect() hook moves the sum over (flushAll).
//   LatencyHistogram  a histogram family of our own, registered in the Registry like any prom-client
//                     metric: observe() is one bucket search and three additions on a bound series.

import type { Registry } from 'prom-client';

/** The part of a prom-client counter (or child) a batched series flushes into. */
interface CounterSink {
  inc(value: number): void;
}

export class BatchedCounter {
  private pending = 0;

  constructor(private readonly sink: CounterSink) {}

  inc(by = 1): void {
    this.pending += by;
  }

  /** Moves what was counted since the last flush into the prom-client series. */
  flush(): void {
    const n = this.pending;
    if (n === 0) return;
    this.pending = 0;
    this.sink.inc(n);
  }
}

/** The series of one counter that are batched; the counter's collect() calls flush(). */
export class BatchedSeries {
  private readonly series: BatchedCounter[] = [];

  add(sink: CounterSink): BatchedCounter {
    const c = new BatchedCounter(sink);
    this.series.push(c);
    return c;
  }

  /** Stops flushing `c` (its prom-client series was removed). */
  drop(c: BatchedCounter): void {
    const i = this.series.indexOf(c);
    if (i >= 0) this.series.splice(i, 1);
  }

  flush(): void {
    for (const c of this.series) c.flush();
  }
}

/** One labelled series of a LatencyHistogram. */
export class HistogramSeries {
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
  sharedLabels?: Record<string, string>;
}

/**
 * A histogram with prom-client's text output (`_bucket{le=..}` cumulative, `_sum`, `_count` per
 * series) whose observe() on a bound series allocates nothing. Series are created by labels() and
 * kept until remove(); there is no unlabelled observe() on a family with label names.
 */
export class LatencyHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    // The Registry only reads name, type, aggregator, get() / getForPromString() and reset().
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The series for these label values (in labelNames order); the same object every time. */
  labels(...values: string[]): HistogramSeries {
    const key = values.join('\u0000');
    let s = this.series.get(key);
    if (s === undefined) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => (labels[name] = values[i] ?? ''));
      s = new HistogramSeries(this.bounds, labels);
      this.series.set(key, s);
    }
    return s;
  }

  remove(...values: string[]): void {
    this.series.delete(values.join('\u0000'));
  }

  reset(): void {
    this.series.clear();
  }

  /** As prom-client's Histogram: bucket lines carry `le` and the series labels as shared labels. */
  async getForPromString(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }> {
    const values: MetricValue[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += s.counts[i] as number;
        const le = i < this.bounds.length ? (this.bounds[i] as number) : '+Inf';
        values.push({ value: cumulative, labels: { le }, sharedLabels: s.labels, metricName: `${this.name}_bucket` });
      }
      values.push({ value: s.sum, labels: s.labels, metricName: `${this.name}_sum` });
      values.push({ value: s.count, labels: s.labels, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** For getMetricsAsJSON and callers reading values: every label on the value itself. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }> {
    const data = await this.getForPromString();
    data.values = data.values.map((v) => ({
      value: v.value,
      labels: { ...v.labels, ...v.sharedLabels },
      metricName: v.metricName,
    }));
    return data;
  }
}
