import {
  type AccountSnapshot,
  MINUTE_MS,
  type TradingState,
  type TradingStateName,
} from '@ibstack/contracts';
import Decimal from 'decimal.js';

import { tradingDayStart } from './account';
import { MissingFxRateError } from './errors';
import { DEFAULT_FX_RATES_TO_USD, type FxRatesToUsd, toUsd } from './fx';
import type { RiskLimits } from './limits';
import { isReducing, signedQuantity } from './position';

/**
 * Pre-trade risk: one pure function over plain data. The strategy calls it per sleeve before an intent
 * leaves; execution calls it again, at account level, before the order goes to the broker.
 *
 * Invariants:
 * - HALTED blocks everything; REDUCING lets through only orders that shrink a position without flipping it.
 * - Orders that shrink a position are never blocked by position, daily-loss or drawdown limits: getting out
 *   must stay possible when those limits are breached. Order-size and order-rate limits apply to every order.
 * - Quantities and money are decimal.js, never floats.
 * - Without a fresh account snapshot the daily-loss and drawdown rules cannot judge. With `accountMaxAgeMs`
 *   set (execution, the last gate before the broker) that fails closed: orders that add exposure are
 *   blocked (`account_unknown`), orders that shrink a position still pass, with a warning. Without it (the
 *   strategy's sleeve check, which execution checks again) a missing snapshot passes, with a warning.
 * - The daily-loss rule judges the current trading day (17:00 to 17:00 New York) only: a snapshot taken
 *   before the roll carries the previous day's loss, which does not block the new day's orders.
 */

export const RISK_REASONS = [
  'trading_halted',
  'reducing_only',
  'max_position',
  'max_order_notional',
  'max_orders_per_minute',
  'max_daily_loss',
  'drawdown',
  'account_unknown',
] as const;
export type RiskReason = (typeof RISK_REASONS)[number];

/** Which book the positions and limits describe: one sleeve's, or the whole account's. */
export type RiskScope = 'sleeve' | 'account';

export interface ProposedOrder {
  sleeve: string;
  /** Instrument key (`EURCAD`). */
  instrument: string;
  /** Currency the price is quoted in (`CAD` for EUR.CAD), for the USD notional. */
  currency: string;
  side: 'BUY' | 'SELL';
  /** Positive decimal string. */
  quantity: string;
  /** Price the decision was made at; positive decimal string. */
  referencePrice: string;
}

/** Open quantities (positive decimal strings, or zero) of the orders in flight for one instrument, by side. */
export interface PendingOrders {
  buy: string;
  sell: string;
}

export interface RiskInput {
  order: ProposedOrder;
  scope: RiskScope;
  /** Signed positions of the scope by instrument key (decimal strings); a missing key is flat. */
  positions: Readonly<Record<string, string>>;
  /**
   * Orders already sent but not yet done, by instrument key: the open quantities of the buys and of the
   * sells. Those on the order's side count as if filled and those on the other side as if they never fill
   * (each may fill or not): the worst case, so a working sell cannot make room for more buys. @default {}
   */
  pending?: Readonly<Record<string, PendingOrders>>;
  /** The KV `trading/state` value, its bare name, or null when the key is absent (= RUNNING). */
  tradingState: TradingState | TradingStateName | null;
  limits: RiskLimits;
  /** Times (epoch ms) of orders already accepted for the scope, any age; older than 60 s are ignored. */
  recentOrderTimes: readonly number[];
  /** Epoch ms. */
  now: number;
  /** Latest account values from the broker; absent until execution has published one. */
  account?: AccountSnapshot | null;
  /**
   * How old (by its `ts`, the time the broker last sent account values) the snapshot may be. When set, a
   * missing snapshot or an older one blocks every order that does not shrink a position
   * (`account_unknown`): the loss rules cannot judge without the account's value. Unset, a missing snapshot
   * passes with a warning and its age is not checked.
   */
  accountMaxAgeMs?: number;
  /** @default DEFAULT_FX_RATES_TO_USD */
  fxRatesToUsd?: FxRatesToUsd;
}

export type RiskDecision =
  { allowed: true; warnings: string[] } | { allowed: false; reason: RiskReason; detail: string };

function block(reason: RiskReason, detail: string): RiskDecision {
  return { allowed: false, reason, detail };
}

