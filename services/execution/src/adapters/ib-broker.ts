/**
 * The broker port of the execution service, over one `IbConnection`. It turns `@stoqey/ib` callbacks
 * into typed events and its request/response exchanges (open orders, executions, positions, contract
 * details) into promises. No business rules here: the order tracker and the recovery decide.
 */
import { EventEmitter } from 'node:events';

import {
  type CommissionReport,
  type Contract,
  type ContractDetails,
  EventName,
  type Execution,
  type ExecutionFilter,
  type Order,
  OrderAction,
  type OrderState,
  OrderType,
  TimeInForce,
} from '@stoqey/ib';
import {
  type Instrument,
  type OrderSide,
  type OrderType as OurOrderType,
  type TimeInForce as OurTif,
  instantOfWallClock,
  isValidTimeZone,
  toDecimalString,
} from '@ibstack/contracts';
import { contractOf, type IbConnection, keyOfContract } from '@ibstack/ib';

export interface BrokerOrderRequest {
  orderId: number;
  instrument: Instrument;
  side: OrderSide;
  quantity: string;
  orderType: OurOrderType;
  limitPrice?: string | null;
  stopPrice?: string | null;
  timeInForce: OurTif;
  /** The intent id: how a restart recognises the order at the broker. */
  orderRef: string;
  account: string;
}

export interface BrokerOpenOrder {
  orderId: number;
  permId: number;
  clientId: number;
  orderRef: string;
  instrument: string;
  contract: Contract;
  side: OrderSide;
  quantity: string;
  orderType: string;
  limitPrice: number | undefined;
  stopPrice: number | undefined;
  timeInForce: string;
  account: string;
  brokerStatus: string;
}

export interface BrokerOrderStatus {
  orderId: number;
  permId: number;
  clientId: number;
  brokerStatus: string;
  filledQuantity: string;
  remainingQuantity: string;
  averageFillPrice: number;
  lastFillPrice: number;
}

export interface BrokerExecution {
  execId: string;
  orderId: number;
  permId: number;
  clientId: number;
  orderRef: string;
  account: string;
  instrument: string;
  side: OrderSide;
  quantity: string;
  price: string;
  cumulativeQuantity: string;
  averagePrice: string;
  /** Epoch ms. */
  time: number;
}

/**
 * A finished order as `reqCompletedOrders` reports it. IB sends no order id, client id or average fill
 * price here: the perm id is the order's identity, and the filled quantity what is left of its fills once
 * they are past `reqExecutions`' cut-off.
 */
export interface BrokerCompletedOrder {
  permId: number;
  orderRef: string;
  account: string;
  instrument: string;
  side: OrderSide;
  quantity: string;
  filledQuantity: string;
  orderType: string;
  limitPrice: number | undefined;
  /** Filled, Cancelled, Inactive. */
  brokerStatus: string;
  /** Epoch ms it finished; NaN when IB sent none we can read. */
  completedAt: number;
}

export interface BrokerCommission {
  execId: string;
  commission: string;
  currency: string;
  realizedPnl: string | null;
}

export interface BrokerPosition {
  account: string;
  instrument: string;
  quantity: string;
  averageCost: number;
}

/** One currency's cash in one account, as the broker books it. */
export interface BrokerCash {
  account: string;
  currency: string;
  /** Decimal string. */
  cash: string;
}

export interface BrokerEvents {
  openOrder: [order: BrokerOpenOrder];
  orderStatus: [status: BrokerOrderStatus];
  execution: [execution: BrokerExecution];
  commission: [commission: BrokerCommission];
  /** An error the gateway attributed to an order id. */
  orderError: [info: { orderId: number; code: number; message: string }];
  accountValue: [info: { key: string; value: string; currency: string; account: string }];
  /** The end of a batch of account values (`updateAccountTime`, IB's `HH:mm`): the values are current. */
  accountTime: [info: { time: string }];
  /** The end of the full account download a `reqAccountUpdates` subscription starts with. */
  accountDownloadEnd: [info: { account: string }];
  /** A broker message we could not read (a NaN quantity, say): dropped; reconciliation repairs. */
  dataError: [info: { event: string; error: Error }];
}

