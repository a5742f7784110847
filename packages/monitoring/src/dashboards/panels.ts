/**
 * Small builders over the Grafana Foundation SDK for the panels our dashboards use: every panel and
 * query on the provisioned Prometheus datasource, units and thresholds in one place.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as BarGaugeBuilder } from '@grafana/grafana-foundation-sdk/bargauge';
import { PanelBuilder as HeatmapBuilder } from '@grafana/grafana-foundation-sdk/heatmap';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelineBuilder } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

/** The uid of the datasource in grafana/provisioning/datasources/prometheus.yml. */
export const PROMETHEUS_DATASOURCE_UID = 'prometheus';
export const PROMETHEUS: dashboard.DataSourceRef = { type: 'prometheus', uid: PROMETHEUS_DATASOURCE_UID };

export interface Query {
  expr: string;
  /** Legend template (`{{instrument}}`); @default auto */
  legend?: string;
  /** One value at the end of the range instead of a series. */
  instant?: boolean;
  /** Histogram buckets (`le`) for a heatmap. */
  heatmap?: boolean;
}

export interface PanelOptions {
  title: string;
  description?: string;
  queries: Query[];
  /** Grafana unit id (`currencyUSD`, `percent`, `percentunit`, `s`, `bytes`, `ops`, `short`). */
  unit?: string;
  /** Width in 1/24ths of the row. @default 12 */
  span?: number;
  height?: number;
  min?: number;
  max?: number;
  decimals?: number;
  /** Colour steps: [value, colour]; the first applies from minus infinity. */
  thresholds?: Array<[number | null, string]>;
  mappings?: dashboard.ValueMapping[];
}

const REF_IDS = 'ABCDEFGHIJ';

function thresholdsOf(steps: Array<[number | null, string]>): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps(steps.map(([value, color]) => ({ value, color })));
}

type AnyPanelBuilder =
  TimeseriesBuilder | StatBuilder | StateTimelineBuilder | BarGaugeBuilder | HeatmapBuilder;

function configure<B extends AnyPanelBuilder>(builder: B, options: PanelOptions): B {
  builder
    .title(options.title)
    .datasource(PROMETHEUS)
    .span(options.span ?? 12)
    .height(options.height ?? 8);
  if (options.description) builder.description(options.description);
  if (options.unit) builder.unit(options.unit);
  if (options.min !== undefined) builder.min(options.min);
  if (options.max !== undefined) builder.max(options.max);
  if (options.decimals !== undefined) builder.decimals(options.decimals);
  if (options.thresholds) builder.thresholds(thresholdsOf(options.thresholds));
  if (options.mappings) builder.mappings(options.mappings);
  options.queries.forEach((query, index) => {
    const target = new DataqueryBuilder()
      .datasource(PROMETHEUS)
      .refId(REF_IDS[index]!)
      .expr(query.expr)
      .legendFormat(query.legend ?? '__auto');
    if (query.instant) target.instant();
    else target.range();
    if (query.heatmap) target.format(PromQueryFormat.Heatmap).legendFormat('{{le}}');
    builder.withTarget(target);
  });
  return builder;
}

export function timeseries(
  options: PanelOptions & { stacked?: boolean; thresholdLines?: boolean; bars?: boolean },
): TimeseriesBuilder {
  const builder = configure(new TimeseriesBuilder(), options)
    .lineWidth(1)
    .fillOpacity(options.stacked ? 40 : 10)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom),
    );
  if (options.bars) builder.drawStyle(common.GraphDrawStyle.Bars);
  if (options.stacked) builder.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  if (options.thresholdLines)
    builder.thresholdsStyle(
      new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed),
    );
  return builder;
}

export function stat(options: PanelOptions & { showName?: boolean }): StatBuilder {
  return configure(new StatBuilder(), { span: 4, height: 4, ...options })
    .colorMode(common.BigValueColorMode.Background)
    .graphMode(common.BigValueGraphMode.None)
    .textMode(options.showName ? common.BigValueTextMode.Name : common.BigValueTextMode.Auto)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
}

export function stateTimeline(options: PanelOptions): StateTimelineBuilder {
  return configure(new StateTimelineBuilder(), options)
    .showValue(common.VisibilityMode.Never)
    .mergeValues(true);
}

export function barGauge(options: PanelOptions): BarGaugeBuilder {
  return configure(new BarGaugeBuilder(), options)
    .orientation(common.VizOrientation.Horizontal)
    .displayMode(common.BarGaugeDisplayMode.Gradient)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
}

export function heatmap(options: PanelOptions): HeatmapBuilder {
  return configure(new HeatmapBuilder(), options);
}

/** Values to text and colour: `{ 1: ['up', 'green'], 0: ['down', 'red'] }`. */
export function valueMapping(values: Record<string, [string, string]>): dashboard.ValueMapping[] {
  return [
    {
      type: dashboard.MappingType.ValueToText,
      options: Object.fromEntries(
        Object.entries(values).map(([value, [text, color]], index) => [value, { text, color, index }]),
      ),
    },
  ];
}

/** 1 → `on` (green), 0 → `off` (red): for up/ready/connected gauges. */
export const upDownMapping = (on: string, off: string) => valueMapping({ 1: [on, 'green'], 0: [off, 'red'] });

export const row = (title: string) => new dashboard.RowBuilder(title);
