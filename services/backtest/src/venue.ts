/**
 * The simulated venue of a backtest: the gateway-sim's matching engine (`Broker`) run in process, with the
 * same fill model and commissions as the sim, on quotes built from bars. Intents go in as orders the way
 * execution sends them (the intent id as the order ref); executions and order states come out as the
 * stack's own `Fill` and `OrderEvent`, for the strategy's order tracker and the report.
 */
import {
  type Fill,
  formatIsoMs,
  type InstrumentKey,
  type OrderEvent,
  type OrderIntent,
  type OrderStatus,
} from '@ibstack/contracts';
import {
  Broker,
  type BrokerEvent,
  InstrumentTable,
  MarketSchedule,
  type SimExecution,
  type SimInstrument,
  type SimOrder,
} from '@ibstack/gateway-sim';
import type { ConfiguredInstrument } from '@ibstack/strategy';
import Decimal from 'decimal.js';

import type { BarQuotes } from './bar-quotes';

const CLIENT_ID = 1;
export const BACKTEST_ACCOUNT = 'DU0BACKTEST';

/** An execution with what the report shows beside it. */
export interface Trade {
  fill: Fill;
  sleeve: string;
  /** USD; undefined when the fill only opened or added to a position. */
  realizedPnlUsd: number | undefined;
  commissionUsd: number;
}

export class UnknownVenueInstrumentError extends Error {
  override readonly name = 'UnknownVenueInstrumentError';
}

/**
 * A broker number as a decimal string: JavaScript's own shortest form when it has no exponent (what
 * decimal.js prints for it too), else decimal.js's plain notation.
 */
function toDecimal(value: number): string {
  const text = String(value);
  return text.includes('e') ? new Decimal(value).toFixed() : text;
}

export class SimVenue {
  readonly broker: Broker;
  readonly instruments = new InstrumentTable();
  private readonly venueInstruments = new Map<InstrumentKey, SimInstrument>();
  /** Ours by the venue's key (`EURCAD` → `EUR.CAD`). */
  private readonly ourKeys = new Map<string, InstrumentKey>();
  private readonly sleeveOf = new Map<string, string>();
  /** Orders not yet filled, cancelled or rejected, by order ref. */
  private readonly working = new Set<string>();
  private nextOrderId = 1;
  private readonly fills: Fill[] = [];
  private readonly orderEvents: OrderEvent[] = [];
  readonly trades: Trade[] = [];
  /** Orders the venue refused, with IB's reason. */
  readonly rejections: Array<{ intentId: string; code: number; message: string }> = [];

  constructor(options: {
    instruments: Iterable<ConfiguredInstrument>;
    quotes: BarQuotes;
    initialCashUsd: number;
    clock: () => number;
  }) {
    for (const configured of options.instruments) {
      const found = this.instruments.resolve({
        symbol: configured.instrument.symbol,
        secType: configured.instrument.secType,
        exchange: configured.instrument.exchange,
        primaryExchange: configured.instrument.primaryExchange ?? '',
        currency: configured.instrument.currency,
        localSymbol: '',
        tradingClass: '',
      });
      if (!found)
        throw new UnknownVenueInstrumentError(
          `instrument ${configured.spec}: the simulated venue does not list it (it knows ${this.instruments.all
            .map((i) => i.label)
            .join(', ')})`,
        );
      this.venueInstruments.set(configured.key, found);
      if (!this.ourKeys.has(found.key)) this.ourKeys.set(found.key, configured.key);
    }
    this.broker = new Broker({
      account: BACKTEST_ACCOUNT,
      initialCash: options.initialCashUsd,
      seed: 0,
      transmitMode: 'strict',
      instruments: this.instruments,
      book: options.quotes,
      // The bars say when the market traded; between them the last price holds.
      schedule: new MarketSchedule('always-open'),
      now: options.clock,
    });
  }

  /** The venue's instrument for one of ours (`EUR.CAD` → the sim's EURCAD). */
  venueInstrument(key: InstrumentKey): SimInstrument | undefined {
    return this.venueInstruments.get(key);
  }

  /** Sends an intent as execution would: its own order id, the intent id as the order ref. */
  place(intent: OrderIntent): void {
    const instrument = this.venueInstruments.get(intent.instrument);
    if (!instrument)
      throw new UnknownVenueInstrumentError(`instrument ${intent.instrument} is not traded here`);
    this.sleeveOf.set(intent.intentId, intent.sleeve);
    const orderId = this.nextOrderId++;
    this.handle(
      this.broker.placeOrder(CLIENT_ID, {
        orderId,
        contract: {
          conId: instrument.conId,
          symbol: instrument.symbol,
          secType: instrument.secType,
          exchange: instrument.exchange,
          primaryExchange: '',
          currency: instrument.currency,
          localSymbol: instrument.localSymbol,
          tradingClass: '',
        },
        action: intent.side,
        totalQuantity: Number(intent.quantity),
        orderType: intent.orderType,
        lmtPrice: intent.limitPrice !== undefined ? Number(intent.limitPrice) : undefined,
        auxPrice: intent.stopPrice !== undefined ? Number(intent.stopPrice) : undefined,
        tif: intent.timeInForce,
        account: BACKTEST_ACCOUNT,
        orderRef: intent.intentId,
        transmit: true,
        parentId: 0,
        outsideRth: false,
      }),
    );
  }

