/**
 * The `Broker` port (ports.ts) over one `IbConnection`. It turns `@stoqey/ib` callbacks into typed events
 * and its request/response exchanges (open orders, executions, positions, contract details) into promises,
 * in decimal strings and our own types: nothing of `@stoqey/ib` leaves this file. No business rules here:
 * the order tracker and the recovery decide.
 */
import { EventEmitter } from 'node:events';

import {
  type CommissionReport,
  type Contract,
  type ContractDetails,
  EventName,
  type Execution,
  type Order,
  OrderAction,
  type OrderState,
  OrderType,
  TimeInForce,
} from '@stoqey/ib';
import { type Instrument, type OrderSide, Mutex, isValidTimeZone, toDecimalString } from '@ibstack/contracts';
import { contractOf, formatIbUtcTime, type IbConnection, keyOfContract, parseIbTime } from '@ibstack/ib';

import { BrokerRequestError } from '../errors';
import type {
  Broker,
  BrokerCash,
  BrokerCommission,
  BrokerCompletedOrder,
  BrokerEvents,
  BrokerExecution,
  BrokerOpenOrder,
  BrokerOrderRequest,
  BrokerOrderStatus,
  BrokerPosition,
} from '../ports';

/** Request ids live far above order ids: IB reports errors for both in one id space. */
const FIRST_REQUEST_ID = 1_500_000_000;
const IB_MAX_DOUBLE = 1.7976931348623157e308;

function numberOrUndefined(value: number | undefined): number | undefined {
  return value === undefined || value === IB_MAX_DOUBLE || !Number.isFinite(value) ? undefined : value;
}

/**
 * A broker price as a decimal string: the one place execution turns IB's numbers into them (never
 * `String(number)`, which writes `1e-7`). IB's "unset" (Double.MAX_VALUE), NaN and infinities are undefined.
 * Quantities go through `toDecimalString` directly: a quantity that is not a number drops the message.
 */
function decimalOrUndefined(value: number | undefined): string | undefined {
  const number = numberOrUndefined(value);
  return number === undefined ? undefined : toDecimalString(number);
}

/**
 * An execution or completion time from IB (packages/ib reads every form), NaN when absent or unreadable.
 * A trailing zone name Intl does not know is read as the gateway's zone, as execution always has: the
 * wall-clock time is still good, and a fill with no time would be refused.
 */
export function executionTime(text: string | undefined, gatewayZone: string): number {
  if (!text) return Number.NaN;
  const time = parseIbTime(text, gatewayZone);
  if (!Number.isNaN(time)) return time;
  const zoned = /^(.*\d)\s+([A-Za-z][\w/+-]*)$/.exec(text.trim());
  return zoned && !isValidTimeZone(zoned[2]!) ? parseIbTime(zoned[1]!, gatewayZone) : Number.NaN;
}

function sideOf(action: string | undefined): OrderSide {
  return action === 'SELL' || action === 'SLD' || action === 'SSHORT' ? 'SELL' : 'BUY';
}

export class IbBroker extends EventEmitter<BrokerEvents> implements Broker {
  private nextRequestId = FIRST_REQUEST_ID;
  /** One snapshot request at a time: IB's end markers do not say which request they end. */
  private readonly snapshots = new Mutex();

