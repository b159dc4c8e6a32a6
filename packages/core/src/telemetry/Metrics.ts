/** Label name -> value. Values are free text; names match `[a-zA-Z_][a-zA-Z0-9_]*`. */
export type LabelValues = Readonly<Record<string, string>>;

/** A value read at scrape time: one number, or one number per label set. */
export type Collected = number | readonly { readonly labels: LabelValues; readonly value: number }[];

export interface CounterChild { inc(by?: number): void }
export interface GaugeChild { set(value: number): void; inc(by?: number): void; dec(by?: number): void }
export interface HistogramChild { observe(value: number): void }

/** Only goes up. Name it `..._total`. */
export interface Counter extends CounterChild {
  /** A child bound to label values; keep it, so the hot path does no label lookup. */
  labels(values: LabelValues): CounterChild;
}

export interface Gauge extends GaugeChild {
  labels(values: LabelValues): GaugeChild;
}

export interface Histogram extends HistogramChild {
  labels(values: LabelValues): HistogramChild;
}

export interface MetricOptions {
  readonly labelNames?: readonly string[];
  /**
   * Read the value at scrape time instead of keeping it (queue depths, counts another component
   * keeps). Must be cheap and must not throw; a throw is reported as a comment, not a failed scrape.
   */
  readonly collect?: () => Collected;
}

export interface HistogramOptions {
  readonly labelNames?: readonly string[];
  /** Upper bounds, ascending; `+Inf` is added. */
  readonly buckets?: readonly number[];
}

/**
 * What plugins get (`PluginContext.metrics`): register instruments once at `register` time and
 * update them on the hot path. Experimental.
 */
export interface MetricsRegistry {
  counter(name: string, help: string, options?: MetricOptions): Counter;
  gauge(name: string, help: string, options?: MetricOptions): Gauge;
  histogram(name: string, help: string, options?: HistogramOptions): Histogram;
}

/** Seconds, for statement latency: 0.5 ms to 10 s. */
export const LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

type Kind = 'counter' | 'gauge' | 'histogram';

interface Family {
  readonly kind: Kind;
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  render(out: string[]): void;
}

function labelKey(names: readonly string[], values: LabelValues): string {
  if (names.length === 0) return '';
  let key = '';
  for (const n of names) key += `${values[n] ?? ''}\u0000`;
  return key;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatLabels(names: readonly string[], values: LabelValues, extra?: string): string {
  const parts: string[] = [];
  for (const n of names) parts.push(`${n}="${escapeLabel(values[n] ?? '')}"`);
  if (extra) parts.push(extra);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function formatLabelObject(values: LabelValues, extra?: string): string {
  return formatLabels(Object.keys(values), values, extra);
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

class Cell implements GaugeChild {
  value = 0;
  constructor(readonly labels: LabelValues) {}
  set(value: number): void { this.value = value; }
  inc(by = 1): void { this.value += by; }
  dec(by = 1): void { this.value -= by; }
}

class ScalarFamily implements Family, Counter, Gauge {
  private readonly cells = new Map<string, Cell>();

  constructor(
    readonly kind: 'counter' | 'gauge',
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    private readonly collect: (() => Collected) | undefined,
  ) {}

  labels(values: LabelValues): Cell {
    const key = labelKey(this.labelNames, values);
    let cell = this.cells.get(key);
    if (!cell) {
      const own: Record<string, string> = {};
      for (const n of this.labelNames) own[n] = values[n] ?? '';
      cell = new Cell(own);
      this.cells.set(key, cell);
    }
    return cell;
  }

  set(value: number): void { this.labels({}).set(value); }
  inc(by = 1): void {
    if (this.kind === 'counter' && by < 0) return;
    this.labels({}).inc(by);
  }
  dec(by = 1): void { this.labels({}).dec(by); }

  render(out: string[]): void {
    if (this.collect) {
      let collected: Collected;
      try {
        collected = this.collect();
      } catch (err) {
        out.push(`# ${this.name}: collect failed: ${String((err as Error)?.message ?? err).replace(/\n/g, ' ')}`);
        return;
      }
      if (typeof collected === 'number') out.push(`${this.name} ${formatNumber(collected)}`);
      else for (const c of collected) out.push(`${this.name}${formatLabelObject(c.labels)} ${formatNumber(c.value)}`);
      return;
    }
    if (this.cells.size === 0 && this.labelNames.length === 0) {
      out.push(`${this.name} 0`);
      return;
    }
    for (const cell of this.cells.values()) {
      out.push(`${this.name}${formatLabels(this.labelNames, cell.labels)} ${formatNumber(cell.value)}`);
    }
  }
}

class Buckets implements HistogramChild {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly labels: LabelValues, private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length).fill(0);
  }
  observe(value: number): void {
    const bounds = this.bounds;
    // Counts are per bucket here and made cumulative at render time: one increment per observation.
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) { this.counts[i]!++; break; }
    }
    this.sum += value;
    this.count++;
  }
}