  /**
   * Runs the matching loop up to the clock (working orders meet the quotes of the seconds passed). Skipped
   * while no order works: the loop visits every order the run has placed.
   */
  advance(): void {
    if (this.working.size > 0) this.handle(this.broker.evaluate());
  }

  /** Fills and order events since the last call, in the order they happened. */
  drain(): { fills: Fill[]; orderEvents: OrderEvent[] } {
    return { fills: this.fills.splice(0), orderEvents: this.orderEvents.splice(0) };
  }

  /** Whether any position is open (only the venue's instruments are ever traded here). */
  hasPosition(): boolean {
    for (const instrument of this.venueInstruments.values())
      if (this.broker.positionOf(instrument.key)?.quantity) return true;
    return false;
  }

  /** Whether fills or order events wait to be drained. */
  hasNews(): boolean {
    return this.fills.length > 0 || this.orderEvents.length > 0;
  }

  private handle(events: readonly BrokerEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        // No fill gate: a decided fill is booked at once, as the sim does without injected delays.
        case 'fillDecided':
          this.handle(this.broker.applyFill(event.fill));
          break;
        case 'execution':
          this.onExecution(event.order, event.execution);
          // The order's new state (partly filled, filled) comes with its execution.
          this.onOrder(event.order);
          break;
        case 'order':
          this.onOrder(event.order);
          break;
        case 'orderError':
          this.onOrderError(event.orderId, event.code, event.message);
          break;
        default:
          break;
      }
    }
  }

  private onExecution(order: SimOrder, execution: SimExecution): void {
    const sleeve = this.sleeveOf.get(order.orderRef) ?? '';
    const ourKey = this.ourKey(execution.instrument);
    const ts = formatIsoMs(execution.time);
    const fill: Fill = {
      v: 1,
      execId: execution.execId,
      intentId: order.orderRef as Fill['intentId'],
      brokerOrderId: order.orderId,
      permId: order.permId,
      ...(sleeve ? { sleeve } : {}),
      account: execution.account,
      instrument: ourKey,
      side: order.action,
      quantity: toDecimal(execution.shares),
      price: toDecimal(execution.price),
      commission: toDecimal(execution.commission),
      commissionCurrency: execution.commissionCurrency,
      ...(execution.realizedPnl !== undefined ? { realizedPnl: toDecimal(execution.realizedPnl) } : {}),
      ts,
      receivedAt: ts,
    };
    this.fills.push(fill);
    this.trades.push({
      fill,
      sleeve,
      realizedPnlUsd: execution.realizedPnl,
      commissionUsd: execution.commission,
    });
  }

  private onOrder(order: SimOrder): void {
    const status = orderStatusOf(order);
    if (status === undefined) return;
    if (status === 'filled' || status === 'cancelled' || status === 'rejected')
      this.working.delete(order.orderRef);
    else this.working.add(order.orderRef);
    this.orderEvents.push(this.orderEvent(order, status));
  }

  private onOrderError(orderId: number, code: number, message: string): void {
    const order = this.broker.order(CLIENT_ID, orderId);
    // Codes under 2000 that name an order are refusals; 202 is IB's "order cancelled" notice.
    if (!order || code === 202) return;
    this.rejections.push({ intentId: order.orderRef, code, message });
  }

  private orderEvent(order: SimOrder, status: OrderStatus): OrderEvent {
    return {
      v: 1,
      eventId: `${order.orderRef}:${status}:${order.filled}`,
      intentId: order.orderRef as OrderEvent['intentId'],
      brokerOrderId: order.orderId,
      permId: order.permId,
      ...(this.sleeveOf.has(order.orderRef) ? { sleeve: this.sleeveOf.get(order.orderRef)! } : {}),
      instrument: this.ourKey(order.instrument),
      side: order.action,
      status,
      brokerStatus: order.status,
      quantity: toDecimal(order.totalQuantity),
      filledQuantity: toDecimal(order.filled),
      remainingQuantity: toDecimal(order.remaining),
      ts: formatIsoMs(order.updatedAt),
    };
  }

  private ourKey(venueKey: string): InstrumentKey {
    return this.ourKeys.get(venueKey) ?? venueKey;
  }
}

function orderStatusOf(order: SimOrder): OrderStatus | undefined {
  switch (order.status) {
    case 'Filled':
      return 'filled';
    case 'Cancelled':
      return 'cancelled';
    case 'Inactive':
      return 'rejected';
    case 'Submitted':
    case 'PreSubmitted':
      return order.filled > 0 ? 'partially_filled' : 'submitted';
    default:
      return undefined;
  }
}