export class BrokerRequestError extends Error {
  override readonly name = 'BrokerRequestError';
  constructor(
    message: string,
    /** The IB error code, when the broker answered with one. */
    readonly code?: number,
  ) {
    super(message);
  }
}

/** Request ids live far above order ids: IB reports errors for both in one id space. */
const FIRST_REQUEST_ID = 1_500_000_000;
const IB_MAX_DOUBLE = 1.7976931348623157e308;

function numberOrUndefined(value: number | undefined): number | undefined {
  return value === undefined || value === IB_MAX_DOUBLE || !Number.isFinite(value) ? undefined : value;
}

/**
 * IB execution times: `20261124 15:04:05`, `20261124  15:04:05`, `20261124-15:04:05`, optionally followed
 * by a zone (`US/Eastern`, `UTC`). Without a zone the time is the gateway's local time, `defaultZone`.
 * Epoch seconds pass through. An unknown zone name is read as `defaultZone`.
 */
export function parseIbTime(text: string | undefined, defaultZone = 'UTC'): number {
  if (!text) return Number.NaN;
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const match = /^(\d{4})(\d{2})(\d{2})[\s-]+(\d{2}):(\d{2}):(\d{2})(?:\s+(\S+))?$/.exec(trimmed);
  if (!match) return Number.NaN;
  const [y, mo, d, h, mi, s] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const zone = match[7] && isValidTimeZone(match[7]) ? match[7] : defaultZone;
  return instantOfWallClock(Date.UTC(y, mo - 1, d, h, mi, s), zone);
}

function sideOf(action: string | undefined): OrderSide {
  return action === 'SELL' || action === 'SLD' || action === 'SSHORT' ? 'SELL' : 'BUY';
}

export class IbBroker extends EventEmitter<BrokerEvents> {
  private nextRequestId = FIRST_REQUEST_ID;
  private snapshotChain: Promise<unknown> = Promise.resolve();

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
          contract,
          side: sideOf(order.action),
          quantity: toDecimalString(order.totalQuantity ?? 0),
          orderType: String(order.orderType),
          limitPrice: numberOrUndefined(order.lmtPrice),
          stopPrice: numberOrUndefined(order.auxPrice),
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
          averageFillPrice: avgFillPrice ?? 0,
          lastFillPrice: lastFillPrice ?? 0,
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
        realizedPnl:
          numberOrUndefined(report.realizedPNL) === undefined ? null : toDecimalString(report.realizedPNL!),
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
    return this.serialised(() =>
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

  /** Executions matching the filter (IB reports the current day), with their commission reports. */
  executions(
    filter: ExecutionFilter = {},
    timeoutMs = 10_000,
  ): Promise<{ executions: BrokerExecution[]; commissions: BrokerCommission[] }> {
    return this.serialised(() => {
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
          this.connection.api.reqExecutions(requestId, filter);
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
    return this.serialised(() =>
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
              limitPrice: numberOrUndefined(order.lmtPrice),
              brokerStatus: String(state.status ?? ''),
              completedAt: parseIbTime(state.completedTime, this.timeZone),
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
    return this.serialised(() =>
      this.collect<BrokerPosition[]>(timeoutMs, 'reqPositions', (done) => {
        const positions: BrokerPosition[] = [];
        const onPosition = (account: string, contract: Contract, quantity: number, averageCost?: number) =>
          positions.push({
            account,
            instrument: keyOfContract(contract),
            quantity: toDecimalString(quantity),
            averageCost: averageCost ?? 0,
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

  contractDetails(instrument: Instrument, timeoutMs = 10_000): Promise<ContractDetails[]> {
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

  /** One snapshot request at a time: IB's end markers do not say which request they end. */
  private serialised<T>(run: () => Promise<T>): Promise<T> {
    const result = this.snapshotChain.then(run, run);
    this.snapshotChain = result.catch(() => undefined);
    return result;
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
    time: parseIbTime(execution.time, timeZone),
  };
}
