/**
 * The backtest's chart: the replayed prices with each fill marked (buys ▲ green, sells ▼ red) above the
 * equity curve, on one time axis, as a PNG through the shared ECharts → SVG → resvg renderer.
 */
import { CHART_FONT_FAMILY, type ChartOption, chartSvg, svgToPng } from '@ibstack/charts';

import type { BacktestResult } from './backtest';

const WIDTH = 1200;
const HEIGHT = 700;
/** Points per line; more only blurs at this width. Each bucket keeps its lowest and highest point. */
const MAX_POINTS = 2400;

export function downsample(
  times: ArrayLike<number>,
  values: ArrayLike<number>,
  max = MAX_POINTS,
): Array<[number, number]> {
  const n = Math.min(times.length, values.length);
  if (n <= max) return Array.from({ length: n }, (_, i) => [times[i]!, values[i]!]);
  const buckets = Math.floor(max / 2);
  const size = n / buckets;
  const out: Array<[number, number]> = [];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * size);
    const end = Math.min(n, Math.floor((b + 1) * size));
    let low = start;
    let high = start;
    for (let i = start; i < end; i++) {
      if (values[i]! < values[low]!) low = i;
      if (values[i]! > values[high]!) high = i;
    }
    for (const i of low <= high ? [low, high] : [high, low]) out.push([times[i]!, values[i]!]);
  }
  return out;
}

const money = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 0 });

export function backtestChartSvg(result: BacktestResult, title: string): string {
  const s = result.statistics;
  const subtitle =
    `return ${s.totalReturnPct.toFixed(2)}%   max drawdown ${s.maxDrawdownPct.toFixed(2)}%   ` +
    `Sharpe ${s.sharpe === null ? 'n/a' : s.sharpe.toFixed(2)}   win rate ${s.winRatePct === null ? 'n/a' : `${s.winRatePct.toFixed(1)}%`}   ` +
    `exposure ${s.exposurePct.toFixed(1)}%   fills ${s.fills}   commissions ${s.commissionsUsd.toFixed(2)} USD   (times UTC)`;
  const instruments = [...result.prices.keys()];
  const priceSeries = instruments.map((instrument) => {
    const series = result.prices.get(instrument)!;
    return {
      name: instrument,
      type: 'line' as const,
      xAxisIndex: 0,
      yAxisIndex: 0,
      showSymbol: false,
      lineStyle: { width: 1 },
      data: downsample(series.times, series.closes),
    };
  });
  const marks = (side: 'BUY' | 'SELL') => ({
    name: side === 'BUY' ? 'buys' : 'sells',
    type: 'scatter' as const,
    xAxisIndex: 0,
    yAxisIndex: 0,
    symbol: 'triangle',
    symbolRotate: side === 'BUY' ? 0 : 180,
    symbolSize: result.trades.length > 400 ? 5 : 9,
    itemStyle: { color: side === 'BUY' ? '#16a34a' : '#dc2626' },
    data: result.trades
      .filter((trade) => trade.fill.side === side)
      .map((trade) => [Date.parse(trade.fill.ts), Number(trade.fill.price)]),
  });
  const option: ChartOption = {
    useUTC: true,
    backgroundColor: '#ffffff',
    textStyle: { fontFamily: CHART_FONT_FAMILY },
    title: {
      text: title,
      subtext: subtitle,
      left: 12,
      top: 6,
      itemGap: 6,
      textStyle: { fontSize: 16 },
      subtextStyle: { fontSize: 11, color: '#444' },
    },
    legend: { top: 56, right: 24, data: [...instruments, 'buys', 'sells', 'equity'] },
    grid: [
      { left: 90, right: 24, top: 90, height: 300 },
      { left: 90, right: 24, top: 430, bottom: 40 },
    ],
    xAxis: [
      { type: 'time', gridIndex: 0, axisLabel: { show: false } },
      { type: 'time', gridIndex: 1, axisLabel: { hideOverlap: true } },
    ],
    yAxis: [
      { type: 'value', gridIndex: 0, scale: true, name: 'price', nameGap: 8 },
      {
        type: 'value',
        gridIndex: 1,
        scale: true,
        name: 'equity (USD)',
        nameGap: 8,
        axisLabel: { formatter: (value: number) => money(value) },
      },
    ],
    series: [
      ...priceSeries,
      marks('BUY'),
      marks('SELL'),
      {
        name: 'equity',
        type: 'line',
        xAxisIndex: 1,
        yAxisIndex: 1,
        showSymbol: false,
        lineStyle: { width: 2, color: '#2563eb' },
        itemStyle: { color: '#2563eb' },
        areaStyle: { opacity: 0.08 },
        data: downsample(result.equity.times, result.equity.values),
        // Where the trading state changed (the drawdown rule's REDUCING, typically), so a flat stretch of
        // the curve says why.
        markLine: {
          silent: true,
          symbol: 'none',
          animation: false,
          lineStyle: { color: '#b45309', type: 'dashed', width: 1 },
          label: { position: 'insideEndTop', color: '#b45309', fontSize: 11 },
          data: result.tradingStateChanges.map((change) => ({
            xAxis: Date.parse(change.at),
            label: { formatter: change.state },
          })),
        },
      },
    ],
  };
  return chartSvg(option, { width: WIDTH, height: HEIGHT });
}

export function backtestChartPng(result: BacktestResult, title: string): Buffer {
  return svgToPng(backtestChartSvg(result, title));
}
