/**
 * Order requests and the messages orders produce. Broker events become IB messages for the client that
 * owns the order: openOrder + orderStatus on every change; execDetails, openOrder, orderStatus and
 * commissionReport on a fill (in that order); error 202 on a cancel; the IB error on a reject.
 */
import { DateTime } from 'luxon';

import { IbCode } from '../protocol/ib-errors';
import type { ClientRequest, ExecutionFilter } from '../protocol/requests';
import { parseEndDateTime } from '../market/historical';
import * as response from '../protocol/responses';
import { type BrokerEvent, EXECUTION_RETENTION_MS, type FillDecision } from '../trading/broker';
import { FillGate } from '../trading/fill-gate';
import { OrderStatus, type SimExecution, type SimOrder } from '../trading/types';
import type { AccountService } from './accounts';
import type { GatewayContext } from './context';
import type { Session } from './session';

/**
 * How far back `reqExecutions` reaches, and the gateway's local zone. IB documents that the API delivers
 * only the executions since midnight (the gateway's local midnight; TWS can be set to show up to 7 days, IB
 * Gateway cannot): `since-midnight` models that, `unlimited` keeps every execution of the retention period.
 */
export interface ExecutionWindow {
  kind: 'since-midnight' | 'unlimited';
  /** The gateway's local zone (IBGA: IB_TIMEZONE): execution times are written in it. */
  timeZone: string;
}

/** Start of the window `reqExecutions` reports at `now`: the last midnight in the gateway's zone. */
export function executionWindowStart(window: ExecutionWindow, now: number): number {
  if (window.kind === 'unlimited') return Number.NEGATIVE_INFINITY;
  return DateTime.fromMillis(now, { zone: window.timeZone }).startOf('day').toMillis();
}

