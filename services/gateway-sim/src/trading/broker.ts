/**
 * The simulated broker: order book, matching against the simulated top of book, executions, commissions
 * and the account. Pure domain logic: it takes the simulated time from an injected clock and returns
 * events; it sends nothing and sets no timers (the gateway routes the events to sessions and runs the
 * matching loop and the fill gate).
 *
 * Invariants:
 * - orders are keyed by (clientId, orderId), as IB keys API orders; permIds are unique and never reused;
 * - an order is never filled beyond its quantity: quantity is reserved when a fill is decided, applied
 *   (execution, position, cash) when the gate releases it;
 * - every execution has a unique exec id and exactly one commission;
 * - order ids handed out (nextOrderId) are above every id ever used, across restarts with a state file;
 * - each client's highest id is kept apart from its orders, so pruning finished orders never lets an old
 *   id be used again;
 * - finished orders and executions are kept for seven days (what reqExecutions serves; the admin API
 *   and a sped-up test see a whole run), then pruned.
 */

import type { ContractQuery, InstrumentTable, SimInstrument } from '../market/instruments';
import type { Quote, QuoteSource } from '../market/quotes';
import type { MarketSchedule } from '../market/trading-hours';
import { hashInts, hashString } from '../market/price-model';
import { IbCode, IbText } from '../protocol/ib-errors';
import { fillCommission } from './commission';
import {
  accountFigures,
  type AccountFigures,
  Ledger,
  type LedgerState,
  MARGIN_RATES,
  type Valuation,
} from './ledger';
import { validateOrder } from './order-validation';
import { isWorking, OrderStatus, type SimExecution, type SimOrder, type SimOrderType } from './types';

export type TransmitMode = 'strict' | 'lenient';

export interface OrderRequest {
  orderId: number;
  contract: ContractQuery;
  action: string;
  /** NaN when the client sent something that is not a number. */
  totalQuantity: number;
  orderType: string;
  lmtPrice: number | undefined;
  auxPrice: number | undefined;
  tif: string;
  account: string;
  orderRef: string;
  /** undefined when the client left it empty (the `@stoqey/ib` default). */
  transmit: boolean | undefined;
  parentId: number;
  outsideRth: boolean;
}

/** A fill the matching engine decided; it reaches the account when the gate releases it. */
export interface FillDecision {
  clientId: number;
  orderId: number;
  quantity: number;
  price: number;
  /** Simulated epoch ms of the match. */
  time: number;
}

export type BrokerEvent =
  | { type: 'order'; order: SimOrder }
  | { type: 'orderError'; clientId: number; orderId: number; code: number; message: string }
  | { type: 'fillDecided'; fill: FillDecision }
  | { type: 'execution'; order: SimOrder; execution: SimExecution }
  | { type: 'position'; instrument: string }
  | { type: 'account' }
  /** Finished orders or old executions were dropped (the state file should be written). */
  | { type: 'pruned' };

interface WorkState {
  /** Filled plus decided-but-unreleased quantity. */
  reserved: number;
  lastEvaluatedSecond: number;
  triggered: boolean;
  /** Held because the market is closed (PreSubmitted until it opens). */
  heldForMarket: boolean;
  expiresAt: number | undefined;
  commissionCharged: number;
  filledValueUsd: number;
  /**
   * An IOC order whose matched quantity is still in the fill gate: it matches nothing more, and its
   * unmatched rest is cancelled once those fills are booked, so the client sees the fills first.
   */
  cancelWhenBooked?: boolean;
}

export interface BrokerState {
  version: 1;
  nextOrderId: number;
  nextPermId: number;
  executionSequence: number;
  orders: Array<SimOrder & { work: WorkState }>;
  executions: SimExecution[];
  ledger: LedgerState;
  /** Written by older versions (USD); read only when `realizedByInstrument` is missing. */
  realizedByInstrumentUsd?: Record<string, number>;
  /** Realized P&L per instrument net of commissions, in the instrument's currency (as updatePortfolio shows it). */
  realizedByInstrument?: Record<string, number>;
  /** Highest order id each client used (older files: derived from their orders). */
  highestOrderIdByClient?: Record<string, number>;
}

export interface BrokerOptions {
  account: string;
  initialCash: number;
  seed: number;
  transmitMode: TransmitMode;
  instruments: InstrumentTable;
  book: QuoteSource;
  schedule: MarketSchedule;
  now: () => number;
  state?: BrokerState;
  /** Further accounts the login manages (an advisor or a linked login); they hold only drifted positions. */
  extraAccounts?: readonly string[];
}

