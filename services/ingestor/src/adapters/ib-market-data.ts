/**
 * The market-data port of the ingestor over one `IbConnection`: contract details, quotes, 5-second
 * real-time bars, historical bars and the gateway's clock. It turns `@stoqey/ib` request/response
 * exchanges into promises and streams into typed events, keyed by request id. No business rules here.
 *
 * Subscriptions belong to a gateway session: after a reconnect (or IB's "data lost", 1101) the caller
 * subscribes again. One-shot requests still open when a session ends are rejected with
 * GatewayDisconnectedError, never left to go out silently on the next session (plain `IBApi` queues
 * requests made while disconnected and sends them after the next handshake).
 */
import { EventEmitter } from 'node:events';

import {
  type BarSizeSetting,
  type Contract,
  type ContractDetails,
  EventName,
  type SecType,
  type WhatToShow,
} from '@stoqey/ib';
import { type Instrument, instrumentKey, type InstrumentKey } from '@ibstack/contracts';
import {
  classifyIbError,
  contractOf,
  type IbConnection,
  isNoHistoricalDataAnswer,
  parseIbTime,
  parseIbUtcTime,
} from '@ibstack/ib';

import type { RawBar } from '../domain/validation';
import {
  ContractLookupError,
  GatewayDisconnectedError,
  GatewayTimeoutError,
  HistoricalDataError,
  NoHistoricalDataError,
  UnknownInstrumentError,
} from '../errors';

/** IB's "No security definition has been found for the request". */
const NO_SECURITY_DEFINITION = 200;

/** What the gateway knows about a configured instrument. */
export interface ResolvedInstrument {
  instrument: Instrument;
  key: InstrumentKey;
  conId: number;
  minTick: number | undefined;
  timeZoneId: string;
  tradingHours: string;
  liquidHours: string;
  longName: string | undefined;
  /** The contract every later request uses (by conId, as IB recommends). */
  contract: Contract;
}

export interface HistoricalRequest {
  /** `yyyyMMdd-HH:mm:ss` (UTC). */
  endDateTime: string;
  /** `"3600 S"`. */
  duration: string;
  /** `"1 min"`. */
  barSize: string;
  whatToShow: string;
  useRegularTradingHours: boolean;
}

export interface HistoricalAnswer {
  bars: RawBar[];
  /** The window the gateway says it served, epoch ms; undefined when it did not say. */
  servedStart: number | undefined;
  servedEnd: number | undefined;
}

export interface MarketDataEvents {
  price: [requestId: number, field: number, value: number];
  size: [requestId: number, field: number, value: number | undefined];
  realTimeBar: [requestId: number, bar: RawBar];
  /** An error the gateway attributed to a streaming subscription. */
  subscriptionError: [requestId: number, code: number, message: string];
  /** A `currentTime` answer, epoch seconds, and when we received it (wall ms). */
  currentTime: [seconds: number, receivedAt: number];
}

interface Pending {
  description: string;
  resolve: (value: never) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  onError: (code: number, message: string) => Error | undefined;
  details?: ContractDetails[];
  bars?: RawBar[];
  /** The contract's zone, for bar times IB sends as local date and time. */
  timeZone?: string;
}

/** Request ids above the order-id range (IB reports errors for both in one id space). */
const FIRST_REQUEST_ID = 1_000_000;

const IB_FINISHED = /^finished-(.+?)-(\d{8}.*)$/;

export class IbMarketData extends EventEmitter<MarketDataEvents> {
  private nextId = FIRST_REQUEST_ID;
  private readonly pending = new Map<number, Pending>();
  private readonly streams = new Set<number>();

  constructor(
    readonly connection: IbConnection,
    private readonly options: { requestTimeoutMs: number; historyTimeoutMs: number },
  ) {
    super();
    const api = connection.api;
    api.on(EventName.contractDetails, (reqId: number, details: ContractDetails) => {
      this.pending.get(reqId)?.details?.push(details);
    });
    api.on(EventName.contractDetailsEnd, (reqId: number) => {
      const request = this.pending.get(reqId);
      if (request) this.settle(reqId, () => request.resolve(request.details as never));
    });
    api.on(
      EventName.historicalData,
      (
        reqId: number,
        time: string,
        open: number,
        high: number,
        low: number,
        close: number,
        volume: number,
      ) => {
        const request = this.pending.get(reqId);
        if (!request?.bars) return;
        const finished = IB_FINISHED.exec(time);
        if (finished || time.startsWith('finished')) {
          const answer: HistoricalAnswer = {
            bars: request.bars,
            servedStart: finished ? parseIbUtcTime(finished[1]!) : undefined,
            servedEnd: finished ? parseIbUtcTime(finished[2]!) : undefined,
          };
          this.settle(reqId, () => request.resolve(answer as never));
          return;
        }
        // Epoch seconds with formatDate 2; the other forms are read in the contract's zone.
        const ts = parseIbTime(time, request.timeZone ?? 'UTC');
        request.bars.push({ ts, open, high, low, close, volume });
      },
    );
    api.on(EventName.tickPrice, (reqId: number, field: number, value: number) => {
      if (this.streams.has(reqId)) this.emit('price', reqId, Number(field), value);
    });
    api.on(EventName.tickSize, (reqId: number, field?: number, value?: number) => {
      if (this.streams.has(reqId) && field !== undefined) this.emit('size', reqId, Number(field), value);
    });
    api.on(
      EventName.realtimeBar,
      (
        reqId: number,
        date: number,
        open: number,
        high: number,
        low: number,
        close: number,
        volume: number,
      ) => {
        if (!this.streams.has(reqId)) return;
        this.emit('realTimeBar', reqId, { ts: date * 1000, open, high, low, close, volume });
      },
    );
    api.on(EventName.currentTime, (time: number) => this.emit('currentTime', time, Date.now()));
    api.on(EventName.error, (error: Error, code: number, reqId: number) => {
      if (reqId === undefined || reqId < 0) return;
      const classified = classifyIbError(code, reqId, error.message);
      if (classified.severity !== 'error' && classified.severity !== 'critical') return;
      const request = this.pending.get(reqId);
      if (request) {
        const failure = request.onError(code, error.message);
        if (failure) this.settle(reqId, () => request.reject(failure));
        return;
      }
      if (this.streams.has(reqId)) this.emit('subscriptionError', reqId, code, error.message);
    });
    connection.on('state', (state) => {
      if (state === 'ready') return;
      // Everything in flight belonged to the session that just ended.
      for (const [reqId, request] of [...this.pending]) {
        this.settle(reqId, () => request.reject(new GatewayDisconnectedError(request.description)));
      }
      this.streams.clear();
    });
  }