function stateName(state: RiskInput['tradingState']): TradingStateName {
  if (state === null) return 'RUNNING';
  return typeof state === 'string' ? state : state.state;
}

function stateReason(state: RiskInput['tradingState']): string {
  return state !== null && typeof state === 'object' ? ` (${state.reason}, by ${state.by})` : '';
}

export function checkOrder(input: RiskInput): RiskDecision {
  const { order, limits, scope } = input;
  const rates = input.fxRatesToUsd ?? DEFAULT_FX_RATES_TO_USD;
  const quantity = new Decimal(order.quantity);
  const price = new Decimal(order.referencePrice);
  if (!quantity.isFinite() || quantity.lte(0))
    throw new RangeError(`order quantity must be > 0, got ${order.quantity}`);
  if (!price.isFinite() || price.lte(0))
    throw new RangeError(`reference price must be > 0, got ${order.referencePrice}`);

  const position = new Decimal(input.positions[order.instrument] ?? '0');
  const exposure = position.add(pendingFor(input.pending?.[order.instrument], order.side));
  // Reducing means shrinking what is held and what will be held once working orders fill: judged on the
  // exposure alone, a sell against an unfilled buy would pass as "reducing" and could leave a short.
  const reducing = isReducing(position, order.side, quantity) && isReducing(exposure, order.side, quantity);
  const book = `${scope} ${scope === 'sleeve' ? order.sleeve : 'account'}`;

  const state = stateName(input.tradingState);
  if (state === 'HALTED')
    return block('trading_halted', `trading is HALTED${stateReason(input.tradingState)}`);
  if (state === 'REDUCING' && !reducing)
    return block(
      'reducing_only',
      `trading is REDUCING${stateReason(input.tradingState)}; ${order.side} ${order.quantity} ${order.instrument} ` +
        `would not shrink the ${book} position of ${exposure.toFixed()}`,
    );

  const recent = input.recentOrderTimes.filter((time) => time > input.now - MINUTE_MS && time <= input.now);
  if (recent.length >= limits.maxOrdersPerMinute)
    return block(
      'max_orders_per_minute',
      `${recent.length} orders in the last minute for ${book}; the limit is ${limits.maxOrdersPerMinute}`,
    );

  let notionalUsd: Decimal;
  try {
    notionalUsd = toUsd(quantity.mul(price), order.currency, rates);
  } catch (error) {
    // Without a rate the notional is unknown, and an unknown size must not pass a size limit.
    return block('max_order_notional', (error as Error).message);
  }
  if (notionalUsd.gt(limits.maxOrderNotionalUsd))
    return block(
      'max_order_notional',
      `order notional ${notionalUsd.toFixed(2)} USD exceeds ${limits.maxOrderNotionalUsd} USD`,
    );

  if (!reducing) {
    const after = exposure.add(signedQuantity(order.side, quantity));
    const afterUsd = toUsd(after.abs().mul(price), order.currency, rates);
    if (afterUsd.gt(limits.maxPositionUsd))
      return block(
        'max_position',
        `${book} position in ${order.instrument} would be ${after.toFixed()} (${afterUsd.toFixed(2)} USD), ` +
          `over ${limits.maxPositionUsd} USD`,
      );
    const unitCap = limits.maxPositionQuantity[order.instrument];
    if (unitCap !== undefined && after.abs().gt(unitCap))
      return block(
        'max_position',
        `${book} position in ${order.instrument} would be ${after.toFixed()}, over ${unitCap} units`,
      );
  }

  const warnings: string[] = [];
  const account = input.account ?? null;
  const unknown = accountUnknown(account, input.now, input.accountMaxAgeMs);
  if (unknown !== null) {
    if (input.accountMaxAgeMs !== undefined && !reducing)
      return block(
        'account_unknown',
        `${unknown}: the daily-loss and drawdown rules cannot judge, so orders that add exposure wait for a fresh value`,
      );
    warnings.push(`${unknown}: daily-loss and drawdown rules not applied`);
    return { allowed: true, warnings };
  }
  if (account === null) return { allowed: true, warnings };

  const drawdown = new Decimal(account.drawdownPct);
  if (!reducing) {
    // The daily figures are the snapshot's own trading day's (checked only when they would block).
    const dailyLoss = dailyLossBlock(account, limits, rates);
    if (dailyLoss && !ofEarlierTradingDay(account, input.now)) return dailyLoss;
    if (drawdown.gte(limits.drawdownReducePct))
      return block(
        'drawdown',
        `drawdown ${drawdown.toFixed()}% reaches the reducing threshold of ${limits.drawdownReducePct}%`,
      );
  }
  if (drawdown.gte(limits.drawdownWarnPct))
    warnings.push(
      `drawdown ${drawdown.toFixed()}% is past the warning threshold of ${limits.drawdownWarnPct}%`,
    );
  return { allowed: true, warnings };
}