  /**
   * @param timeZone the gateway's local zone, for execution times IB sends without one (IBGA's
   * IB_TIMEZONE). @default "UTC"
   */
  constructor(
    readonly connection: IbConnection,
    private readonly timeZone = 'UTC',
  ) {
    super();
    this.listen(
      EventName.openOrder,
      (orderId: number, contract: Contract, order: Order, state: OrderState) => {
        this.emit('openOrder', {
          orderId,
          permId: order.permId ?? 0,
          clientId: order.clientId ?? 0,
          orderRef: order.orderRef ?? '',
          instrument: keyOfContract(contract),
          side: sideOf(order.action),
          quantity: toDecimalString(order.totalQuantity ?? 0),
          orderType: String(order.orderType),
          limitPrice: decimalOrUndefined(order.lmtPrice),
          stopPrice: decimalOrUndefined(order.auxPrice),
          timeInForce: String(order.tif ?? ''),
          account: order.account ?? '',
          brokerStatus: String(state.status),
        });
      },
    );
    this.listen(
      EventName.orderStatus,
      (
        orderId: number,
        status: string,
        filled: number,
        remaining: number,
        avgFillPrice: number,
        permId?: number,
        _parentId?: number,
        lastFillPrice?: number,
        clientId?: number,
      ) => {
        this.emit('orderStatus', {
          orderId,
          permId: permId ?? 0,
          clientId: clientId ?? 0,
          brokerStatus: status,
          filledQuantity: toDecimalString(filled ?? 0),
          remainingQuantity: toDecimalString(remaining ?? 0),
          averageFillPrice: decimalOrUndefined(avgFillPrice) ?? '0',
          lastFillPrice: decimalOrUndefined(lastFillPrice) ?? '0',
        });
      },
    );
    this.listen(EventName.execDetails, (_reqId: number, contract: Contract, execution: Execution) => {
      const report = toExecution(contract, execution, this.timeZone);
      if (report) this.emit('execution', report);
    });
    this.listen(EventName.commissionReport, (report: CommissionReport) => {
      if (!report.execId) return;
      this.emit('commission', {
        execId: report.execId,
        commission: toDecimalString(report.commission ?? 0),
        currency: report.currency ?? 'USD',
        realizedPnl: decimalOrUndefined(report.realizedPNL) ?? null,
      });
    });
    this.listen(EventName.error, (error: Error, code: number, requestId: number) => {
      if (requestId >= 0 && requestId < FIRST_REQUEST_ID)
        this.emit('orderError', { orderId: requestId, code, message: error.message });
    });
    this.listen(
      EventName.updateAccountValue,
      (key: string, value: string, currency: string, account: string) => {
        this.emit('accountValue', { key, value, currency, account });
      },
    );
    this.listen(EventName.updateAccountTime, (time: string) => this.emit('accountTime', { time }));
    this.listen(EventName.accountDownloadEnd, (account: string) =>
      this.emit('accountDownloadEnd', { account }),
    );
  }

  /**
   * Listens to a `@stoqey/ib` event with the body guarded: the library calls listeners outside any
   * try/catch, so a throw here (bad data from the wire) would be an uncaught exception in the process.
   */
  private listen(event: EventName, handler: (...args: never[]) => void): void {
    (this.connection.api.on as (event: EventName, listener: (...args: unknown[]) => void) => unknown).call(
      this.connection.api,
      event,
      (...args: unknown[]) => {
        try {
          (handler as (...values: unknown[]) => void)(...args);
        } catch (error) {
          this.emit('dataError', { event, error: error instanceof Error ? error : new Error(String(error)) });
        }
      },
    );
  }

  get clientId(): number {
    return this.connection.clientId;
  }

  isReady(): boolean {
    return this.connection.isReady();
  }

  isBrokerLinkUp(): boolean {
    return this.connection.isBrokerLinkUp();
  }

  /** Sends an order (or re-sends it: the same id modifies, never duplicates). Throws if not connected. */
  placeOrder(request: BrokerOrderRequest): void {
    if (!this.connection.isReady()) throw new BrokerRequestError('gateway session not ready; order not sent');
    const order: Order = {
      action: request.side === 'BUY' ? OrderAction.BUY : OrderAction.SELL,
      totalQuantity: Number(request.quantity),
      orderType:
        request.orderType === 'MKT'
          ? OrderType.MKT
          : request.orderType === 'LMT'
            ? OrderType.LMT
            : OrderType.STP,
      lmtPrice: request.limitPrice ? Number(request.limitPrice) : undefined,
      auxPrice: request.stopPrice ? Number(request.stopPrice) : undefined,
      tif: request.timeInForce === 'GTC' ? TimeInForce.GTC : TimeInForce.DAY,
      orderRef: request.orderRef,
      account: request.account,
      // Explicit: a real gateway holds an order whose transmit flag is unset.
      transmit: true,
    };
    this.connection.api.placeOrder(request.orderId, contractOf(request.instrument), order);
  }