  isReady(): boolean {
    return this.connection.isReady();
  }

  /** Looks the instrument up; rejects with UnknownInstrumentError when the gateway has no such contract. */
  async resolve(instrument: Instrument): Promise<ResolvedInstrument> {
    const key = instrumentKey(instrument);
    const details = await this.request<ContractDetails[]>(
      `contract details of ${key}`,
      this.options.requestTimeoutMs,
      (reqId) => this.connection.api.reqContractDetails(reqId, contractOf(instrument)),
      // Only 200 means the gateway has no such contract; anything else is worth asking again.
      (code, message) =>
        code === NO_SECURITY_DEFINITION
          ? new UnknownInstrumentError(key, code, message)
          : new ContractLookupError(key, code, message),
      { details: [] },
    );
    const first = details[0];
    if (!first?.contract.conId)
      throw new UnknownInstrumentError(key, undefined, 'the gateway returned no contract');
    const contract = first.contract;
    return {
      instrument: { ...instrument, conId: contract.conId },
      key,
      conId: contract.conId!,
      minTick: first.minTick,
      timeZoneId: first.timeZoneId ?? 'UTC',
      tradingHours: first.tradingHours ?? '',
      liquidHours: first.liquidHours ?? '',
      longName: first.longName,
      contract: {
        conId: contract.conId,
        symbol: contract.symbol ?? instrument.symbol,
        secType: (contract.secType ?? instrument.secType) as SecType,
        exchange: instrument.exchange,
        currency: contract.currency ?? instrument.currency,
        localSymbol: contract.localSymbol,
      },
    };
  }

  /** Streams quotes; events `price` and `size` carry the returned request id. */
  subscribeQuotes(contract: Contract): number {
    const reqId = this.nextRequestId();
    this.streams.add(reqId);
    this.connection.api.reqMktData(reqId, contract, '', false, false);
    return reqId;
  }

  cancelQuotes(reqId: number): void {
    if (this.streams.delete(reqId) && this.connection.isReady()) this.connection.api.cancelMktData(reqId);
  }

  /** Streams 5-second bars; event `realTimeBar` carries the returned request id. */
  subscribeRealTimeBars(contract: Contract, whatToShow: string, regularHoursOnly: boolean): number {
    const reqId = this.nextRequestId();
    this.streams.add(reqId);
    this.connection.api.reqRealTimeBars(reqId, contract, 5, whatToShow as WhatToShow, regularHoursOnly);
    return reqId;
  }

  cancelRealTimeBars(reqId: number): void {
    if (this.streams.delete(reqId) && this.connection.isReady())
      this.connection.api.cancelRealTimeBars(reqId);
  }

  /** One historical request (bar times as epoch seconds, formatDate 2). No pacing here: see the caller. */
  historicalBars(
    contract: Contract,
    label: string,
    request: HistoricalRequest,
    timeZone: string,
  ): Promise<HistoricalAnswer> {
    return this.request<HistoricalAnswer>(
      `historical bars of ${label} (${request.duration} to ${request.endDateTime})`,
      this.options.historyTimeoutMs,
      (reqId) =>
        this.connection.api.reqHistoricalData(
          reqId,
          contract,
          request.endDateTime,
          request.duration,
          request.barSize as BarSizeSetting,
          request.whatToShow as WhatToShow,
          request.useRegularTradingHours ? 1 : 0,
          2,
          false,
        ),
      (code, message) =>
        isNoHistoricalDataAnswer(code, message)
          ? new NoHistoricalDataError(label, code, message)
          : new HistoricalDataError(label, code, message),
      { bars: [], timeZone },
    );
  }

  /** Asks for the gateway's clock; the answer arrives as a `currentTime` event. */
  requestCurrentTime(): void {
    if (this.connection.isReady()) this.connection.api.reqCurrentTime();
  }

  private nextRequestId(): number {
    this.nextId += 1;
    return this.nextId;
  }

  private request<T>(
    description: string,
    timeoutMs: number,
    send: (reqId: number) => void,
    onError: (code: number, message: string) => Error | undefined,
    collect: Pick<Pending, 'details' | 'bars' | 'timeZone'>,
  ): Promise<T> {
    if (!this.connection.isReady()) return Promise.reject(new GatewayDisconnectedError(description));
    const reqId = this.nextRequestId();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => this.settle(reqId, () => reject(new GatewayTimeoutError(description, timeoutMs))),
        timeoutMs,
      );
      this.pending.set(reqId, {
        description,
        resolve: resolve,
        reject,
        timer,
        onError,
        ...collect,
      });
      send(reqId);
    });
  }

  private settle(reqId: number, finish: () => void): void {
    const request = this.pending.get(reqId);
    if (!request) return;
    clearTimeout(request.timer);
    this.pending.delete(reqId);
    finish();
  }
}
