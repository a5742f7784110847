import {
  type AccountSnapshot,
  type AuditEntry,
  deriveIntentId,
  formatIsoMs,
  type InstrumentKey,
  type OrderIntent,
  type Timeframe,
  type TradingState,
} from '@ibstack/contracts';
import {
  checkOrder,
  type FxRatesToUsd,
  type PendingOrders,
  reducingQuantity,
  type RiskLimits,
  type RiskReason,
} from '@ibstack/risk';
import Decimal from 'decimal.js';

import type { CandidateOrder } from './orders';
import type { SleeveBook } from './sleeve-book';

/**
 * Turns one trigger's candidate orders into intents and runs pre-trade risk on each. Pure: the caller
 * reads the trading state, the account snapshot and the clock, and stores and publishes the result.
 *
 * Invariants:
 * - An intent's id derives from (sleeve, instrument, trigger instrument and time, sequence), so the same trigger
 *   processed again yields the same ids.
 * - Orders of one sleeve see each other: an accepted order counts as in flight and as a recent order for
 *   the ones after it, so together they cannot break a limit that each alone would keep. Buys and sells in
 *   flight go to the risk check apart, so a working order on one side never makes room on the other.
 * - A flip that a rule blocks but whose close it would let through is cut to the close (same id).
 */

/** What the intents derive from. */
export interface Trigger {
  /** The market-data time the intents derive from (bar open time, or a tick's time). */
  ts: string;
  /** The instrument of that bar or tick: part of the id, so two instruments' triggers at one time differ. */
  instrument: InstrumentKey;
  timeframe: Timeframe;
  /** Tick-driven intents number from here, so they never share an id with a bar's. */
  sequenceBase: number;
}

/** What the risk check needs of a sleeve. */
export interface RiskSleeve {
  readonly config: {
    readonly name: string;
    readonly instruments: ReadonlyArray<{ readonly key: InstrumentKey }>;
    readonly risk: RiskLimits;
  };
  /** Times (epoch ms) of the sleeve's accepted orders. */
  readonly recentOrderTimes: readonly number[];
}

/** One sleeve's candidate orders for a trigger. */
export interface Batch<S extends RiskSleeve> {
  runner: S;
  orders: CandidateOrder[];
}

export interface RiskView {
  /** Positions and orders in flight; read, never changed. */
  book: SleeveBook;
  /** The KV trading state; null when the key is absent (RUNNING). */
  tradingState: TradingState | null;
  account: AccountSnapshot | null;
  rates: FxRatesToUsd;
  /** Epoch ms. */
  now: number;
}

/** An intent as it is stored: accepted, or blocked with the risk reason. */
export interface IntentRow {
  intent: OrderIntent;
  status: 'accepted' | 'blocked';
  riskReason: string | null;
}

export interface BuiltIntents<S extends RiskSleeve> {
  /** Every intent, in order, to store. */
  rows: IntentRow[];
  accepted: Array<{ runner: S; intent: OrderIntent }>;
  blocked: Array<{ runner: S; intent: OrderIntent; reason: string }>;
  /** Audit entries of the blocked intents. */
  audits: AuditEntry[];
  /** Risk warnings on accepted intents, in order. */
  warnings: Array<{ sleeve: string; warning: string }>;
}

const REASON_MAX_LENGTH = 200;

/**
 * The risk rules after which a blocked flip is tried again as a close: those that let closes through
 * (REDUCING, position, loss and drawdown limits, an unknown account; see `checkOrder`'s invariants) and the
 * order-size limit, which a close, smaller than the flip, may keep. Not HALTED, nor the order rate: they
 * block a close as well.
 */
const CLOSE_MAY_PASS: ReadonlySet<RiskReason> = new Set<RiskReason>([
  'reducing_only',
  'max_position',
  'max_order_notional',
  'max_daily_loss',
  'drawdown',
  'account_unknown',
]);

/**
 * How much of an order only closes: shrinks both the position and the position with what is in flight to
 * zero at most (the risk check judges a close on both). Zero when the order adds to either.
 */
function closingQuantity(
  position: Decimal,
  exposure: Decimal,
  side: 'BUY' | 'SELL',
  quantity: Decimal,
): Decimal {
  return Decimal.min(reducingQuantity(position, side, quantity), reducingQuantity(exposure, side, quantity));
}

