/**
 * Intent → order. For each intent: check the lease, the trading state and the risk rules again; record
 * the order (unique on the intent id, with a broker order id never used before) **before** sending it,
 * because re-sending the same IB order id after a crash modifies that order instead of creating a second
 * one, so the id must be durable first; send it with `orderRef` = intent id; return, and the consumer
 * acknowledges the intent only then. A redelivered intent finds its order and at most re-sends it under
 * the same id.
 */
import {
  type AccountSnapshot,
  type Instrument,
  MINUTE_MS,
  type OrderIntent,
  type OrderSide,
  type OrderType,
  type TimeInForce,
} from '@ibstack/contracts';
import type { OrderRow } from '@ibstack/db';
import type { Logger } from '@ibstack/observability';
import { checkOrder, fxRatesFromLastPrices, type FxRatesToUsd, type RiskLimits } from '@ibstack/risk';
import Decimal from 'decimal.js';

import type { Broker } from './ports';
import type { ExecutionStore, NewOrder } from './adapters/pg-store';
import type { CrashPoints } from './crash-points';
import type { InstrumentBook } from './instruments';
import type { ExecutionLease } from './lease';
import type { ExecutionMetrics } from './metrics';
import type { MarketPrices } from './market-prices';
import type { OrderTracker } from './order-tracker';
import type { DurableTradingState } from '@ibstack/operator';

export class NotReadyError extends Error {
  override readonly name = 'NotReadyError';
}

/** Broker order ids: above every id the gateway or our database has seen, never reused. */
export class OrderIds {
  private next = 0;

  async reset(store: ExecutionStore, nextValidId: number): Promise<void> {
    this.next = Math.max(this.next, nextValidId, (await store.orders.maxBrokerOrderId()) + 1);
  }

  take(): number {
    if (this.next <= 0) throw new NotReadyError('order ids not initialised (no gateway session yet)');
    return this.next++;
  }
}

export interface RouterDependencies {
  store: ExecutionStore;
  broker: Broker;
  tracker: OrderTracker;
  lease: ExecutionLease;
  tradingState: DurableTradingState;
  instruments: InstrumentBook;
  ids: OrderIds;
  metrics: ExecutionMetrics;
  log: Logger;
  crashPoints: CrashPoints;
  limits: RiskLimits;
  /** The account orders go to (the gateway's managed account). */
  account: () => string | null;
  latestSnapshot: () => AccountSnapshot | null;
  /** Orders that add exposure need account values at most this old (by the broker's time). */
  accountMaxAgeMs: number;
  /** Execution's own prices (market data on NATS): orders are sized at these, never at the strategy's. */
  prices: MarketPrices;
  /** Configured USD rates, overlaid with fresh prices of USD pairs. */
  fxRatesToUsd: FxRatesToUsd;
  /** Intents older than this are rejected as stale instead of traded late. */
  intentMaxAgeMs: number;
  /** Wakes the outbox publisher after a write. */
  onStored: () => void;
  now?: () => number;
}

export class OrderRouter {
  private readonly now: () => number;

  constructor(private readonly deps: RouterDependencies) {
    this.now = deps.now ?? Date.now;
  }

