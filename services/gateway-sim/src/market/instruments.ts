/**
 * The simulator's instrument table: what IB would answer to reqContractDetails for the pairs and stocks the
 * stack trades. Forex crosses are priced from their USD legs (EUR.CAD = EUR.USD × USD.CAD), so the table
 * is free of triangular arbitrage and P&L conversion uses the same rates the quotes show.
 */
import { instrumentKey } from '@ibstack/contracts';

import { UnknownInstrumentError } from '../errors';

export type ScheduleKind = 'forex' | 'us-equity';

export interface PriceDynamics {
  /** Anchor mid price; the walk wanders around it. */
  level: number;
  /** Annualised volatility of log returns. */
  annualVolatility: number;
  /** Typical spread in ticks (the quote varies between this and twice this). */
  spreadTicks: number;
  /** Top-of-book size range, in units (shares or base currency), and its step. */
  minBookSize: number;
  maxBookSize: number;
  bookSizeStep: number;
}

export interface SimInstrument {
  /** Subject-safe key (`EURCAD`, `AAPL`), as in packages/contracts. */
  key: string;
  /** Display name (`EUR.CAD`, `AAPL`). */
  label: string;
  conId: number;
  symbol: string;
  secType: 'CASH' | 'STK';
  exchange: string;
  primaryExchange: string;
  currency: string;
  localSymbol: string;
  tradingClass: string;
  marketName: string;
  longName: string;
  minTick: number;
  /** Decimals used to print prices (from minTick). */
  priceDecimals: number;
  minSize: number;
  sizeIncrement: number;
  suggestedSizeIncrement: number;
  timeZoneId: string;
  schedule: ScheduleKind;
  orderTypes: string;
  validExchanges: string;
  marketRuleIds: string;
  industry: string;
  category: string;
  subcategory: string;
  stockType: string;
  aggGroup: number;
  secIds: ReadonlyArray<{ tag: string; value: string }>;
  /** How the mid is formed: its own walk, or a product/quotient of two USD legs. */
  pricing:
    | { kind: 'walk'; dynamics: PriceDynamics }
    | { kind: 'cross'; legs: [string, string]; combine: 'multiply' | 'divide'; dynamics: PriceDynamics };
}

const FOREX_ORDER_TYPES =
  'ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,CASHQTY,COND,CONDORDER,DAY,DEACT,DEACTDIS,DEACTEOD,GAT,GTC,GTD,GTT,HID,IOC,LIT,LMT,MIT,MKT,NONALGO,OCA,REL,RELPCTOFS,SCALE,SCALERST,STP,STPLMT,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF';
const STOCK_ORDER_TYPES =
  'ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AON,AVGCOST,BASKET,BENCHPX,CASHQTY,COND,CONDORDER,DARKONLY,DARKPOLL,DAY,DEACT,DEACTDIS,DEACTEOD,DIS,DUR,GAT,GTC,GTD,GTT,HID,IBKRATS,ICE,IMB,IOC,LIT,LMT,LOC,MIDPX,MIT,MKT,MOC,MTL,NGCOMB,NODARK,NONALGO,OCA,OPG,OPGREROUT,PEGBENCH,PEGMID,POSTATS,POSTONLY,PREOPGRTH,PRICECHK,REL,REL2MID,RELPCTOFS,RPI,RTH,SCALE,SCALEODD,SCALERST,SIZECHK,SNAPMID,SNAPMKT,SNAPREL,STP,STPLMT,SWEEP,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF';
const STOCK_EXCHANGES =
  'SMART,AMEX,NYSE,CBOE,PHLX,ISE,CHX,ARCA,NASDAQ,DRCTEDGE,BEX,BATS,EDGEA,BYX,IEX,EDGX,FOXRIVER,PEARL,NYSENAT,LTSE,MEMX,IBEOS,OVERNIGHT,TPLUS0,PSX';