/** The signed change the orders in flight may make on the order's side (see `RiskInput.pending`). */
function pendingFor(pending: PendingOrders | undefined, side: 'BUY' | 'SELL'): Decimal {
  if (pending === undefined) return new Decimal(0);
  return side === 'BUY' ? new Decimal(pending.buy) : new Decimal(pending.sell).neg();
}

/** The daily-loss rule on the snapshot's figures: the block, or null when the loss is within the limits. */
function dailyLossBlock(
  account: AccountSnapshot,
  limits: RiskLimits,
  rates: FxRatesToUsd,
): RiskDecision | null {
  const dailyReturn = new Decimal(account.dailyReturnPct);
  if (dailyReturn.neg().gte(limits.maxDailyLossPct))
    return block(
      'max_daily_loss',
      `daily return ${dailyReturn.toFixed()}% reaches the loss limit of ${limits.maxDailyLossPct}%`,
    );
  if (limits.maxDailyLossUsd === undefined) return null;
  let lossUsd: Decimal;
  try {
    lossUsd = toUsd(new Decimal(account.dailyPnl).neg(), account.currency, rates);
  } catch (error) {
    // An account kept in a currency the table lacks: the loss in USD is unknown, and an unknown loss
    // must not pass a loss limit (nor throw, which would stop every order instead of this one).
    if (!(error instanceof MissingFxRateError)) throw error;
    return block(
      'max_daily_loss',
      `the daily loss is in ${account.currency}, and ${error.message}: the USD loss limit cannot judge`,
    );
  }
  return lossUsd.gte(limits.maxDailyLossUsd)
    ? block(
        'max_daily_loss',
        `daily loss ${lossUsd.toFixed(2)} USD reaches the limit of ${limits.maxDailyLossUsd} USD`,
      )
    : null;
}

/**
 * Whether the snapshot was taken in a trading day that has ended by `now`: its daily P&L and return are
 * that day's. Past the 17:00 New York roll, until the broker sends a value of the new day, the new day has
 * lost nothing yet, so yesterday's loss must not block today's orders (drawdown, not a daily figure, still
 * applies). An unreadable time counts as today's: the figures then judge as they are.
 */
function ofEarlierTradingDay(account: AccountSnapshot, now: number): boolean {
  const ts = Date.parse(account.ts);
  if (!Number.isFinite(ts) || !Number.isFinite(now) || ts >= now) return false;
  return tradingDayStart(ts) < tradingDayStart(now);
}

/** Why the account's value is not known well enough to judge, or null when it is. */
function accountUnknown(account: AccountSnapshot | null, now: number, maxAgeMs?: number): string | null {
  if (account === null) return 'no account snapshot yet';
  if (maxAgeMs === undefined) return null;
  const age = now - Date.parse(account.ts);
  if (!Number.isFinite(age)) return `account snapshot has no readable time (${account.ts})`;
  if (age > maxAgeMs)
    return `account snapshot is ${Math.round(age / 1000)} s old (values of ${account.ts}; limit ${Math.round(maxAgeMs / 1000)} s)`;
  return null;
}

export type DrawdownLevel = 'normal' | 'warning' | 'reducing';

/** Where an account's drawdown stands against the limits; the caller acts on a change of level. */
export function drawdownLevel(
  account: Pick<AccountSnapshot, 'drawdownPct'>,
  limits: RiskLimits,
): DrawdownLevel {
  const drawdown = new Decimal(account.drawdownPct);
  if (drawdown.gte(limits.drawdownReducePct)) return 'reducing';
  if (drawdown.gte(limits.drawdownWarnPct)) return 'warning';
  return 'normal';
}
