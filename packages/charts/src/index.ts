/**
 * Charts as images without a browser: ECharts draws the option as SVG on the server (no canvas, no DOM),
 * resvg turns the SVG into a PNG. resvg's binary ships inside npm as a per-platform package
 * (`@resvg/resvg-js-linux-x64-gnu`, …), so nothing is compiled or downloaded at install; the font comes
 * from npm too (DejaVu Sans), so an image looks the same on a slim container without system fonts.
 */
import { Resvg } from '@resvg/resvg-js';
import * as echarts from 'echarts';

export type ChartOption = echarts.EChartsOption;

/** The one font the charts use; resvg is given its files, so no system font is needed. */
export const CHART_FONT_FAMILY = 'DejaVu Sans';

const FONT_FILES = [
  require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
  require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
];

/** An ECharts option rendered to SVG text (no animation; the option's own fonts apply). */
export function chartSvg(option: ChartOption, size: { width: number; height: number }): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, ...size });
  try {
    chart.setOption({ animation: false, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

export function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    background: '#ffffff',
    font: {
      loadSystemFonts: false,
      fontFiles: FONT_FILES,
      defaultFontFamily: CHART_FONT_FAMILY,
      sansSerifFamily: CHART_FONT_FAMILY,
    },
  });
  return resvg.render().asPng();
}