  cancelOrder(orderId: number): void {
    if (!this.connection.isReady())
      throw new BrokerRequestError('gateway session not ready; cancel not sent');
    this.connection.api.cancelOrder(orderId);
  }

  /** The gateway's clock (epoch ms): the broker's day, not ours, bounds what `reqExecutions` reports. */
  currentTime(timeoutMs = 5_000): Promise<number> {
    return this.collect<number>(timeoutMs, 'reqCurrentTime', (done) => {
      const onTime = (time: number) => done(time * 1000);
      this.connection.api.once(EventName.currentTime, onTime);
      this.connection.api.reqCurrentTime();
      return () => this.connection.api.off(EventName.currentTime, onTime);
    });
  }

  subscribeAccountUpdates(account: string): void {
    this.connection.api.reqAccountUpdates(true, account);
  }

  /** Every open order of every client (`reqAllOpenOrders`), with its latest status. */
  openOrders(timeoutMs = 10_000): Promise<{ orders: BrokerOpenOrder[]; statuses: BrokerOrderStatus[] }> {
    return this.snapshots.run(() =>
      this.collect<{ orders: BrokerOpenOrder[]; statuses: BrokerOrderStatus[] }>(
        timeoutMs,
        'reqAllOpenOrders',
        (done) => {
          const orders: BrokerOpenOrder[] = [];
          const statuses: BrokerOrderStatus[] = [];
          const onOrder = (order: BrokerOpenOrder) => orders.push(order);
          const onStatus = (status: BrokerOrderStatus) => statuses.push(status);
          const onEnd = () => done({ orders, statuses });
          this.on('openOrder', onOrder);
          this.on('orderStatus', onStatus);
          this.connection.api.once(EventName.openOrderEnd, onEnd);
          this.connection.api.reqAllOpenOrders();
          return () => {
            this.off('openOrder', onOrder);
            this.off('orderStatus', onStatus);
            this.connection.api.off(EventName.openOrderEnd, onEnd);
          };
        },
      ),
    );
  }

  /** Executions since `sinceMs` when given (IB reports the current day), with their commission reports. */
  executions(
    { sinceMs }: { sinceMs?: number } = {},
    timeoutMs = 10_000,
  ): Promise<{ executions: BrokerExecution[]; commissions: BrokerCommission[] }> {
    return this.snapshots.run(() => {
      const requestId = this.nextRequestId++;
      return this.collect<{ executions: BrokerExecution[]; commissions: BrokerCommission[] }>(
        timeoutMs,
        'reqExecutions',
        (done) => {
          const executions: BrokerExecution[] = [];
          const commissions: BrokerCommission[] = [];
          const onDetails = (reqId: number, contract: Contract, execution: Execution) => {
            if (reqId !== requestId) return;
            const report = toExecution(contract, execution, this.timeZone);
            if (report) executions.push(report);
          };
          const onCommission = (commission: BrokerCommission) => commissions.push(commission);
          const onEnd = (reqId: number) => {
            if (reqId === requestId) done({ executions, commissions });
          };
          this.connection.api.on(EventName.execDetails, onDetails);
          this.on('commission', onCommission);
          this.connection.api.on(EventName.execDetailsEnd, onEnd);
          this.connection.api.reqExecutions(
            requestId,
            sinceMs === undefined ? {} : { time: formatIbUtcTime(sinceMs) },
          );
          return () => {
            this.connection.api.off(EventName.execDetails, onDetails);
            this.off('commission', onCommission);
            this.connection.api.off(EventName.execDetailsEnd, onEnd);
          };
        },
      );
    });
  }