class HistogramFamily implements Family, Histogram {
  readonly kind = 'histogram' as const;
  private readonly cells = new Map<string, Buckets>();

  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[], private readonly bounds: readonly number[]) {}

  labels(values: LabelValues): Buckets {
    const key = labelKey(this.labelNames, values);
    let cell = this.cells.get(key);
    if (!cell) {
      const own: Record<string, string> = {};
      for (const n of this.labelNames) own[n] = values[n] ?? '';
      cell = new Buckets(own, this.bounds);
      this.cells.set(key, cell);
    }
    return cell;
  }

  observe(value: number): void { this.labels({}).observe(value); }

  render(out: string[]): void {
    for (const cell of this.cells.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += cell.counts[i]!;
        out.push(`${this.name}_bucket${formatLabels(this.labelNames, cell.labels, `le="${formatNumber(this.bounds[i]!)}"`)} ${cumulative}`);
      }
      out.push(`${this.name}_bucket${formatLabels(this.labelNames, cell.labels, 'le="+Inf"')} ${cell.count}`);
      out.push(`${this.name}_sum${formatLabels(this.labelNames, cell.labels)} ${formatNumber(cell.sum)}`);
      out.push(`${this.name}_count${formatLabels(this.labelNames, cell.labels)} ${cell.count}`);
    }
  }
}

/**
 * A small Prometheus registry: counters, gauges and histograms, rendered in the text exposition
 * format 0.0.4. Registering a name again returns the same instrument (plugins re-registering on a
 * restart), or throws when the kind or labels differ.
 */
export class Metrics implements MetricsRegistry {
  private readonly families = new Map<string, Family>();

  counter(name: string, help: string, options: MetricOptions = {}): Counter {
    return this.scalar('counter', name, help, options);
  }

  gauge(name: string, help: string, options: MetricOptions = {}): Gauge {
    return this.scalar('gauge', name, help, options);
  }

  histogram(name: string, help: string, options: HistogramOptions = {}): Histogram {
    const labelNames = this.check(name, options.labelNames ?? [], 'histogram');
    const existing = this.families.get(name);
    if (existing) return existing as HistogramFamily;
    const bounds = [...(options.buckets ?? LATENCY_BUCKETS)].filter((b) => Number.isFinite(b)).sort((a, b) => a - b);
    const family = new HistogramFamily(name, help, labelNames, bounds);
    this.families.set(name, family);
    return family;
  }

  private scalar(kind: 'counter' | 'gauge', name: string, help: string, options: MetricOptions): ScalarFamily {
    const labelNames = this.check(name, options.labelNames ?? [], kind);
    const existing = this.families.get(name);
    if (existing) return existing as ScalarFamily;
    const family = new ScalarFamily(kind, name, help, labelNames, options.collect);
    this.families.set(name, family);
    return family;
  }

  private check(name: string, labelNames: readonly string[], kind: Kind): readonly string[] {
    if (!NAME.test(name)) throw new Error(`metric name "${name}" is not valid (letters, digits, _ and :)`);
    for (const l of labelNames) {
      if (!LABEL.test(l) || l.startsWith('__') || (kind === 'histogram' && l === 'le')) throw new Error(`metric "${name}": label name "${l}" is not valid`);
    }
    const existing = this.families.get(name);
    if (existing && (existing.kind !== kind || existing.labelNames.join(',') !== labelNames.join(','))) {
      throw new Error(`metric "${name}" is already registered as a ${existing.kind} with labels [${existing.labelNames.join(', ')}]`);
    }
    return [...labelNames];
  }

  get names(): readonly string[] { return [...this.families.keys()]; }

  /** The text exposition format 0.0.4 (`Content-Type: text/plain; version=0.0.4`). */
  render(): string {
    const out: string[] = [];
    for (const family of this.families.values()) {
      out.push(`# HELP ${family.name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      out.push(`# TYPE ${family.name} ${family.kind}`);
      family.render(out);
    }
    return out.length === 0 ? '' : `${out.join('\n')}\n`;
  }
}