  async handle(intent: OrderIntent): Promise<void> {
    const { store, lease, log } = this.deps;
    // The epoch of the lease this intent is handled under: every write is fenced by it, and the send is
    // refused if the lease changed hands (even back to us) while we were deciding.
    const epoch = lease.epoch;
    if (!lease.isHeld() || epoch === null) throw new NotReadyError('not the execution lease holder');
    if (!this.deps.broker.isReady()) throw new NotReadyError('gateway session not ready');
    // Between 1100 and 1101/1102 the gateway has lost IB itself: an order sent now goes nowhere.
    if (!this.deps.broker.isBrokerLinkUp()) throw new NotReadyError('gateway has lost its link to IB (1100)');

    const account = this.deps.account();
    if (!account) throw new NotReadyError('the gateway reported no account yet');
    // One database round trip and one KV read, in parallel: the rest of the decision is in memory.
    const [context, tradingState, instrument] = await Promise.all([
      store.orders.routingContext(intent.intentId, account, new Date(this.now() - MINUTE_MS)),
      this.deps.tradingState.get(),
      this.deps.instruments.find(intent.instrument),
    ]);
    if (context.existing) {
      // Redelivered: the order is recorded. If it may never have left, send it again under the same id,
      // but only if it would be sent now (lease, trading state, risk); if not, recovery settles it.
      if (context.existing.status === 'pending' && context.existing.brokerOrderId !== null) {
        const order = await store.orders.orderById(context.existing.id);
        const refusal = order ? await this.resendIfAllowed(order) : null;
        if (refusal)
          log.warn({ intentId: intent.intentId, refusal }, 'redelivered intent: order not re-sent');
      }
      return;
    }

    const base: Omit<NewOrder, 'status' | 'brokerOrderId'> = {
      intentId: intent.intentId,
      clientId: this.deps.broker.clientId,
      account,
      sleeve: intent.sleeve,
      instrument: intent.instrument,
      side: intent.side,
      quantity: intent.quantity,
      orderType: intent.orderType,
      limitPrice: intent.limitPrice ?? null,
      stopPrice: intent.stopPrice ?? null,
      timeInForce: intent.timeInForce,
    };
    const refuse = async (reason: string, label: string) => {
      log.warn({ intentId: intent.intentId, reason }, 'intent refused before sending');
      this.deps.metrics.ordersRejected.inc({ instrument: intent.instrument, reason: label });
      await store.orders.recordOrder(
        { ...base, brokerOrderId: null, status: 'rejected', errorText: reason },
        epoch,
        new Date(this.now()),
      );
      this.deps.onStored();
    };

    if (!instrument) return refuse(`unknown instrument ${intent.instrument}`, 'unknown_instrument');
    const age = this.now() - Date.parse(intent.createdAt);
    if (age > this.deps.intentMaxAgeMs)
      return refuse(`stale intent: created ${Math.round(age / 1000)} s ago`, 'stale_intent');

    const price = this.orderPrice(intent.instrument, intent.side, intent.limitPrice, intent.stopPrice);
    if (!price)
      return refuse(
        `no fresh market price for ${intent.instrument} (none within ${this.deps.prices.maxAgeMs / 1000} s): not sized`,
        'no_price',
      );
    const decision = checkOrder({
      order: {
        sleeve: intent.sleeve,
        instrument: intent.instrument,
        currency: instrument.currency,
        side: intent.side,
        quantity: intent.quantity,
        referencePrice: price,
      },
      scope: 'account',
      positions: context.positions,
      pending: context.pending,
      tradingState,
      limits: this.deps.limits,
      recentOrderTimes: context.recentOrderTimes,
      now: this.now(),
      account: this.deps.latestSnapshot(),
      accountMaxAgeMs: this.deps.accountMaxAgeMs,
      fxRatesToUsd: this.rates(),
    });
    if (!decision.allowed) return refuse(`risk: ${decision.reason}: ${decision.detail}`, decision.reason);

    const brokerOrderId = this.deps.ids.take();
    this.deps.crashPoints.hit('before_db_write');
    const { order, created } = await store.orders.recordOrder(
      { ...base, brokerOrderId, status: 'pending' },
      epoch,
      new Date(this.now()),
    );
    this.deps.crashPoints.hit('after_db_write');
    if (!created) return;
    if (!lease.isHeld() || lease.epoch !== epoch) {
      // Recorded but not sent: the next holder's recovery decides about it, under its own fence.
      throw new NotReadyError('lease lost while deciding; order recorded, not sent');
    }
    this.place(order, instrument);
    this.deps.crashPoints.hit('after_send');
    log.info(
      {
        orderId: brokerOrderId,
        intentId: intent.intentId,
        sleeve: intent.sleeve,
        instrument: intent.instrument,
        side: intent.side,
        quantity: intent.quantity,
        orderType: intent.orderType,
      },
      'order sent',
    );
  }