const CURRENCY_NAMES: Record<string, string> = {
  EUR: 'European Monetary Union Euro',
  GBP: 'British pound',
  AUD: 'Australian dollar',
  NZD: 'New Zealand dollar',
  USD: 'US dollar',
};

function decimalsOf(tick: number): number {
  const text = tick.toString();
  if (text.includes('e-')) return Number(text.split('e-')[1]);
  return text.includes('.') ? text.split('.')[1]!.length : 0;
}

function forexDynamics(level: number, annualVolatility: number, spreadTicks: number): PriceDynamics {
  return {
    level,
    annualVolatility,
    spreadTicks,
    minBookSize: 1_000_000,
    maxBookSize: 5_000_000,
    bookSizeStep: 100_000,
  };
}

function pair(
  base: string,
  quote: string,
  conId: number,
  minTick: number,
  pricing: SimInstrument['pricing'],
): SimInstrument {
  const label = `${base}.${quote}`;
  return {
    key: instrumentKey({ symbol: base, secType: 'CASH', currency: quote }),
    label,
    conId,
    symbol: base,
    secType: 'CASH',
    exchange: 'IDEALPRO',
    primaryExchange: '',
    currency: quote,
    localSymbol: label,
    tradingClass: label,
    marketName: label,
    longName: CURRENCY_NAMES[base] ?? base,
    minTick,
    priceDecimals: decimalsOf(minTick),
    minSize: 1,
    sizeIncrement: 1,
    suggestedSizeIncrement: 1,
    timeZoneId: 'US/Eastern',
    schedule: 'forex',
    orderTypes: FOREX_ORDER_TYPES,
    validExchanges: 'IDEALPRO',
    marketRuleIds: minTick < 0.001 ? '239' : '240',
    industry: '',
    category: '',
    subcategory: '',
    stockType: '',
    aggGroup: 4,
    secIds: [],
    pricing,
  };
}

function walkPair(base: string, quote: string, conId: number, minTick: number, level: number, vol: number) {
  return pair(base, quote, conId, minTick, { kind: 'walk', dynamics: forexDynamics(level, vol, 1) });
}

function crossPair(
  base: string,
  quote: string,
  conId: number,
  minTick: number,
  legs: [string, string],
  combine: 'multiply' | 'divide',
  level: number,
) {
  return pair(base, quote, conId, minTick, {
    kind: 'cross',
    legs,
    combine,
    dynamics: forexDynamics(level, 0, 2),
  });
}

function stock(options: {
  symbol: string;
  conId: number;
  primaryExchange: string;
  longName: string;
  marketName: string;
  level: number;
  annualVolatility: number;
  industry: string;
  category: string;
  subcategory: string;
  stockType?: string;
  isin: string;
}): SimInstrument {
  return {
    key: options.symbol,
    label: options.symbol,
    conId: options.conId,
    symbol: options.symbol,
    secType: 'STK',
    exchange: 'SMART',
    primaryExchange: options.primaryExchange,
    currency: 'USD',
    localSymbol: options.symbol,
    tradingClass: options.marketName,
    marketName: options.marketName,
    longName: options.longName,
    minTick: 0.01,
    priceDecimals: 2,
    minSize: 1,
    sizeIncrement: 1,
    suggestedSizeIncrement: 100,
    timeZoneId: 'US/Eastern',
    schedule: 'us-equity',
    orderTypes: STOCK_ORDER_TYPES,
    validExchanges: STOCK_EXCHANGES,
    marketRuleIds: '26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26',
    industry: options.industry,
    category: options.category,
    subcategory: options.subcategory,
    stockType: options.stockType ?? 'COMMON',
    aggGroup: 1,
    secIds: [{ tag: 'ISIN', value: options.isin }],
    pricing: {
      kind: 'walk',
      dynamics: {
        level: options.level,
        annualVolatility: options.annualVolatility,
        spreadTicks: 1,
        minBookSize: 100,
        maxBookSize: 1_500,
        bookSizeStep: 100,
      },
    },
  };
}

