/**
 * The account as IB reports it: account-summary tags (reqAccountSummary) and account values
 * (reqAccountUpdates), computed from the ledger's figures. Monetary values in USD (the base currency) with
 * two decimals; non-monetary tags carry an empty currency, as IB sends them.
 */
import { formatMoney } from '../protocol/responses';
import type { AccountFigures } from './ledger';

export interface ReportedValue {
  tag: string;
  value: string;
  currency: string;
}

const BASE = 'USD';

/** Tags IB answers for group "All" and tag list "All" (plus RealizedPnL/UnrealizedPnL, as $LEDGER reports). */
export function summaryValues(figures: AccountFigures, accountType = 'INDIVIDUAL'): ReportedValue[] {
  const money = (tag: string, value: number): ReportedValue => ({
    tag,
    value: formatMoney(value),
    currency: BASE,
  });
  const plain = (tag: string, value: string): ReportedValue => ({ tag, value, currency: '' });
  const cushion = figures.netLiquidation > 0 ? figures.excessLiquidity / figures.netLiquidation : 0;
  const leverage = figures.netLiquidation > 0 ? figures.grossPositionValue / figures.netLiquidation : 0;
  return [
    plain('AccountType', accountType),
    money('NetLiquidation', figures.netLiquidation),
    money('TotalCashValue', figures.totalCashValue),
    money('SettledCash', figures.totalCashValue),
    money('AccruedCash', 0),
    money('BuyingPower', figures.buyingPower),
    money('EquityWithLoanValue', figures.netLiquidation),
    money('PreviousDayEquityWithLoanValue', figures.netLiquidation),
    money('GrossPositionValue', figures.grossPositionValue),
    money('RegTEquity', figures.netLiquidation),
    money('RegTMargin', figures.initialMargin),
    money('SMA', Math.max(0, figures.availableFunds)),
    money('InitMarginReq', figures.initialMargin),
    money('MaintMarginReq', figures.maintenanceMargin),
    money('AvailableFunds', figures.availableFunds),
    money('ExcessLiquidity', figures.excessLiquidity),
    plain('Cushion', cushion.toFixed(6)),
    money('FullInitMarginReq', figures.initialMargin),
    money('FullMaintMarginReq', figures.maintenanceMargin),
    money('FullAvailableFunds', figures.availableFunds),
    money('FullExcessLiquidity', figures.excessLiquidity),
    plain('LookAheadNextChange', '0'),
    money('LookAheadInitMarginReq', figures.initialMargin),
    money('LookAheadMaintMarginReq', figures.maintenanceMargin),
    money('LookAheadAvailableFunds', figures.availableFunds),
    money('LookAheadExcessLiquidity', figures.excessLiquidity),
    plain('HighestSeverity', '0'),
    plain('DayTradesRemaining', '-1'),
    plain('Leverage', leverage.toFixed(4)),
    money('RealizedPnL', figures.realizedPnl),
    money('UnrealizedPnL', figures.unrealizedPnl),
  ];
}

/** The tags a reqAccountSummary asks for: "All", a list, or `$LEDGER[:ALL|:CCY]`. */
export function selectSummary(
  all: readonly ReportedValue[],
  figures: AccountFigures,
  tags: string,
): ReportedValue[] {
  const requested = tags
    .split(',')
    .map((tag) => tag.trim())
    .filter(Boolean);
  const out: ReportedValue[] = [];
  for (const tag of requested) {
    if (tag.toLowerCase() === 'all') out.push(...all);
    else if (tag.toUpperCase().startsWith('$LEDGER')) out.push(...ledgerValues(figures, tag.toUpperCase()));
    else {
      const found = all.find((value) => value.tag.toLowerCase() === tag.toLowerCase());
      if (found) out.push(found);
    }
  }
  return out;
}

function ledgerValues(figures: AccountFigures, tag: string): ReportedValue[] {
  const currency = tag.includes(':') ? tag.split(':')[1]! : 'BASE';
  const currencies =
    currency === 'ALL'
      ? ['BASE', ...Object.keys(figures.cashByCurrency)]
      : [currency === 'USD' ? 'USD' : currency];
  const out: ReportedValue[] = [];
  for (const name of currencies) {
    const isBase = name === 'BASE';
    const cash = isBase ? figures.totalCashValue : (figures.cashByCurrency[name] ?? 0);
    out.push(
      { tag: 'CashBalance', value: formatMoney(cash), currency: name },
      { tag: 'TotalCashBalance', value: formatMoney(cash), currency: name },
      {
        tag: 'NetLiquidationByCurrency',
        value: formatMoney(isBase ? figures.netLiquidation : cash),
        currency: name,
      },
      {
        tag: 'RealizedPnL',
        value: formatMoney(isBase || name === BASE ? figures.realizedPnl : 0),
        currency: name,
      },
      {
        tag: 'UnrealizedPnL',
        value: formatMoney(isBase || name === BASE ? figures.unrealizedPnl : 0),
        currency: name,
      },
      {
        tag: 'StockMarketValue',
        value: formatMoney(isBase || name === BASE ? figures.stockMarketValue : 0),
        currency: name,
      },
    );
  }
  return out;
}

/** The values reqAccountUpdates streams (key, value, currency), with per-currency cash and rates. */
export function accountUpdateValues(
  figures: AccountFigures,
  account: string,
  toUsd: (currency: string) => number,
  accountType = 'INDIVIDUAL',
): ReportedValue[] {
  const values: ReportedValue[] = [
    { tag: 'AccountCode', value: account, currency: '' },
    { tag: 'AccountReady', value: 'true', currency: '' },
    { tag: 'AccountOrGroup', value: account, currency: BASE },
    { tag: 'Currency', value: BASE, currency: BASE },
  ];
  for (const summary of summaryValues(figures, accountType)) {
    values.push(summary);
  }
  values.push(
    { tag: 'StockMarketValue', value: formatMoney(figures.stockMarketValue), currency: BASE },
    { tag: 'CashBalance', value: formatMoney(figures.totalCashValue), currency: 'BASE' },
    { tag: 'TotalCashBalance', value: formatMoney(figures.totalCashValue), currency: 'BASE' },
    { tag: 'NetLiquidationByCurrency', value: formatMoney(figures.netLiquidation), currency: 'BASE' },
    { tag: 'RealizedPnL', value: formatMoney(figures.realizedPnl), currency: 'BASE' },
    { tag: 'UnrealizedPnL', value: formatMoney(figures.unrealizedPnl), currency: 'BASE' },
  );
  for (const [currency, amount] of Object.entries(figures.cashByCurrency)) {
    values.push(
      { tag: 'CashBalance', value: formatMoney(amount), currency },
      { tag: 'TotalCashBalance', value: formatMoney(amount), currency },
      { tag: 'ExchangeRate', value: toUsd(currency).toFixed(8), currency },
    );
  }
  return values;
}

/** The programmatic view: base values under their tag, per-currency ones as `Tag.CCY`. */
export function valuesRecord(values: readonly ReportedValue[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (const value of values) {
    if (value.currency === '' || value.currency === BASE) {
      if (!(value.tag in record)) record[value.tag] = value.value;
    } else {
      record[`${value.tag}.${value.currency}`] = value.value;
    }
  }
  return record;
}
