export * from './config';
export * from './service';
export * from './errors';
export { equityChartPng, equityChartSvg } from './adapters/equity-chart';