/** reqExecutions serves seven days (TWS's longest setting); older executions are dropped. */
export const EXECUTION_RETENTION_MS = 7 * 86_400_000;
/** How often (simulated) finished orders and old executions are pruned. */
const PRUNE_INTERVAL_MS = 60_000;

/** Seconds the matching loop catches up after a pause; older seconds are skipped. */
const MAX_CATCH_UP_SECONDS = 3_600;

function orderKey(clientId: number, orderId: number): string {
  return `${clientId}:${orderId}`;
}

function hex8(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

export class Broker {
  private readonly orders = new Map<string, SimOrder>();
  private readonly work = new Map<string, WorkState>();
  private executionList: SimExecution[] = [];
  private readonly highestIdByClient = new Map<number, number>();
  private lastPruneAt = Number.NEGATIVE_INFINITY;
  private readonly ledger: Ledger;
  /** Realized P&L net of commissions per instrument, in the instrument's currency. */
  private readonly realizedByInstrument = new Map<string, number>();
  /** Liquidity taken per instrument, side and second, so orders share the top of book. */
  private readonly consumed = new Map<string, number>();
  private nextOrderIdValue = 1;
  private nextPermId: number;
  private executionSequence: number;
  private readonly execPrefix: string;
  private pendingReject: { reason: string; code: number } | undefined;
  private readonly otherAccounts = new Map<string, Map<string, { quantity: number; averageCost: number }>>();
  /** False between a connectivity loss and its restoration: nothing matches. */
  private linkUp = true;
  /** Marks and rates at `valuationTime`, for `figures` (one object, not three closures per valuation). */
  private valuationTime = 0;
  private readonly valuation: Valuation = {
    toUsd: (currency) => this.toUsd(currency, this.valuationTime),
    mark: (instrument) => this.options.book.at(instrument, this.valuationTime).mid,
    instrument: (key) => this.options.instruments.get(key),
  };
  /** The USD pair of each currency asked about (undefined: none), for `toUsd`. */
  private readonly usdPairs = new Map<string, { instrument: SimInstrument; inverse: boolean } | undefined>();

  constructor(private readonly options: BrokerOptions) {
    const seedHash = hashInts(options.seed >>> 0, hashString(options.account));
    this.execPrefix = hex8(seedHash & 0x0000ffff);
    this.nextPermId = 1_000_000_000 + (seedHash % 100_000_000);
    this.executionSequence = (hashInts(seedHash, 7) % 0x10000000) + 0x60000000;
    const state = options.state;
    if (state) {
      this.ledger = Ledger.restore(state.ledger);
      this.nextOrderIdValue = state.nextOrderId;
      this.nextPermId = state.nextPermId;
      this.executionSequence = state.executionSequence;
      for (const stored of state.orders) {
        const { work, ...order } = stored;
        const key = orderKey(order.clientId, order.orderId);
        this.orders.set(key, order);
        // Fills decided but not released before the restart never happened.
        this.work.set(key, { ...work, reserved: order.filled, cancelWhenBooked: false });
        if (work.cancelWhenBooked && isWorking(order.status)) {
          // An IOC order whose fills were lost with the restart: its rest was already due to be cancelled.
          order.status = OrderStatus.cancelled;
          order.remaining = order.totalQuantity - order.filled;
        }
      }
      this.executionList.push(...state.executions);
      if (state.highestOrderIdByClient) {
        for (const [clientId, highest] of Object.entries(state.highestOrderIdByClient))
          this.highestIdByClient.set(Number(clientId), highest);
      } else {
        for (const order of this.orders.values()) this.noteOrderId(order.clientId, order.orderId);
      }
      if (state.realizedByInstrument) {
        for (const [key, value] of Object.entries(state.realizedByInstrument))
          this.realizedByInstrument.set(key, value);
      } else {
        // An older file kept USD: convert at the current rate, the best that is left to do.
        for (const [key, value] of Object.entries(state.realizedByInstrumentUsd ?? {})) {
          const instrument = options.instruments.find(key);
          if (instrument)
            this.realizedByInstrument.set(key, value / this.toUsd(instrument.currency, options.now()));
        }
      }
    } else {
      this.ledger = new Ledger(options.initialCash);
    }
  }

  get account(): string {
    return this.options.account;
  }

  /** Every account the login manages, the trading account first (managedAccounts). */
  managedAccounts(): string[] {
    return [this.options.account, ...(this.options.extraAccounts ?? [])];
  }

  /** Positions of the extra accounts (only a drift puts one there; kept in memory only). */
  otherAccountPositions(): Array<{ account: string; key: string; quantity: number; averageCost: number }> {
    return [...this.otherAccounts].flatMap(([account, positions]) =>
      [...positions].map(([key, position]) => ({ account, key, ...position })),
    );
  }

  snapshot(): BrokerState {
    return {
      version: 1,
      nextOrderId: this.nextOrderIdValue,
      nextPermId: this.nextPermId,
      executionSequence: this.executionSequence,
      orders: [...this.orders].map(([key, order]) => ({ ...order, work: { ...this.work.get(key)! } })),
      executions: this.executionList.map((execution) => ({ ...execution })),
      ledger: this.ledger.snapshot(),
      realizedByInstrument: Object.fromEntries(this.realizedByInstrument),
      highestOrderIdByClient: Object.fromEntries(this.highestIdByClient),
    };
  }

  /** IB's next valid order id: above every id used by any client. */
  nextOrderId(): number {
    return this.nextOrderIdValue;
  }

  setLinkUp(up: boolean): void {
    this.linkUp = up;
  }

  private highestOrderId(clientId: number): number {
    return this.highestIdByClient.get(clientId) ?? 0;
  }

  private noteOrderId(clientId: number, orderId: number): void {
    if (orderId > this.highestOrderId(clientId)) this.highestIdByClient.set(clientId, orderId);
  }

  /**
   * Drops finished orders and executions older than seven days, from memory and so from the state file.
   * Returns whether anything was dropped.
   */
  prune(): boolean {
    const now = this.options.now();
    this.lastPruneAt = now;
    const oldest = now - EXECUTION_RETENTION_MS;
    let pruned = false;
    for (const [key, order] of this.orders) {
      if (isWorking(order.status) || order.updatedAt >= oldest) continue;
      const work = this.work.get(key);
      // A fill still in the gate must find its order.
      if (work && work.reserved > order.filled) continue;
      this.orders.delete(key);
      this.work.delete(key);
      pruned = true;
    }
    const keepFrom = this.executionList.findIndex((execution) => execution.time >= oldest);
    const drop = keepFrom === -1 ? this.executionList.length : keepFrom;
    if (drop > 0) {
      this.executionList = this.executionList.slice(drop);
      pruned = true;
    }
    return pruned;
  }

  rejectNextOrder(reason: string, code: number = IbCode.orderRejected): void {
    this.pendingReject = { reason, code };
  }

  allOrders(): SimOrder[] {
    return [...this.orders.values()].map((order) => ({ ...order }));
  }

  order(clientId: number, orderId: number): SimOrder | undefined {
    return this.orders.get(orderKey(clientId, orderId));
  }

  /** Open orders for one client, or every client. */
  openOrders(clientId?: number): SimOrder[] {
    return [...this.orders.values()].filter(
      (order) => isWorking(order.status) && (clientId === undefined || order.clientId === clientId),
    );
  }

  executions(): readonly SimExecution[] {
    return this.executionList;
  }

  /**
   * The account's figures now. With `detail: false`, the totals only: `cashByCurrency` and `positions` are
   * left empty (for a caller that reads NAV, cash and P&L on every step).
   */
  figures(options: { detail?: boolean } = {}): AccountFigures {
    this.valuationTime = this.options.now();
    return accountFigures(this.ledger, this.valuation, this.realizedByInstrument, options.detail ?? true);
  }

  positionOf(key: string): { quantity: number; averageCost: number } | undefined {
    return this.ledger.position(key);
  }

  positionKeys(): string[] {
    return this.ledger.positionEntries().map(([key]) => key);
  }

  /** USD per unit of `currency`, from the simulated FX rates (mid) at `time`. */
  toUsd(currency: string, time: number): number {
    if (currency === 'USD') return 1;
    const pair = this.usdPair(currency);
    if (!pair) throw new Error(`no USD rate for ${currency}`);
    const mid = this.options.book.at(pair.instrument, time).mid;
    return pair.inverse ? 1 / mid : mid;
  }

  /**
   * The pair that prices `currency` in USD (`EURUSD`, else `USDCAD` inverted), looked up once per
   * currency: every valuation converts every currency, and the instrument table does not change.
   */
  private usdPair(currency: string): { instrument: SimInstrument; inverse: boolean } | undefined {
    if (this.usdPairs.has(currency)) return this.usdPairs.get(currency);
    const { instruments } = this.options;
    const direct = instruments.find(`${currency}USD`);
    const inverse = direct ? undefined : instruments.find(`USD${currency}`);
    const pair = direct
      ? { instrument: direct, inverse: false }
      : inverse
        ? { instrument: inverse, inverse: true }
        : undefined;
    this.usdPairs.set(currency, pair);
    return pair;
  }

  // ---------------------------------------------------------------- orders

  placeOrder(clientId: number, request: OrderRequest): BrokerEvent[] {
    const now = this.options.now();
    const reject = (code: number, message: string): BrokerEvent[] => [
      { type: 'orderError', clientId, orderId: request.orderId, code, message },
    ];
    const key = orderKey(clientId, request.orderId);
    const existing = this.orders.get(key);
    // IB wants new ids to grow: a new order at or below an id this client already used is a duplicate.
    if (existing ? !isWorking(existing.status) : request.orderId <= this.highestOrderId(clientId)) {
      return reject(IbCode.orderRejectedDuplicateId, IbText.duplicateOrderId);
    }
    if (!(request.orderId > 0))
      return reject(IbCode.orderRejected, IbText.orderRejected(`Invalid order id ${request.orderId}`));
    if (!request.contract.exchange.trim()) {
      return reject(IbCode.validation, IbText.validation(3, 'Missing order exchange'));
    }
    const instrument = this.options.instruments.resolve(request.contract);
    if (!instrument) return reject(IbCode.noSecurityDefinition, IbText.noSecurityDefinition);
    const problem = validateOrder(request, instrument, this.options.account);
    if (problem) return reject(problem.code, problem.message);
    if (existing) return this.modify(existing, request, instrument, now);

    const pending = this.pendingReject;
    if (pending) this.pendingReject = undefined;
    const margin = pending ? undefined : this.marginProblem(request, instrument, now);
    const rejection = pending ?? (margin ? { code: IbCode.orderRejected, reason: margin } : undefined);

    const transmit = request.transmit ?? this.options.transmitMode === 'lenient';
    const order: SimOrder = {
      orderId: request.orderId,
      permId: this.nextPermId++,
      clientId,
      account: this.options.account,
      orderRef: request.orderRef,
      action: request.action.toUpperCase() as 'BUY' | 'SELL',
      totalQuantity: request.totalQuantity,
      orderType: request.orderType.toUpperCase() as SimOrderType,
      lmtPrice: request.lmtPrice,
      auxPrice: request.auxPrice,
      tif: request.tif.toUpperCase() || 'DAY',
      outsideRth: request.outsideRth,
      transmit,
      parentId: request.parentId,
      status: OrderStatus.submitted,
      filled: 0,
      remaining: request.totalQuantity,
      avgFillPrice: 0,
      lastFillPrice: 0,
      instrument: instrument.key,
      conId: instrument.conId,
      placedAt: now,
      updatedAt: now,
    };
    this.nextOrderIdValue = Math.max(this.nextOrderIdValue, request.orderId + 1);
    this.noteOrderId(clientId, request.orderId);
    this.orders.set(key, order);
    const work: WorkState = {
      reserved: 0,
      lastEvaluatedSecond: Math.floor(now / 1000) - 1,
      triggered: false,
      heldForMarket: false,
      expiresAt: undefined,
      commissionCharged: 0,
      filledValueUsd: 0,
    };
    this.work.set(key, work);

    if (rejection) {
      order.status = OrderStatus.inactive;
      order.rejectReason = IbText.orderRejected(rejection.reason);
      order.remaining = 0;
      // IB sends the reason first, then the order itself as Inactive (openOrder + orderStatus).
      return [
        {
          type: 'orderError',
          clientId,
          orderId: order.orderId,
          code: rejection.code,
          message: order.rejectReason,
        },
        { type: 'order', order: { ...order } },
      ];
    }
    if (!transmit) {
      // A real Gateway keeps an order with transmit unset in TWS without sending it to IB.
      order.status = OrderStatus.pendingSubmit;
      return [{ type: 'order', order: { ...order } }];
    }
    this.activate(order, work, instrument, now);
    const events: BrokerEvent[] = [{ type: 'order', order: { ...order } }];
    events.push(...this.evaluateOrder(order, work, Math.floor(now / 1000)));
    if (order.tif === 'IOC' && isWorking(order.status)) events.push(...this.cancelUnmatched(order, work));
    return events;
  }

  /**
   * Ends an IOC order after its one chance to match: nothing to do if all of it matched; with fills still
   * in the gate, the unmatched rest is cancelled when they are booked (applyFill); otherwise now.
   */
  private cancelUnmatched(order: SimOrder, work: WorkState): BrokerEvent[] {
    if (work.reserved >= order.totalQuantity) return [];
    if (work.reserved > order.filled) {
      work.cancelWhenBooked = true;
      return [];
    }
    return this.cancelRemainder(order, work);
  }

  /** IB refuses an order whose full fill would need more initial margin than the equity. */
  private marginProblem(request: OrderRequest, instrument: SimInstrument, now: number): string | undefined {
    // The totals are all it needs: the same sums as `figures()`, without the lists.
    const figures = this.figures({ detail: false });
    const current = this.ledger.position(instrument.key)?.quantity ?? 0;
    const signed = request.action.toUpperCase() === 'BUY' ? request.totalQuantity : -request.totalQuantity;
    const mark = this.options.book.at(instrument, now).mid;
    const toUsd = this.toUsd(instrument.currency, now);
    const rate = MARGIN_RATES[instrument.secType].initial;
    const change = (Math.abs(current + signed) - Math.abs(current)) * mark * toUsd * rate;
    const after = figures.initialMargin + change;
    if (change <= 0 || after <= figures.netLiquidation) return undefined;
    return (
      `YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR EQUITY WITH LOAN VALUE ` +
      `[${figures.netLiquidation.toFixed(2)} USD] MUST EXCEED THE INITIAL MARGIN [${after.toFixed(2)} USD]`
    );
  }

  private activate(order: SimOrder, work: WorkState, instrument: SimInstrument, now: number): void {
    const open = this.isOpenFor(order, instrument, now);
    work.heldForMarket = !open;
    order.status = order.orderType === 'STP' || !open ? OrderStatus.preSubmitted : OrderStatus.submitted;
    if (order.tif === 'DAY') {
      work.expiresAt = this.options.schedule.sessionEnd(
        instrument.schedule,
        now,
        this.rthOnly(order, instrument),
      );
    }
  }

  private modify(
    order: SimOrder,
    request: OrderRequest,
    instrument: SimInstrument,
    now: number,
  ): BrokerEvent[] {
    const key = orderKey(order.clientId, order.orderId);
    const work = this.work.get(key)!;
    if (instrument.key !== order.instrument || request.action.toUpperCase() !== order.action) {
      return [
        {
          type: 'orderError',
          clientId: order.clientId,
          orderId: order.orderId,
          code: 105,
          message: 'Order being modified does not match original order.',
        },
      ];
    }
    // IB refuses a size at or below what has filled: such an order would keep working with nothing left.
    if (work.reserved > 0 && request.totalQuantity <= work.reserved) {
      return [
        {
          type: 'orderError',
          clientId: order.clientId,
          orderId: order.orderId,
          code: IbCode.orderRejected,
          message: IbText.orderRejected('The order size must be above the quantity already filled'),
        },
      ];
    }
    const wasTransmitted = order.transmit;
    order.totalQuantity = request.totalQuantity;
    order.remaining = request.totalQuantity - order.filled;
    order.orderType = request.orderType.toUpperCase() as SimOrderType;
    order.lmtPrice = request.lmtPrice;
    order.auxPrice = request.auxPrice;
    order.tif = request.tif.toUpperCase() || 'DAY';
    order.orderRef = request.orderRef;
    order.outsideRth = request.outsideRth;
    // A transmitted order is at IB: a modify whose transmit flag is unset (or false) does not pull it back.
    order.transmit = wasTransmitted || (request.transmit ?? this.options.transmitMode === 'lenient');
    order.updatedAt = now;
    if (order.transmit && !wasTransmitted) this.activate(order, work, instrument, now);
    if (order.orderType !== 'STP') work.triggered = false;
    const events: BrokerEvent[] = [{ type: 'order', order: { ...order } }];
    // The new terms may match the current second's book (what is left of it).
    work.lastEvaluatedSecond = Math.min(work.lastEvaluatedSecond, Math.floor(now / 1000) - 1);
    if (order.transmit) events.push(...this.evaluateOrder(order, work, Math.floor(now / 1000)));
    return events;
  }

  cancelOrder(clientId: number, orderId: number): BrokerEvent[] {
    const key = orderKey(clientId, orderId);
    const order = this.orders.get(key);
    if (!order)
      return [
        {
          type: 'orderError',
          clientId,
          orderId,
          code: IbCode.cancelNotFound,
          message: IbText.cancelNotFound(orderId),
        },
      ];
    const work = this.work.get(key)!;
    if (!isWorking(order.status) || work.reserved >= order.totalQuantity) {
      const state =
        work.reserved >= order.totalQuantity && order.status !== OrderStatus.inactive
          ? 'Filled'
          : order.status;
      return [
        {
          type: 'orderError',
          clientId,
          orderId,
          code: IbCode.cancelWrongState,
          message: IbText.cancelWrongState(orderId, state),
        },
      ];
    }
    return this.cancelRemainder(order, work);
  }

  /** reqGlobalCancel: every working order of every client. */
  cancelAll(): BrokerEvent[] {
    const events: BrokerEvent[] = [];
    for (const order of this.orders.values()) {
      const work = this.work.get(orderKey(order.clientId, order.orderId))!;
      if (isWorking(order.status) && work.reserved < order.totalQuantity)
        events.push(...this.cancelRemainder(order, work));
    }
    return events;
  }

  private cancelRemainder(order: SimOrder, work: WorkState): BrokerEvent[] {
    work.cancelWhenBooked = false;
    order.status = OrderStatus.cancelled;
    order.updatedAt = this.options.now();
    // Quantity already matched stays: its fills are still on their way through the gate.
    order.remaining = order.totalQuantity - order.filled;
    work.expiresAt = undefined;
    return [
      { type: 'order', order: { ...order } },
      {
        type: 'orderError',
        clientId: order.clientId,
        orderId: order.orderId,
        code: IbCode.orderCancelled,
        message: IbText.orderCancelled,
      },
    ];
  }

  // ---------------------------------------------------------------- matching

  /** Runs the matching loop up to the current simulated second. */
  evaluate(): BrokerEvent[] {
    const now = this.options.now();
    const nowSecond = Math.floor(now / 1000);
    const events: BrokerEvent[] = [];
    for (const [key, order] of this.orders) {
      if (!isWorking(order.status) || !order.transmit) continue;
      const work = this.work.get(key)!;
      if (work.cancelWhenBooked) continue;
      if (work.expiresAt !== undefined && now >= work.expiresAt) {
        if (work.reserved < order.totalQuantity) {
          order.status = OrderStatus.cancelled;
          order.updatedAt = now;
          work.expiresAt = undefined;
          events.push({ type: 'order', order: { ...order } });
        }
        continue;
      }
      events.push(...this.evaluateOrder(order, work, nowSecond));
    }
    this.pruneConsumed(nowSecond);
    if (now - this.lastPruneAt >= PRUNE_INTERVAL_MS && this.prune()) events.push({ type: 'pruned' });
    return events;
  }

  /** Whether a transmitted order still waits for the market (for time that passes while disconnected). */
  hasUnmatchedWorkingOrders(): boolean {
    for (const [key, order] of this.orders) {
      if (!isWorking(order.status) || !order.transmit) continue;
      const work = this.work.get(key)!;
      if (!work.cancelWhenBooked && work.reserved < order.totalQuantity) return true;
    }
    return false;
  }

  private rthOnly(order: SimOrder, instrument: SimInstrument): boolean {
    return instrument.secType === 'STK' && !order.outsideRth;
  }

  private isOpenFor(order: SimOrder, instrument: SimInstrument, time: number): boolean {
    return this.options.schedule.isOpen(instrument.schedule, time, this.rthOnly(order, instrument));
  }

  private evaluateOrder(order: SimOrder, work: WorkState, toSecond: number): BrokerEvent[] {
    const events: BrokerEvent[] = [];
    if (!this.linkUp) {
      work.lastEvaluatedSecond = toSecond;
      return events;
    }
    const instrument = this.options.instruments.get(order.instrument);
    const from = Math.max(work.lastEvaluatedSecond + 1, toSecond - MAX_CATCH_UP_SECONDS);
    for (let second = from; second <= toSecond; second++) {
      if (!isWorking(order.status) || work.reserved >= order.totalQuantity) break;
      const time = Math.max(second * 1000, order.placedAt);
      if (!this.isOpenFor(order, instrument, second * 1000)) {
        if (!work.heldForMarket && order.status === OrderStatus.submitted) {
          work.heldForMarket = true;
          order.status = OrderStatus.preSubmitted;
          events.push({ type: 'order', order: { ...order } });
        }
        continue;
      }
      if (work.heldForMarket) {
        work.heldForMarket = false;
        if (order.orderType !== 'STP' || work.triggered) {
          order.status = OrderStatus.submitted;
          events.push({ type: 'order', order: { ...order } });
        }
      }
      const quote = this.options.book.atSecond(instrument, second);
      if (order.orderType === 'STP' && !work.triggered) {
        if (!this.stopTriggered(order, instrument, quote)) continue;
        work.triggered = true;
        order.status = OrderStatus.submitted;
        events.push({ type: 'order', order: { ...order } });
      }
      const price = order.action === 'BUY' ? quote.ask : quote.bid;
      if (order.orderType === 'LMT') {
        if (order.action === 'BUY' && price > order.lmtPrice!) continue;
        if (order.action === 'SELL' && price < order.lmtPrice!) continue;
      }
      const side = order.action === 'BUY' ? 'ask' : 'bid';
      const liquidityKey = `${instrument.key}:${side}:${second}`;
      const available =
        (side === 'ask' ? quote.askSize : quote.bidSize) - (this.consumed.get(liquidityKey) ?? 0);
      const quantity = Math.min(order.totalQuantity - work.reserved, available);
      if (quantity <= 0) continue;
      this.consumed.set(liquidityKey, (this.consumed.get(liquidityKey) ?? 0) + quantity);
      work.reserved += quantity;
      events.push({
        type: 'fillDecided',
        fill: { clientId: order.clientId, orderId: order.orderId, quantity, price, time },
      });
    }
    work.lastEvaluatedSecond = Math.max(work.lastEvaluatedSecond, toSecond);
    return events;
  }

  private stopTriggered(order: SimOrder, instrument: SimInstrument, quote: Quote): boolean {
    const stop = order.auxPrice!;
    // Stocks trigger on the last trade (IB's default method), forex on the bid/ask.
    if (instrument.secType === 'STK') return order.action === 'BUY' ? quote.last >= stop : quote.last <= stop;
    return order.action === 'BUY' ? quote.ask >= stop : quote.bid <= stop;
  }

  private pruneConsumed(nowSecond: number): void {
    if (this.consumed.size < 10_000) return;
    for (const key of this.consumed.keys()) {
      const second = Number(key.slice(key.lastIndexOf(':') + 1));
      if (second < nowSecond - MAX_CATCH_UP_SECONDS) this.consumed.delete(key);
    }
  }

  // ---------------------------------------------------------------- fills

  /** Books a released fill: execution, commission, order progress, position and cash. */
  applyFill(fill: FillDecision): BrokerEvent[] {
    const key = orderKey(fill.clientId, fill.orderId);
    const order = this.orders.get(key);
    const work = this.work.get(key);
    if (!order || !work) return [];
    const instrument = this.options.instruments.get(order.instrument);
    const quoteToUsd = this.toUsd(instrument.currency, fill.time);
    const signed = order.action === 'BUY' ? fill.quantity : -fill.quantity;
    const cumulativeQuantity = order.filled + fill.quantity;
    work.filledValueUsd += fill.quantity * fill.price * quoteToUsd;
    const commission = fillCommission({
      secType: instrument.secType,
      cumulativeQuantity,
      cumulativeValueUsd: work.filledValueUsd,
      alreadyCharged: work.commissionCharged,
    });
    work.commissionCharged += commission;
    const result = this.ledger.trade({
      instrument,
      quantity: signed,
      price: fill.price,
      commissionUsd: commission,
      quoteToUsd,
    });
    const realizedUsd = result.realized * quoteToUsd - commission;
    // updatePortfolio shows realized P&L in the contract's currency, the commission converted at the fill.
    this.realizedByInstrument.set(
      instrument.key,
      (this.realizedByInstrument.get(instrument.key) ?? 0) + result.realized - commission / quoteToUsd,
    );

    order.avgFillPrice =
      (order.avgFillPrice * order.filled + fill.price * fill.quantity) / cumulativeQuantity;
    order.avgFillPrice = Number(order.avgFillPrice.toFixed(instrument.priceDecimals + 4));
    order.filled = cumulativeQuantity;
    order.remaining = order.status === OrderStatus.cancelled ? 0 : order.totalQuantity - cumulativeQuantity;
    order.lastFillPrice = fill.price;
    order.updatedAt = fill.time;
    if (order.filled >= order.totalQuantity) {
      order.status = OrderStatus.filled;
      order.remaining = 0;
    }
    const execution: SimExecution = {
      execId: `${this.execPrefix}.${hex8(this.executionSequence++)}.01.01`,
      orderId: order.orderId,
      permId: order.permId,
      clientId: order.clientId,
      account: order.account,
      orderRef: order.orderRef,
      instrument: instrument.key,
      conId: instrument.conId,
      side: order.action === 'BUY' ? 'BOT' : 'SLD',
      shares: fill.quantity,
      price: fill.price,
      time: fill.time,
      cumQty: order.filled,
      avgPrice: order.avgFillPrice,
      commission,
      commissionCurrency: 'USD',
      realizedPnl: result.closedQuantity > 0 ? Number(realizedUsd.toFixed(2)) : undefined,
      exchange: instrument.secType === 'CASH' ? 'IDEALPRO' : instrument.primaryExchange,
    };
    this.executionList.push(execution);
    const events: BrokerEvent[] = [
      { type: 'execution', order: { ...order }, execution },
      { type: 'position', instrument: instrument.key },
      { type: 'account' },
    ];
    if (work.cancelWhenBooked && order.filled >= work.reserved && isWorking(order.status)) {
      events.push(...this.cancelRemainder(order, work));
    }
    return events;
  }

  /**
   * A fault: the order's terms changed at the broker, not by its client (someone edited it in TWS). The
   * owner hears the new terms in openOrder, as IB reports any change of an order.
   */
  modifyAtBroker(
    clientId: number,
    orderId: number,
    changes: { quantity?: number; lmtPrice?: number; auxPrice?: number },
  ): BrokerEvent[] {
    const key = orderKey(clientId, orderId);
    const order = this.orders.get(key);
    const work = this.work.get(key);
    if (!order || !work || !isWorking(order.status))
      throw new RangeError(`no working order ${orderId} of client ${clientId}`);
    const now = this.options.now();
    if (changes.quantity !== undefined) {
      if (!(changes.quantity > work.reserved))
        throw new RangeError(`quantity must be above the ${work.reserved} already filled`);
      order.totalQuantity = changes.quantity;
      order.remaining = changes.quantity - order.filled;
    }
    if (changes.lmtPrice !== undefined) order.lmtPrice = changes.lmtPrice;
    if (changes.auxPrice !== undefined) order.auxPrice = changes.auxPrice;
    order.updatedAt = now;
    work.lastEvaluatedSecond = Math.min(work.lastEvaluatedSecond, Math.floor(now / 1000) - 1);
    return [
      { type: 'order', order: { ...order } },
      ...this.evaluateOrder(order, work, Math.floor(now / 1000)),
    ];
  }

  /**
   * A fault: the broker books a fill beyond the order's quantity (an overfill, which IB does produce on
   * rare occasions), at the current market price.
   */
  overfill(clientId: number, orderId: number, quantity: number): BrokerEvent[] {
    const key = orderKey(clientId, orderId);
    const order = this.orders.get(key);
    const work = this.work.get(key);
    if (!order || !work) throw new RangeError(`no order ${orderId} of client ${clientId}`);
    const now = this.options.now();
    const quote = this.options.book.at(this.options.instruments.get(order.instrument), now);
    work.reserved += quantity;
    return this.applyFill({
      clientId,
      orderId,
      quantity,
      price: order.action === 'BUY' ? quote.ask : quote.bid,
      time: now,
    });
  }

  /** A fault: cash moved without a trade. */
  adjustCash(currency: string, amount: number): BrokerEvent[] {
    this.ledger.adjustCash(currency, amount);
    return [{ type: 'account' }];
  }

  /** A fault: a position's average cost changed without a trade. */
  adjustAverageCost(instrument: SimInstrument, averageCost: number): BrokerEvent[] {
    this.ledger.setAverageCost(instrument.key, averageCost);
    return [{ type: 'position', instrument: instrument.key }, { type: 'account' }];
  }

  /** A fault: a position change no order explains. */
  drift(instrument: SimInstrument, quantity: number, account = this.options.account): BrokerEvent[] {
    const mark = this.options.book.at(instrument, this.options.now()).mid;
    if (account !== this.options.account) {
      if (!this.options.extraAccounts?.includes(account))
        throw new RangeError(`account ${account} is not managed by this gateway`);
      const positions =
        this.otherAccounts.get(account) ?? new Map<string, { quantity: number; averageCost: number }>();
      this.otherAccounts.set(account, positions);
      const current = positions.get(instrument.key) ?? { quantity: 0, averageCost: mark };
      positions.set(instrument.key, {
        quantity: current.quantity + quantity,
        averageCost: current.averageCost,
      });
      return [{ type: 'position', instrument: instrument.key }];
    }
    this.ledger.drift(instrument, quantity, mark);
    return [{ type: 'position', instrument: instrument.key }, { type: 'account' }];
  }
}