  /**
   * The price an order is sized at: execution's own fresh market price, or its limit or stop price where
   * that is further out (a limit order may fill up to its limit). Null without a fresh market price.
   */
  private orderPrice(
    instrument: string,
    side: OrderSide,
    limitPrice?: string | null,
    stopPrice?: string | null,
  ): string | null {
    const market = this.deps.prices.priceFor(instrument, side);
    if (!market) return null;
    return Decimal.max(market.price, limitPrice ?? 0, stopPrice ?? 0).toFixed();
  }

  private rates(): FxRatesToUsd {
    return fxRatesFromLastPrices(this.deps.prices.freshLastPrices(), this.deps.fxRatesToUsd);
  }

  /**
   * Whether a recorded order may go to the broker now, with `quantity` (the remainder to send, or a
   * modification's new total): the lease, the gateway, the trading state and the account's risk rules,
   * as for a new intent. The order's own working remainder is taken out of the pending exposure it is
   * checked against. Returns why not, or null.
   */
  private async refusalToSend(
    order: OrderRow,
    quantity: string,
    terms: { limitPrice: string | null; stopPrice: string | null },
    countsAsNewOrder: boolean,
  ): Promise<string | null> {
    const { lease, broker } = this.deps;
    if (!lease.isHeld() || lease.epoch === null) return 'not the execution lease holder';
    if (!broker.isReady()) return 'gateway session not ready';
    const instrument = await this.deps.instruments.find(order.instrument);
    if (!order.account || !instrument) return `instrument ${order.instrument} or account unknown`;
    const [context, tradingState] = await Promise.all([
      this.deps.store.orders.routingContext('', order.account, new Date(this.now() - MINUTE_MS)),
      this.deps.tradingState.get(),
    ]);
    const side = order.side;
    const price = this.orderPrice(order.instrument, side, terms.limitPrice, terms.stopPrice);
    if (!price) return `no fresh market price for ${order.instrument}`;
    // The order itself is among the working ones: it is judged as the new quantity, so its remaining part
    // leaves its side's total.
    const pending = { ...context.pending };
    const working = pending[order.instrument] ?? { buy: '0', sell: '0' };
    const remaining = new Decimal(order.remaining_quantity);
    pending[order.instrument] =
      side === 'BUY'
        ? { ...working, buy: Decimal.max(0, new Decimal(working.buy).minus(remaining)).toFixed() }
        : { ...working, sell: Decimal.max(0, new Decimal(working.sell).minus(remaining)).toFixed() };
    const decision = checkOrder({
      order: {
        sleeve: order.sleeve ?? '',
        instrument: order.instrument,
        currency: instrument.currency,
        side,
        quantity,
        referencePrice: price,
      },
      scope: 'account',
      positions: context.positions,
      pending,
      tradingState,
      limits: this.deps.limits,
      // A re-send or a modification is not a new order: it does not count against the order rate.
      recentOrderTimes: countsAsNewOrder ? context.recentOrderTimes : [],
      now: this.now(),
      account: this.deps.latestSnapshot(),
      accountMaxAgeMs: this.deps.accountMaxAgeMs,
      fxRatesToUsd: this.rates(),
    });
    return decision.allowed ? null : `risk: ${decision.reason}: ${decision.detail}`;
  }

  /**
   * The re-send of an order the broker may never have seen (recovery, or a redelivered intent whose order
   * is still pending), under its own id: only if it would be sent now — lease, trading state, age and the
   * account's risk rules, as for a new intent. Returns why not, or null once sent.
   */
  async resendIfAllowed(order: OrderRow): Promise<string | null> {
    const age = this.now() - order.created_at.getTime();
    if (age > this.deps.intentMaxAgeMs) return `stale: recorded ${Math.round(age / 1000)} s ago`;
    const refusal = await this.refusalToSend(
      order,
      order.remaining_quantity,
      { limitPrice: order.limit_price, stopPrice: order.stop_price },
      false,
    );
    if (refusal) return refusal;
    await this.send(order);
    return null;
  }

