import type { parser as LezerParser } from '@prometheus-io/lezer-promql' with { 'resolution-mode': 'import' };

// The package ships a CommonJS build but declares its types for ESM only.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parser } = require('@prometheus-io/lezer-promql') as { parser: typeof LezerParser };

export class PromqlSyntaxError extends Error {
  override readonly name = 'PromqlSyntaxError';
  constructor(
    readonly expr: string,
    readonly position: number,
  ) {
    super(`PromQL syntax error at ${position}: ${expr.slice(Math.max(0, position - 20), position + 20)}`);
  }
}

/**
 * The metric names an expression selects (`rate(foo_total[5m]) / bar` → foo_total, bar). Parsed with
 * Prometheus's own Lezer grammar, so names inside label values or strings never count.
 */
export function metricNames(expr: string): string[] {
  const tree = parser.parse(expr);
  const names = new Set<string>();
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) throw new PromqlSyntaxError(expr, node.from);
      if (node.name !== 'VectorSelector') return;
      const identifier = node.node.getChild('Identifier');
      if (identifier) names.add(expr.slice(identifier.from, identifier.to));
    },
  });
  return [...names];
}

/** Grafana's range variables replaced by durations, so Prometheus tools can check a panel's query. */
export function withGrafanaVariablesResolved(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$__range', '1h');
}