  /** Finished orders (`reqCompletedOrders`, API orders only): unlike executions, not cut at midnight. */
  completedOrders(timeoutMs = 10_000): Promise<BrokerCompletedOrder[]> {
    return this.snapshots.run(() =>
      this.collect<BrokerCompletedOrder[]>(timeoutMs, 'reqCompletedOrders', (done) => {
        const orders: BrokerCompletedOrder[] = [];
        const onOrder = (contract: Contract, order: Order, state: OrderState) => {
          try {
            orders.push({
              permId: order.permId ?? 0,
              orderRef: order.orderRef ?? '',
              account: order.account ?? '',
              instrument: keyOfContract(contract),
              side: sideOf(order.action),
              quantity: toDecimalString(order.totalQuantity ?? 0),
              filledQuantity: toDecimalString(order.filledQuantity ?? 0),
              orderType: String(order.orderType ?? ''),
              limitPrice: decimalOrUndefined(order.lmtPrice),
              brokerStatus: String(state.status ?? ''),
              completedAt: executionTime(state.completedTime, this.timeZone),
            });
          } catch (error) {
            this.emit('dataError', {
              event: 'completedOrder',
              error: error instanceof Error ? error : new Error(String(error)),
            });
          }
        };
        const onEnd = () => done(orders);
        this.connection.api.on(EventName.completedOrder, onOrder);
        this.connection.api.once(EventName.completedOrdersEnd, onEnd);
        this.connection.api.reqCompletedOrders(true);
        return () => {
          this.connection.api.off(EventName.completedOrder, onOrder);
          this.connection.api.off(EventName.completedOrdersEnd, onEnd);
        };
      }),
    );
  }

  positions(timeoutMs = 10_000): Promise<BrokerPosition[]> {
    return this.snapshots.run(() =>
      this.collect<BrokerPosition[]>(timeoutMs, 'reqPositions', (done) => {
        const positions: BrokerPosition[] = [];
        const onPosition = (account: string, contract: Contract, quantity: number, averageCost?: number) =>
          positions.push({
            account,
            instrument: keyOfContract(contract),
            quantity: toDecimalString(quantity),
            averageCost: decimalOrUndefined(averageCost) ?? '0',
          });
        const onEnd = () => done(positions);
        this.connection.api.on(EventName.position, onPosition);
        this.connection.api.once(EventName.positionEnd, onEnd);
        this.connection.api.reqPositions();
        return () => {
          this.connection.api.off(EventName.position, onPosition);
          this.connection.api.off(EventName.positionEnd, onEnd);
          this.connection.api.cancelPositions();
        };
      }),
    );
  }

