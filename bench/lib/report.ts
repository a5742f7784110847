/** One measured figure beside its baseline, measured in the same run. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baselineName: string;
  baseline: number;
  /**
   * `higher` when a bigger value is better (throughput): ratio = value / baseline.
   * `lower` when smaller is better (latency, memory): ratio = value / baseline too, so > 1 means slower.
   */
  better: 'higher' | 'lower';
}

export interface Suite {
  name: string;
  description: string;
  run(context: SuiteContext): Promise<Figure[]>;
}

export interface SuiteContext {
  /** Scales iteration counts; BENCH_SCALE=0.1 for a quick smoke run. */
  scale: number;
  log(message: string): void;
}

function format(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 1000) return Math.round(value).toString();
  if (Math.abs(value) >= 10) return value.toFixed(1);
  if (Math.abs(value) >= 0.1) return value.toFixed(3);
  return value.toPrecision(3);
}

export function formatFigure(figure: Figure): string {
  const ratio = figure.baseline === 0 ? NaN : figure.value / figure.baseline;
  return [
    figure.name.padEnd(44),
    `${format(figure.value)} ${figure.unit}`.padEnd(20),
    `baseline ${figure.baselineName}: ${format(figure.baseline)} ${figure.unit}`.padEnd(56),
    `ratio ${Number.isFinite(ratio) ? ratio.toFixed(2) : 'n/a'} (${figure.better} is better)`,
  ].join('  ');
}