  /**
   * An operator's modification: re-places a working order under its own id with new terms. Nothing is
   * written here: the broker's openOrder confirms the new terms and the tracker stores them, and if the
   * broker refuses, the old terms stay in our books as they stay at the broker.
   */
  async modify(
    intentId: string,
    changes: { quantity?: string; limitPrice?: string; stopPrice?: string },
  ): Promise<string> {
    const order = await this.deps.store.orders.orderByIntent(intentId);
    if (!order || order.broker_order_id === null) return `no sent order for intent ${intentId}`;
    if (!['submitted', 'partially_filled'].includes(order.status))
      return `order ${order.broker_order_id} is ${order.status}: not modified`;
    if (changes.quantity && new Decimal(changes.quantity).lte(order.filled_quantity))
      return `order ${order.broker_order_id} has ${order.filled_quantity} filled: quantity must be larger`;
    if (changes.limitPrice && order.order_type !== 'LMT')
      return `order ${order.broker_order_id} is ${order.order_type}: it has no limit price`;
    if (changes.stopPrice && order.order_type !== 'STP')
      return `order ${order.broker_order_id} is ${order.order_type}: it has no stop price`;
    if (!this.deps.broker.isReady())
      throw new NotReadyError('gateway session not ready; modification not sent');
    // A modification is a send: the same lease, trading-state and risk checks as a new order, on the new
    // terms (so it cannot raise a quantity while HALTED or REDUCING, nor past a limit).
    const refusal = await this.refusalToSend(
      order,
      new Decimal(changes.quantity ?? order.quantity).minus(order.filled_quantity).toFixed(),
      {
        limitPrice: changes.limitPrice ?? order.limit_price,
        stopPrice: changes.stopPrice ?? order.stop_price,
      },
      false,
    );
    if (refusal) return `order ${order.broker_order_id} not modified: ${refusal}`;
    const amended = {
      ...order,
      quantity: changes.quantity ?? order.quantity,
      limit_price: changes.limitPrice ?? order.limit_price,
      stop_price: changes.stopPrice ?? order.stop_price,
    };
    // Recorded before it is sent, so the broker's confirmation is told apart from a change made at the
    // broker that nobody here asked for.
    await this.deps.store.orders.recordAmendment(
      order,
      { quantity: amended.quantity, limitPrice: amended.limit_price, stopPrice: amended.stop_price },
      'operator',
      new Date(this.now()),
    );
    await this.send(amended);
    return `order ${order.broker_order_id} re-sent with ${JSON.stringify(changes)}; the broker's openOrder confirms it`;
  }

  /** Places (or re-places, under the same id) a recorded order: IB treats a repeated id as the same order. */
  async send(order: OrderRow): Promise<void> {
    if (order.broker_order_id === null || !order.account) return;
    const instrument = await this.deps.instruments.find(order.instrument);
    if (!instrument)
      throw new NotReadyError(`instrument ${order.instrument} of order ${order.broker_order_id} is unknown`);
    this.place(order, instrument);
  }

  private place(order: OrderRow, instrument: Instrument): void {
    this.deps.tracker.markSent(order.broker_order_id!);
    this.deps.broker.placeOrder({
      orderId: order.broker_order_id!,
      instrument,
      side: order.side,
      quantity: order.quantity,
      orderType: order.order_type as OrderType,
      limitPrice: order.limit_price,
      stopPrice: order.stop_price,
      timeInForce: order.time_in_force as TimeInForce,
      orderRef: order.intent_id ?? '',
      account: order.account!,
    });
    this.deps.metrics.ordersSubmitted.inc({
      instrument: order.instrument,
      side: order.side,
      sleeve: order.sleeve ?? 'none',
    });
    // Off the order's path: the send is done, and a lost timestamp costs nothing but the record of it.
    this.deps.store.orders
      .markSent(order.id, new Date(this.now()))
      .catch((error: unknown) =>
        this.deps.log.warn(
          { err: error, orderId: order.broker_order_id },
          'could not record when the order was sent',
        ),
      );
  }
}