  /**
   * Cash per account and currency as the broker books it now: one `reqAccountSummary` of `$LEDGER:ALL`
   * (IB's per-currency `CashBalance`; the `BASE` total is left out), cancelled once answered.
   */
  cashBalances(timeoutMs = 10_000): Promise<BrokerCash[]> {
    const requestId = this.nextRequestId++;
    return this.collect<BrokerCash[]>(timeoutMs, 'reqAccountSummary', (done, fail) => {
      const balances: BrokerCash[] = [];
      const onSummary = (reqId: number, account: string, tag: string, value: string, currency: string) => {
        if (reqId !== requestId || tag !== 'CashBalance' || !currency || currency === 'BASE') return;
        if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(String(value).trim())) {
          fail(
            new BrokerRequestError(`reqAccountSummary: CashBalance ${currency} of ${account} is "${value}"`),
          );
          return;
        }
        balances.push({ account, currency, cash: toDecimalString(String(value).trim()) });
      };
      const onEnd = (reqId: number) => {
        if (reqId === requestId) done(balances);
      };
      const onError = (error: Error, code: number, reqId: number) => {
        if (reqId === requestId)
          fail(new BrokerRequestError(`reqAccountSummary: ${code} ${error.message}`, code));
      };
      this.connection.api.on(EventName.accountSummary, onSummary);
      this.connection.api.on(EventName.accountSummaryEnd, onEnd);
      this.connection.api.on(EventName.error, onError);
      this.connection.api.reqAccountSummary(requestId, 'All', '$LEDGER:ALL');
      return () => {
        this.connection.api.off(EventName.accountSummary, onSummary);
        this.connection.api.off(EventName.accountSummaryEnd, onEnd);
        this.connection.api.off(EventName.error, onError);
        if (this.connection.isReady()) this.connection.api.cancelAccountSummary(requestId);
      };
    });
  }

  async contractId(instrument: Instrument, timeoutMs = 10_000): Promise<number | undefined> {
    const [details] = await this.contractDetails(instrument, timeoutMs);
    return details?.contract.conId || undefined;
  }

  private contractDetails(instrument: Instrument, timeoutMs: number): Promise<ContractDetails[]> {
    const requestId = this.nextRequestId++;
    return this.collect<ContractDetails[]>(timeoutMs, 'reqContractDetails', (done, fail) => {
      const details: ContractDetails[] = [];
      const onDetails = (reqId: number, contractDetails: ContractDetails) => {
        if (reqId === requestId) details.push(contractDetails);
      };
      const onEnd = (reqId: number) => {
        if (reqId === requestId) done(details);
      };
      const onError = (error: Error, code: number, reqId: number) => {
        if (reqId === requestId)
          fail(
            new BrokerRequestError(
              `contract details for ${instrument.symbol}: ${code} ${error.message}`,
              code,
            ),
          );
      };
      this.connection.api.on(EventName.contractDetails, onDetails);
      this.connection.api.on(EventName.contractDetailsEnd, onEnd);
      this.connection.api.on(EventName.error, onError);
      this.connection.api.reqContractDetails(requestId, contractOf(instrument));
      return () => {
        this.connection.api.off(EventName.contractDetails, onDetails);
        this.connection.api.off(EventName.contractDetailsEnd, onEnd);
        this.connection.api.off(EventName.error, onError);
      };
    });
  }

  private collect<T>(
    timeoutMs: number,
    what: string,
    start: (done: (value: T) => void, fail: (error: Error) => void) => () => void,
  ): Promise<T> {
    if (!this.connection.isReady())
      return Promise.reject(new BrokerRequestError(`${what}: gateway session not ready`));
    return new Promise<T>((resolve, reject) => {
      let cleanup: () => void = () => undefined;
      const onState = (state: string) => {
        if (state !== 'ready') finish(() => reject(new BrokerRequestError(`${what}: gateway session lost`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new BrokerRequestError(`${what}: no answer within ${timeoutMs} ms`))),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.connection.off('state', onState);
        cleanup();
        settle();
      };
      this.connection.on('state', onState);
      cleanup = start(
        (value) => finish(() => resolve(value)),
        (error) => finish(() => reject(error)),
      );
    });
  }
}

function toExecution(
  contract: Contract,
  execution: Execution,
  timeZone: string,
): BrokerExecution | undefined {
  if (!execution.execId) return undefined;
  return {
    execId: execution.execId,
    orderId: execution.orderId ?? 0,
    permId: execution.permId ?? 0,
    clientId: execution.clientId ?? 0,
    orderRef: execution.orderRef ?? '',
    account: execution.acctNumber ?? '',
    instrument: keyOfContract(contract),
    side: sideOf(execution.side),
    quantity: toDecimalString(execution.shares ?? 0),
    price: toDecimalString(execution.price ?? 0),
    cumulativeQuantity: toDecimalString(execution.cumQty ?? 0),
    averagePrice: toDecimalString(execution.avgPrice ?? 0),
    time: executionTime(execution.time, timeZone),
  };
}