/**
 * The built-in table. EUR.CAD comes first (the stack's default pair). EUR.USD and AAPL carry their real
 * IB conIds; the others are stable, unique and non-zero, which is all `@stoqey/ib` needs.
 */
export const BUILT_IN_INSTRUMENTS: readonly SimInstrument[] = [
  crossPair('EUR', 'CAD', 15016065, 0.00005, ['EURUSD', 'USDCAD'], 'multiply', 1.475),
  walkPair('EUR', 'USD', 12087792, 0.00005, 1.085, 0.07),
  walkPair('GBP', 'USD', 12087797, 0.00005, 1.27, 0.08),
  walkPair('USD', 'JPY', 15016059, 0.005, 150.0, 0.09),
  walkPair('USD', 'CAD', 15016062, 0.00005, 1.36, 0.06),
  walkPair('AUD', 'USD', 14433401, 0.00005, 0.66, 0.1),
  walkPair('USD', 'CHF', 12087820, 0.00005, 0.88, 0.075),
  walkPair('NZD', 'USD', 39453441, 0.00005, 0.61, 0.1),
  crossPair('EUR', 'GBP', 12087807, 0.00005, ['EURUSD', 'GBPUSD'], 'divide', 0.855),
  crossPair('EUR', 'JPY', 14321016, 0.005, ['EURUSD', 'USDJPY'], 'multiply', 162.75),
  crossPair('EUR', 'CHF', 12087817, 0.00005, ['EURUSD', 'USDCHF'], 'multiply', 0.955),
  crossPair('GBP', 'JPY', 14321015, 0.005, ['GBPUSD', 'USDJPY'], 'multiply', 190.5),
  stock({
    symbol: 'AAPL',
    conId: 265598,
    primaryExchange: 'NASDAQ',
    longName: 'APPLE INC',
    marketName: 'NMS',
    level: 190,
    annualVolatility: 0.25,
    industry: 'Technology',
    category: 'Computers',
    subcategory: 'Computers',
    isin: 'US0378331005',
  }),
  stock({
    symbol: 'MSFT',
    conId: 272093,
    primaryExchange: 'NASDAQ',
    longName: 'MICROSOFT CORP',
    marketName: 'NMS',
    level: 410,
    annualVolatility: 0.24,
    industry: 'Technology',
    category: 'Software',
    subcategory: 'Applications Software',
    isin: 'US5949181045',
  }),
  stock({
    symbol: 'SPY',
    conId: 756733,
    primaryExchange: 'ARCA',
    longName: 'SPDR S&P 500 ETF TRUST',
    marketName: 'SPY',
    level: 510,
    annualVolatility: 0.15,
    industry: 'Funds',
    category: 'Equity Fund',
    subcategory: 'Growth-Large Cap',
    stockType: 'ETF',
    isin: 'US78462F1030',
  }),
  stock({
    symbol: 'QQQ',
    conId: 320227571,
    primaryExchange: 'NASDAQ',
    longName: 'INVESCO QQQ TRUST SERIES 1',
    marketName: 'NMS',
    level: 440,
    annualVolatility: 0.2,
    industry: 'Funds',
    category: 'Equity Fund',
    subcategory: 'Growth-Large Cap',
    stockType: 'ETF',
    isin: 'US46090E1038',
  }),
  stock({
    symbol: 'AMZN',
    conId: 3691937,
    primaryExchange: 'NASDAQ',
    longName: 'AMAZON.COM INC',
    marketName: 'NMS',
    level: 180,
    annualVolatility: 0.3,
    industry: 'Communications',
    category: 'Internet',
    subcategory: 'E-Commerce/Products',
    isin: 'US0231351067',
  }),
  stock({
    symbol: 'TSLA',
    conId: 76792991,
    primaryExchange: 'NASDAQ',
    longName: 'TESLA INC',
    marketName: 'NMS',
    level: 200,
    annualVolatility: 0.55,
    industry: 'Consumer, Cyclical',
    category: 'Auto Manufacturers',
    subcategory: 'Auto-Cars/Light Trucks',
    isin: 'US88160R1014',
  }),
  stock({
    symbol: 'IBM',
    conId: 8314,
    primaryExchange: 'NYSE',
    longName: 'INTL BUSINESS MACHINES CORP',
    marketName: 'IBM',
    level: 185,
    annualVolatility: 0.2,
    industry: 'Technology',
    category: 'Computers',
    subcategory: 'Computer Services',
    isin: 'US4592001014',
  }),
];

