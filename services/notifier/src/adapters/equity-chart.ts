/** The equity curve as a PNG for Telegram, drawn with the shared ECharts → SVG → PNG renderer. */
import { CHART_FONT_FAMILY, chartSvg, svgToPng } from '@ibstack/charts';
import { wallClockMs } from '@ibstack/contracts';

import type { EquityPoint } from './pg-queries';

const WIDTH = 900;
const HEIGHT = 450;

export interface EquityChartInput {
  points: readonly EquityPoint[];
  timeZone: string;
  title: string;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `14:00`, or the day (`Wed 3 Dec`) at midnight; the value is a wall-clock time written as UTC. */
function timeLabel(value: number): string {
  const at = new Date(value);
  if (at.getUTCHours() === 0 && at.getUTCMinutes() === 0)
    return `${WEEKDAYS[at.getUTCDay()]} ${at.getUTCDate()} ${MONTHS[at.getUTCMonth()]}`;
  return `${String(at.getUTCHours()).padStart(2, '0')}:${String(at.getUTCMinutes()).padStart(2, '0')}`;
}

/** The chart as SVG text; times are shown as wall clock in `timeZone`. */
export function equityChartSvg(input: EquityChartInput): string {
  const accounts = [...new Set(input.points.map((point) => point.account))];
  return chartSvg(
    {
      // ECharts formats times in UTC when told to; the points are shifted to the zone's wall clock first.
      useUTC: true,
      backgroundColor: '#ffffff',
      textStyle: { fontFamily: CHART_FONT_FAMILY },
      title: {
        text: input.title,
        subtext: `times in ${input.timeZone}`,
        left: 12,
        top: 6,
        itemGap: 4,
        textStyle: { fontSize: 16 },
        subtextStyle: { fontSize: 11 },
      },
      legend: accounts.length > 1 ? { top: 10, right: 12 } : undefined,
      grid: { left: 90, right: 24, top: 62, bottom: 44 },
      xAxis: { type: 'time', axisLabel: { hideOverlap: true, formatter: timeLabel } },
      yAxis: {
        type: 'value',
        scale: true,
        axisLabel: {
          formatter: (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 0 }),
        },
      },
      series: accounts.map((account) => ({
        name: account,
        type: 'line',
        showSymbol: false,
        lineStyle: { width: 2 },
        areaStyle: accounts.length === 1 ? { opacity: 0.08 } : undefined,
        data: input.points
          .filter((point) => point.account === account)
          .map((point) => [wallClockMs(point.at.getTime(), input.timeZone), Number(point.netLiquidation)]),
      })),
    },
    { width: WIDTH, height: HEIGHT },
  );
}

export function equityChartPng(input: EquityChartInput): Buffer {
  return svgToPng(equityChartSvg(input));
}
