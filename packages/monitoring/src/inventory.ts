import { allDashboards } from './dashboards';
import { metricNames, withGrafanaVariablesResolved } from './promql';
import { loadRules } from './rules';

/**
 * The metric names an exposition (Prometheus text format) declares, from its `# TYPE` lines: a
 * histogram is its `_bucket`, `_sum` and `_count` series, a summary its quantiles plus `_sum` and
 * `_count`. A metric with labels but no sample yet is declared all the same.
 */
export function exposedMetricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = match as unknown as [string, string, string];
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(name + suffix);
    else names.add(name);
  }
  return names;
}

export interface ExposedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every sample line of an exposition, with its labels unescaped. */
export function exposedSamples(text: string): ExposedSample[] {
  const samples: ExposedSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1]!] = pair[2]!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    samples.push({ name: match[1]!, labels, value: Number(match[4]) });
  }
  return samples;
}

/** Where each metric is read: `rule <name>` or `dashboard <file> / <panel>`. */
export function usedMetrics(): Map<string, string[]> {
  const used = new Map<string, string[]>();
  const add = (expr: string, user: string) => {
    for (const name of metricNames(expr)) used.set(name, [...(used.get(name) ?? []), user]);
  };
  for (const { rule } of loadRules()) add(rule.expr, `rule ${'alert' in rule ? rule.alert : rule.record}`);
  for (const [file, dashboard] of Object.entries(allDashboards()))
    for (const panel of dashboard.panels ?? [])
      for (const target of (panel as { targets?: Array<{ expr?: string }> }).targets ?? [])
        if (target.expr)
          add(
            withGrafanaVariablesResolved(target.expr),
            `dashboard ${file} / ${(panel as { title?: string }).title}`,
          );
  return used;
}

/** Names that recording rules define (not exported by anything; Prometheus computes them). */
export function recordedMetrics(): Set<string> {
  return new Set(loadRules().flatMap(({ rule }) => ('record' in rule ? [rule.record] : [])));
}
