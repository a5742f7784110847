/**
 * What execution needs from a broker, in decimal strings and our own types: the rest of execution depends
 * on this interface only, and `adapters/ib-broker.ts` implements it over `@stoqey/ib`.
 */
import type { Instrument, OrderSide, OrderType, TimeInForce } from '@ibstack/contracts';

export interface BrokerOrderRequest {
  orderId: number;
  instrument: Instrument;
  side: OrderSide;
  quantity: string;
  orderType: OrderType;
  limitPrice?: string | null;
  stopPrice?: string | null;
  timeInForce: TimeInForce;
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
  side: OrderSide;
  quantity: string;
  orderType: string;
  /** Decimal string; undefined when IB sent none. */
  limitPrice: string | undefined;
  /** Decimal string; undefined when IB sent none. */
  stopPrice: string | undefined;
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
  /** Decimal string; "0" before a fill. */
  averageFillPrice: string;
  /** Decimal string; "0" before a fill. */
  lastFillPrice: string;
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
  /** Decimal string; undefined when IB sent none. */
  limitPrice: string | undefined;
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
  /** Decimal string; "0" when IB sent none. */
  averageCost: string;
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

/** A typed event source: `on`/`off` for the events of `BrokerEvents`. */
export interface BrokerEventSource {
  on<K extends keyof BrokerEvents>(event: K, listener: (...args: BrokerEvents[K]) => void): unknown;
  off<K extends keyof BrokerEvents>(event: K, listener: (...args: BrokerEvents[K]) => void): unknown;
}

/** The broker port. Reads reject with `BrokerRequestError` (errors.ts) on a timeout or a lost session. */
export interface Broker extends BrokerEventSource {
  /** Our API client id: orders placed under it are ours. */
  readonly clientId: number;
  /** A gateway session is up (the API handshake done). */
  isReady(): boolean;
  /** The gateway's own link to IB is up (no 1100 outstanding). */
  isBrokerLinkUp(): boolean;
  /** Sends an order (or re-sends it: the same id modifies, never duplicates). Throws if not connected. */
  placeOrder(request: BrokerOrderRequest): void;
  cancelOrder(orderId: number): void;
  /** The gateway's clock, epoch ms. */
  currentTime(timeoutMs?: number): Promise<number>;
  subscribeAccountUpdates(account: string): void;
  /** Every open order of every client, with its latest status. */
  openOrders(timeoutMs?: number): Promise<{ orders: BrokerOpenOrder[]; statuses: BrokerOrderStatus[] }>;
  /** Executions (of the broker's current day) since `sinceMs` when given, with their commission reports. */
  executions(
    filter?: { sinceMs?: number },
    timeoutMs?: number,
  ): Promise<{ executions: BrokerExecution[]; commissions: BrokerCommission[] }>;
  /** Finished API orders: unlike executions, not cut at midnight. */
  completedOrders(timeoutMs?: number): Promise<BrokerCompletedOrder[]>;
  positions(timeoutMs?: number): Promise<BrokerPosition[]>;
  /** Cash per account and currency as the broker books it now. */
  cashBalances(timeoutMs?: number): Promise<BrokerCash[]>;
  /** The instrument's contract id at the gateway; undefined when it answered with none. */
  contractId(instrument: Instrument, timeoutMs?: number): Promise<number | undefined>;
}
