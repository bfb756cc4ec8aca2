/**
 * Counters and histograms updated on every request, kept as plain numbers and written out in the
 * Prometheus text format when /metrics is scraped. prom-client's labelled Counter and Histogram
 * hash their labels on every update; on the request path that cost a third of the server's
 * throughput (measured with bench/http-throughput.mjs), so the hot path only bumps numbers here,
 * and prom-client keeps the rest (process metrics, gauges read at scrape time).
 */
const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labelText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([name, value]) => `${name}="${escapeLabel(value)}"`)
    .join(',');

/** A counter family: one number per distinct set of label values. */
export class HotCounter {
  private readonly series = new Map<string, { labels: Record<string, string>; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(key: string, labels: () => Record<string, string>): void {
    const entry = this.series.get(key);
    if (entry) entry.value++;
    else this.series.set(key, { labels: labels(), value: 1 });
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.series.values()) lines.push(`${this.name}{${labelText(labels)}} ${value}`);
    return lines;
  }
}

/** A histogram family: bucket counts, sum and count per distinct set of label values. */
export class HotHistogram {
  private readonly series = new Map<string, { labels: Record<string, string>; counts: number[]; sum: number; total: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
  ) {}

  observe(key: string, labels: () => Record<string, string>, value: number): void {
    let entry = this.series.get(key);
    if (!entry) this.series.set(key, (entry = { labels: labels(), counts: new Array<number>(this.buckets.length).fill(0), sum: 0, total: 0 }));
    let index = 0;
    while (index < this.buckets.length && value > this.buckets[index]!) index++;
    if (index < this.buckets.length) entry.counts[index]!++;
    entry.sum += value;
    entry.total++;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, counts, sum, total } of this.series.values()) {
      const prefix = labelText(labels);
      const joined = (le: string) => (prefix ? `le="${le}",${prefix}` : `le="${le}"`);
      let cumulative = 0;
      this.buckets.forEach((bound, index) => {
        cumulative += counts[index]!;
        lines.push(`${this.name}_bucket{${joined(String(bound))}} ${cumulative}`);
      });
      lines.push(
        `${this.name}_bucket{${joined('+Inf')}} ${total}`,
        `${this.name}_sum${prefix ? `{${prefix}}` : ''} ${sum}`,
        `${this.name}_count${prefix ? `{${prefix}}` : ''} ${total}`,
      );
    }
    return lines;
  }
}