export class OrderService {
  readonly gate: FillGate;
  /** Wall ms a commission report trails its execution (a fault); 0 = right after it. */
  private commissionDelayMs = 0;
  /** Commission reports not sent yet, by exec id: reqExecutions leaves them out too. */
  private readonly commissionsDue = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly ctx: GatewayContext,
    private readonly accounts: AccountService,
    private readonly onStateChanged: () => void,
    private readonly executionWindow: ExecutionWindow = { kind: 'since-midnight', timeZone: 'UTC' },
  ) {
    this.gate = new FillGate((fill) => this.release(fill));
  }

  handle(session: Session, request: ClientRequest): boolean {
    const clientId = session.clientId ?? 0;
    switch (request.type) {
      case 'placeOrder': {
        this.ctx.timeline.orderReceived(request.order.orderId, request.order.orderRef ?? '');
        const events = this.ctx.broker.placeOrder(clientId, request.order);
        const rejected =
          events.length > 0 &&
          events.every(
            (event) =>
              event.type === 'orderError' ||
              (event.type === 'order' && event.order.status === OrderStatus.inactive),
          );
        this.ctx.metrics.orders.inc({ outcome: rejected ? 'rejected' : 'accepted' });
        this.route(events);
        return true;
      }
      case 'cancelOrder':
        this.route(this.ctx.broker.cancelOrder(clientId, request.orderId));
        return true;
      case 'reqGlobalCancel':
        this.route(this.ctx.broker.cancelAll());
        return true;
      case 'reqOpenOrders':
      case 'reqAutoOpenOrders':
        this.sendOpenOrders(session, this.ctx.broker.openOrders(clientId));
        return true;
      case 'reqAllOpenOrders':
        this.sendOpenOrders(session, this.ctx.broker.openOrders());
        return true;
      case 'reqCompletedOrders':
        this.sendCompletedOrders(session, request.apiOnly);
        return true;
      case 'reqIds':
        session.send(response.nextValidId(this.ctx.broker.nextOrderId()));
        return true;
      case 'reqExecutions':
        this.sendExecutions(session, request.reqId, request.filter);
        return true;
      default:
        return false;
    }
  }

  /** Every commission report trails its execution by `ms` wall ms (IB computes some later). */
  setCommissionDelay(ms: number): void {
    this.commissionDelayMs = ms;
  }

  close(): void {
    this.gate.close();
    for (const timer of this.commissionsDue.values()) clearTimeout(timer);
    this.commissionsDue.clear();
  }

  private sendCommission(clientId: number, execution: SimExecution): void {
    if (this.commissionDelayMs <= 0) {
      this.toOwner(clientId, (session) => session.send(response.commissionReport(execution)));
      return;
    }
    const timer = setTimeout(() => {
      this.commissionsDue.delete(execution.execId);
      this.toOwner(clientId, (session) => session.send(response.commissionReport(execution)));
    }, this.commissionDelayMs);
    timer.unref();
    this.commissionsDue.set(execution.execId, timer);
  }

  /** Runs the matching loop (called on the gateway's timer). */
  tick(): void {
    this.route(this.ctx.broker.evaluate());
  }

  /** Sends broker events to their sessions; fills go through the gate. */
  route(events: readonly BrokerEvent[]): void {
    let stateChanged = false;
    for (const event of events) {
      switch (event.type) {
        case 'order':
          stateChanged = true;
          this.toOwner(event.order.clientId, (session) => this.sendOrder(session, event.order));
          break;
        case 'orderError':
          this.toOwner(event.clientId, (session) =>
            session.send(response.errorMessage(event.orderId, event.code, event.message)),
          );
          if (event.code !== IbCode.orderCancelled) {
            stateChanged = true;
            this.ctx.log.info(
              { clientId: event.clientId, orderId: event.orderId, code: event.code, reason: event.message },
              'order refused',
            );
          }
          break;
        case 'fillDecided':
          this.gate.submit(event.fill);
          break;
        case 'execution':
          stateChanged = true;
          this.ctx.metrics.fills.inc();
          this.ctx.metrics.filledQuantity.inc(event.execution.shares);
          this.toOwner(event.order.clientId, (session) => {
            const instrument = this.ctx.instruments.get(event.order.instrument);
            session.send(
              response.executionDetails(
                session.serverVersion,
                -1,
                event.execution,
                instrument,
                this.executionTime(event.execution),
              ),
            );
            this.sendOrder(session, event.order);
          });
          this.sendCommission(event.order.clientId, event.execution);
          break;
        case 'position':
          stateChanged = true;
          this.accounts.positionChanged(event.instrument);
          break;
        case 'account':
          this.accounts.accountChanged();
          break;
        case 'pruned':
          stateChanged = true;
          break;
      }
    }
    if (stateChanged) this.onStateChanged();
  }

  /** Applies a fill that left the gate. */
  private release(fill: FillDecision): void {
    try {
      this.route(this.ctx.broker.applyFill(fill));
    } catch (error) {
      // Released from a timer: an error here would otherwise end the process.
      this.ctx.log.error({ err: error, fill }, 'cannot book a fill');
    }
  }

  private toOwner(clientId: number, send: (session: Session) => void): void {
    const session = this.ctx.sessions.byClientId(clientId);
    if (session) send(session);
  }

  private sendOrder(session: Session, order: SimOrder): void {
    const instrument = this.ctx.instruments.get(order.instrument);
    session.send(response.openOrder(session.serverVersion, order, instrument));
    session.send(response.orderStatus(order));
  }

  private sendOpenOrders(session: Session, orders: readonly SimOrder[]): void {
    for (const order of orders) this.sendOrder(session, order);
    session.send(response.openOrderEnd());
  }

  /**
   * reqCompletedOrders: every finished order (filled, cancelled, rejected) the gateway still keeps, of every
   * client (`apiOnly`: not those placed by hand in TWS, client 0), then 102. Unlike reqExecutions, not cut at
   * midnight: what is left of a fill past the cut-off is its order's filled quantity.
   */
  private sendCompletedOrders(session: Session, apiOnly: boolean): void {
    const finished = this.ctx.broker
      .allOrders()
      .filter((order) =>
        [OrderStatus.filled, OrderStatus.cancelled, OrderStatus.inactive].includes(order.status as never),
      )
      .filter((order) => !apiOnly || order.clientId !== 0);
    for (const order of finished) {
      const time = DateTime.fromMillis(order.updatedAt, { zone: this.executionWindow.timeZone }).toFormat(
        'yyyyMMdd HH:mm:ss',
      );
      session.send(
        response.completedOrder(
          session.serverVersion,
          order,
          this.ctx.instruments.get(order.instrument),
          `${time} ${this.executionWindow.timeZone}`,
        ),
      );
    }
    session.send(response.completedOrdersEnd());
  }

  /** reqExecutions: 11 × n, then 59 × n, then 55 (the order `IBApiNext` needs). */
  private sendExecutions(session: Session, reqId: number, filter: ExecutionFilter): void {
    const matches = this.filterExecutions(filter);
    for (const execution of matches) {
      const instrument = this.ctx.instruments.get(execution.instrument);
      session.send(
        response.executionDetails(
          session.serverVersion,
          reqId,
          execution,
          instrument,
          this.executionTime(execution),
        ),
      );
    }
    for (const execution of matches)
      if (!this.commissionsDue.has(execution.execId)) session.send(response.commissionReport(execution));
    session.send(response.executionDetailsEnd(reqId));
  }

  filterExecutions(filter: ExecutionFilter): SimExecution[] {
    const now = this.ctx.clock.now();
    let since = Math.max(now - EXECUTION_RETENTION_MS, executionWindowStart(this.executionWindow, now));
    if (filter.time.trim()) {
      const parsed = parseEndDateTime(filter.time.trim(), now);
      if (parsed.ok) since = Math.max(since, parsed.time);
    }
    const upper = (value: string) => value.trim().toUpperCase();
    const side = upper(filter.side);
    return this.ctx.broker.executions().filter((execution) => {
      const instrument = this.ctx.instruments.get(execution.instrument);
      if (execution.time < since) return false;
      if (filter.clientId !== undefined && execution.clientId !== filter.clientId) return false;
      if (filter.account.trim() && upper(filter.account) !== execution.account) return false;
      if (
        filter.symbol.trim() &&
        upper(filter.symbol) !== instrument.symbol &&
        upper(filter.symbol) !== instrument.localSymbol
      ) {
        return false;
      }
      if (filter.secType.trim() && upper(filter.secType) !== instrument.secType) return false;
      if (
        filter.exchange.trim() &&
        !['SMART', execution.exchange, instrument.exchange].includes(upper(filter.exchange))
      )
        return false;
      if (side && !(side === 'BUY' || side === 'BOT' ? execution.side === 'BOT' : execution.side === 'SLD'))
        return false;
      return true;
    });
  }

  /**
   * `yyyyMMdd-HH:mm:ss` in UTC, the form a Gateway at these versions uses for execution times; in another
   * gateway zone, the gateway's local time without a zone (`yyyyMMdd  HH:mm:ss`), as IBGA with IB_TIMEZONE.
   */
  private executionTime(execution: SimExecution): string {
    const zone = this.executionWindow.timeZone;
    return zone === 'UTC'
      ? DateTime.fromMillis(execution.time, { zone: 'UTC' }).toFormat('yyyyMMdd-HH:mm:ss')
      : DateTime.fromMillis(execution.time, { zone }).toFormat('yyyyMMdd  HH:mm:ss');
  }
}