/** A contract as the client sends it: every field may be empty. */
export interface ContractQuery {
  conId?: number;
  symbol: string;
  secType: string;
  exchange: string;
  primaryExchange: string;
  currency: string;
  localSymbol: string;
  tradingClass: string;
}

export class InstrumentTable {
  private readonly byKey = new Map<string, SimInstrument>();
  private readonly byConId = new Map<number, SimInstrument>();

  constructor(readonly all: readonly SimInstrument[] = BUILT_IN_INSTRUMENTS) {
    for (const instrument of all) {
      if (this.byKey.has(instrument.key) || this.byConId.has(instrument.conId)) {
        throw new Error(`duplicate instrument ${instrument.key}/${instrument.conId}`);
      }
      this.byKey.set(instrument.key, instrument);
      this.byConId.set(instrument.conId, instrument);
    }
  }

  /** By key (`EURCAD`), label (`EUR.CAD`) or conId; throws UnknownInstrumentError. */
  get(name: string | number): SimInstrument {
    const found = this.find(name);
    if (!found) throw new UnknownInstrumentError(String(name));
    return found;
  }

  find(name: string | number): SimInstrument | undefined {
    if (typeof name === 'number') return this.byConId.get(name);
    const text = name.trim().toUpperCase();
    return this.byKey.get(text) ?? this.byKey.get(text.replace(/[^A-Z0-9_]/g, ''));
  }

  /**
   * Every instrument a (possibly partial) contract matches, as IB's contract search: conId wins; otherwise
   * each non-empty field must match. An exchange that is not one the instrument trades on matches nothing.
   */
  match(query: ContractQuery): SimInstrument[] {
    if (query.conId !== undefined && query.conId > 0) {
      const byId = this.byConId.get(query.conId);
      if (!byId) return [];
      return exchangeMatches(byId, query.exchange) ? [byId] : [];
    }
    const upper = (value: string) => value.trim().toUpperCase();
    const symbol = upper(query.symbol);
    const localSymbol = upper(query.localSymbol);
    if (!symbol && !localSymbol) return [];
    return this.all.filter((instrument) => {
      if (symbol && instrument.symbol !== symbol) return false;
      if (localSymbol && instrument.localSymbol !== localSymbol) return false;
      if (query.secType && upper(query.secType) !== instrument.secType) return false;
      if (query.currency && upper(query.currency) !== instrument.currency) return false;
      if (query.tradingClass && upper(query.tradingClass) !== instrument.tradingClass) return false;
      if (query.primaryExchange && !primaryMatches(instrument, upper(query.primaryExchange))) return false;
      return exchangeMatches(instrument, query.exchange);
    });
  }

  /** The one instrument an order or a data request means; undefined when none or ambiguous. */
  resolve(query: ContractQuery): SimInstrument | undefined {
    const matches = this.match(query);
    return matches.length === 1 ? matches[0] : undefined;
  }
}

function primaryMatches(instrument: SimInstrument, primary: string): boolean {
  return instrument.secType === 'CASH' || instrument.primaryExchange === primary;
}

function exchangeMatches(instrument: SimInstrument, exchange: string): boolean {
  const value = exchange.trim().toUpperCase();
  if (!value) return true;
  if (instrument.secType === 'CASH') return value === 'IDEALPRO';
  return (
    value === 'SMART' ||
    value === instrument.primaryExchange ||
    instrument.validExchanges.split(',').includes(value)
  );
}