export function buildIntents<S extends RiskSleeve>(
  trigger: Trigger,
  batches: ReadonlyArray<Batch<S>>,
  view: RiskView,
): BuiltIntents<S> {
  const { book, now, rates } = view;
  const built: BuiltIntents<S> = { rows: [], accepted: [], blocked: [], audits: [], warnings: [] };
  // Most triggers bring no orders.
  if (batches.length === 0) return built;
  const createdAt = formatIsoMs(now);
  for (const { runner, orders } of batches) {
    const sleeve = runner.config.name;
    // In flight by instrument, with this trigger's accepted orders added (read through `pendingOf`).
    const pending = new Map<string, PendingSides>();
    const recent = [...runner.recentOrderTimes];
    for (let index = 0; index < orders.length; index++) {
      const order = orders[index]!;
      const sequence = trigger.sequenceBase + index;
      const check = (quantity: Decimal) =>
        checkOrder({
          order: {
            sleeve,
            instrument: order.instrument,
            currency: order.currency,
            side: order.side,
            quantity: quantity.toFixed(),
            referencePrice: order.referencePrice,
          },
          scope: 'sleeve',
          positions: book.positions(sleeve),
          pending: pendingRecord(pending, book, sleeve, runner.config.instruments),
          tradingState: view.tradingState,
          limits: runner.config.risk,
          recentOrderTimes: recent,
          now,
          account: view.account,
          fxRatesToUsd: rates,
        });
      let quantity = new Decimal(order.quantity);
      let reason = order.reason;
      let decision = check(quantity);
      // A blocked flip becomes a close when the close passes: the part of the signal that is still allowed.
      // Blocked whole, it would leave the position the signal wants out of open for as long as the limit
      // holds (a daily-loss limit: the rest of the day).
      if (!decision.allowed && CLOSE_MAY_PASS.has(decision.reason)) {
        // What is held, and what will be held if the orders in flight on this side fill (the check's worst case).
        const position = book.position(sleeve, order.instrument);
        const sides = pendingOf(pending, book, sleeve, order.instrument);
        const close = closingQuantity(
          position,
          order.side === 'BUY' ? position.add(sides.buy) : position.sub(sides.sell),
          order.side,
          quantity,
        );
        const closing = close.gt(0) && close.lt(quantity) ? check(close) : null;
        if (closing?.allowed) {
          const why = decision.reason === 'reducing_only' ? 'under REDUCING' : `(${decision.reason})`;
          quantity = close;
          reason = `${reason ?? 'signal'}; cut to a close ${why}`.slice(0, REASON_MAX_LENGTH);
          decision = closing;
        }
      }
      const intent: OrderIntent = {
        v: 1,
        intentId: deriveIntentId({
          sleeve,
          instrument: order.instrument,
          barTs: trigger.ts,
          sequence,
          triggeredBy: trigger.instrument,
        }),
        sleeve,
        instrument: order.instrument,
        side: order.side,
        quantity: quantity.toFixed(),
        orderType: order.orderType,
        ...(order.limitPrice !== undefined ? { limitPrice: order.limitPrice } : {}),
        timeInForce: 'DAY',
        barTs: trigger.ts,
        timeframe: trigger.timeframe,
        sequence,
        referencePrice: order.referencePrice,
        ...(reason !== undefined ? { reason: reason.slice(0, REASON_MAX_LENGTH) } : {}),
        createdAt,
      };
      if (decision.allowed) {
        for (const warning of decision.warnings) built.warnings.push({ sleeve, warning });
        recent.push(now);
        const sides = pendingOf(pending, book, sleeve, order.instrument);
        pending.set(
          order.instrument,
          order.side === 'BUY'
            ? { buy: sides.buy.add(quantity), sell: sides.sell }
            : { buy: sides.buy, sell: sides.sell.add(quantity) },
        );
        built.rows.push({ intent, status: 'accepted', riskReason: null });
        built.accepted.push({ runner, intent });
        continue;
      }
      built.rows.push({ intent, status: 'blocked', riskReason: decision.reason });
      built.blocked.push({ runner, intent, reason: decision.reason });
      built.audits.push({
        v: 1,
        auditId: `risk_blocked:${intent.intentId}`,
        actor: 'strategy:risk',
        action: 'order_blocked',
        detail: {
          intentId: intent.intentId,
          sleeve,
          instrument: intent.instrument,
          side: intent.side,
          quantity: intent.quantity,
          referencePrice: intent.referencePrice,
          barTs: intent.barTs,
          reason: decision.reason,
          detail: decision.detail,
        },
        at: createdAt,
      });
    }
  }
  return built;
}

/** Open quantities of buys and of sells in flight. */
interface PendingSides {
  buy: Decimal;
  sell: Decimal;
}

/** A sleeve's buys and sells in flight for an instrument, counting the trigger's orders accepted so far. */
function pendingOf(
  pending: ReadonlyMap<string, PendingSides>,
  book: SleeveBook,
  sleeve: string,
  instrument: string,
): PendingSides {
  return pending.get(instrument) ?? book.pendingSides(sleeve, instrument);
}

/** `pendingOf` for each of the sleeve's instruments, as the risk check takes it: buys and sells apart. */
function pendingRecord(
  pending: ReadonlyMap<string, PendingSides>,
  book: SleeveBook,
  sleeve: string,
  instruments: ReadonlyArray<{ readonly key: InstrumentKey }>,
): Record<string, PendingOrders> {
  const record: Record<string, PendingOrders> = {};
  for (const { key } of instruments) {
    const sides = pendingOf(pending, book, sleeve, key);
    record[key] = { buy: sides.buy.toFixed(), sell: sides.sell.toFixed() };
  }
  return record;
}
