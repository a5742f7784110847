import { buildDashboard, HOLDER } from './dashboard';
import { stat, timeseries } from './panels';

const holder = (metric: string) => `max(${metric} and ${HOLDER})`;

/** NAV, P&L, drawdown and exposure: the account as the execution lease holder sees it. */
export const tradingDashboard = () =>
  buildDashboard({
    uid: 'ibstack-trading',
    title: 'ibstack · Trading',
    description:
      'Account value, daily P&L and return, drawdown from the high-water mark, exposure by sleeve.',
    rows: [
      [
        'Account',
        [
          stat({
            title: 'NAV',
            unit: 'currencyUSD',
            queries: [{ expr: holder('strategy_nav_usd'), legend: 'NAV' }],
            thresholds: [[null, 'blue']],
          }),
          stat({
            title: 'Daily P&L',
            unit: 'currencyUSD',
            queries: [{ expr: holder('strategy_daily_pnl_usd'), legend: 'P&L' }],
            thresholds: [
              [null, 'red'],
              [0, 'green'],
            ],
          }),
          stat({
            title: 'Daily return',
            unit: 'percent',
            decimals: 2,
            queries: [{ expr: holder('strategy_daily_return_pct'), legend: 'return' }],
            thresholds: [
              [null, 'red'],
              [0, 'green'],
            ],
          }),
          stat({
            title: 'Drawdown',
            description: 'Below the high-water mark. Alerts: warning at 5 %, critical at 10 %.',
            unit: 'percent',
            decimals: 2,
            queries: [{ expr: holder('strategy_drawdown_pct'), legend: 'drawdown' }],
            thresholds: [
              [null, 'green'],
              [5, 'orange'],
              [10, 'red'],
            ],
          }),
          stat({
            title: 'High-water mark',
            unit: 'currencyUSD',
            queries: [{ expr: holder('strategy_hwm_usd'), legend: 'HWM' }],
            thresholds: [[null, 'blue']],
          }),
          stat({
            title: 'Trading state',
            description: 'RUNNING, REDUCING (only orders that shrink a position) or HALTED, with the reason.',
            showName: true,
            queries: [
              { expr: 'max by (state, reason) (trading_state_info == 1)', legend: '{{state}}: {{reason}}' },
            ],
            thresholds: [[null, 'green']],
          }),
        ],
      ],
      [
        'Over time',
        [
          timeseries({
            title: 'NAV and high-water mark',
            unit: 'currencyUSD',
            queries: [
              { expr: holder('strategy_nav_usd'), legend: 'NAV' },
              { expr: holder('strategy_hwm_usd'), legend: 'high-water mark' },
            ],
          }),
          timeseries({
            title: 'Drawdown',
            unit: 'percent',
            min: 0,
            thresholdLines: true,
            thresholds: [
              [null, 'green'],
              [5, 'orange'],
              [10, 'red'],
            ],
            queries: [{ expr: holder('strategy_drawdown_pct'), legend: 'drawdown' }],
          }),
          timeseries({
            title: 'Daily P&L and return',
            unit: 'currencyUSD',
            queries: [{ expr: holder('strategy_daily_pnl_usd'), legend: 'P&L (USD)' }],
          }),
          timeseries({
            title: 'Daily return',
            unit: 'percent',
            queries: [{ expr: holder('strategy_daily_return_pct'), legend: 'return' }],
          }),
        ],
      ],
      [
        'Exposure',
        [
          timeseries({
            title: 'Gross and net exposure',
            unit: 'currencyUSD',
            queries: [
              { expr: 'max(portfolio_gross_exposure_usd)', legend: 'gross' },
              { expr: 'max(portfolio_net_exposure_usd)', legend: 'net' },
            ],
          }),
          timeseries({
            title: 'Sleeve exposure (% of its capital)',
            unit: 'percent',
            queries: [{ expr: 'max by (sleeve) (sleeve_exposure_pct)', legend: '{{sleeve}}' }],
          }),
          timeseries({
            title: 'Sleeve P&L',
            description: 'Realized plus unrealized, less commissions.',
            unit: 'currencyUSD',
            span: 24,
            queries: [{ expr: 'max by (sleeve) (sleeve_pnl_usd)', legend: '{{sleeve}}' }],
          }),
        ],
      ],
    ],
  });
