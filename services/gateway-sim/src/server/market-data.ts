/**
 * Market data requests: contract details, streaming quotes (reqMktData) and 5-second real-time bars.
 * Streams are advanced by `tick()`, which the gateway calls on a wall-clock timer.
 */
import { computeBar, type WhatToShow } from '../market/bars';
import type { ContractQuery, SimInstrument } from '../market/instruments';
import type { Quote } from '../market/quotes';
import { TickType } from '../protocol/message-ids';
import { IbCode, IbText } from '../protocol/ib-errors';
import * as response from '../protocol/responses';
import type { ClientRequest } from '../protocol/requests';
import type { GatewayContext } from './context';
import type { Session } from './session';

interface QuoteSubscription {
  session: Session;
  reqId: number;
  instrument: SimInstrument;
  lastSecond: number;
  last: Quote | undefined;
}

interface BarSubscription {
  session: Session;
  reqId: number;
  instrument: SimInstrument;
  whatToShow: WhatToShow;
  regularHoursOnly: boolean;
  /** Start of the next 5-second bar to send (simulated ms). */
  nextStart: number;
}

export interface MarketDataOptions {
  /** Quote updates per subscription per timer tick; 1 = only the latest second (IB-like conflation). */
  maxQuoteUpdatesPerInterval: number;
}

const MAX_BARS_PER_TICK = 1_000;

function key(session: Session, reqId: number): string {
  return `${session.id}:${reqId}`;
}

export class MarketDataService {
  private readonly quotes = new Map<string, QuoteSubscription>();
  private readonly bars = new Map<string, BarSubscription>();
  /** Fault: the next contract-details requests fail with this error (a pacing refusal, a farm down). */
  private failingLookups: { count: number; code: number; message: string } | undefined;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly options: MarketDataOptions,
  ) {}

  get subscriptionCount(): { quotes: number; realTimeBars: number } {
    return { quotes: this.quotes.size, realTimeBars: this.bars.size };
  }

  /** IB's answer to a market-data request while another login holds the lines. */
  private refuseForCompetingSession(session: Session, reqId: number): boolean {
    if (!this.ctx.competingSession()) return false;
    session.send(response.errorMessage(reqId, IbCode.competingSession, IbText.competingSession));
    return true;
  }

  /** Handles a market-data request; false when the request is not one of these. */
  handle(session: Session, request: ClientRequest): boolean {
    switch (request.type) {
      case 'reqContractDetails':
        this.contractDetails(session, request.reqId, request.contract);
        return true;
      case 'reqMktData':
        if (this.refuseForCompetingSession(session, request.reqId)) return true;
        this.subscribeQuotes(session, request.reqId, request.contract, request.snapshot);
        return true;
      case 'cancelMktData':
        if (!this.quotes.delete(key(session, request.reqId))) {
          session.send(
            response.errorMessage(
              request.reqId,
              IbCode.unknownTickerId,
              IbText.unknownTickerId(request.reqId),
            ),
          );
        }
        return true;
      case 'reqRealTimeBars':
        if (this.refuseForCompetingSession(session, request.reqId)) return true;
        this.subscribeBars(session, request);
        return true;
      case 'cancelRealTimeBars':
        this.bars.delete(key(session, request.reqId));
        return true;
      case 'reqMarketDataType':
        return true;
      default:
        return false;
    }
  }

  dropSession(session: Session): void {
    for (const map of [this.quotes, this.bars] as Array<Map<string, { session: Session }>>) {
      for (const [subscriptionKey, subscription] of map)
        if (subscription.session === session) map.delete(subscriptionKey);
    }
  }

  // ---------------------------------------------------------------- contract details

  failNextContractLookups(count: number, code: number, message: string): void {
    this.failingLookups = count > 0 ? { count, code, message } : undefined;
  }

  private contractDetails(session: Session, reqId: number, contract: ContractQuery): void {
    if (this.failingLookups) {
      const { code, message } = this.failingLookups;
      if (--this.failingLookups.count <= 0) this.failingLookups = undefined;
      session.send(response.errorMessage(reqId, code, message));
      return;
    }
    const matches = this.ctx.instruments.match(contract);
    if (matches.length === 0) {
      session.send(response.errorMessage(reqId, IbCode.noSecurityDefinition, IbText.noSecurityDefinition));
      return;
    }
    const now = this.ctx.clock.now();
    for (const instrument of matches) {
      const hours = {
        tradingHours: this.ctx.schedule.hoursString(instrument.schedule, now, false),
        liquidHours: this.ctx.schedule.hoursString(instrument.schedule, now, true),
      };
      session.send(response.contractDetails(session.serverVersion, reqId, instrument, hours));
    }
    session.send(response.contractDetailsEnd(reqId));
  }

  // ---------------------------------------------------------------- quotes

  private subscribeQuotes(session: Session, reqId: number, contract: ContractQuery, snapshot: boolean): void {
    const instrument = this.ctx.instruments.resolve(contract);
    if (!instrument) {
      session.send(response.errorMessage(reqId, IbCode.noSecurityDefinition, IbText.noSecurityDefinition));
      return;
    }
    const subscriptionKey = key(session, reqId);
    if (!snapshot && this.quotes.has(subscriptionKey)) {
      session.send(
        response.errorMessage(reqId, 322, `Error processing request. Duplicate ticker id ${reqId}`),
      );
      return;
    }
    const now = this.ctx.clock.now();
    // Outside trading hours IB shows the last quote of the session that closed.
    const second = this.lastOpenSecond(instrument, now);
    const quote = this.ctx.book.atSecond(instrument, second);
    session.send(
      response.tickReqParams(reqId, instrument.minTick, instrument.secType === 'CASH' ? '' : '9c0001', 3),
    );
    session.send(response.marketDataType(reqId, 1));
    // With the link to IB down nothing flows; the stream starts in full once it is back.
    const linkUp = this.ctx.brokerLinkUp();
    if (linkUp) this.sendQuote(session, reqId, instrument, quote, undefined);
    if (snapshot) {
      session.send(response.tickSnapshotEnd(reqId));
      return;
    }
    this.quotes.set(subscriptionKey, {
      session,
      reqId,
      instrument,
      lastSecond: Math.floor(now / 1000),
      last: linkUp ? quote : undefined,
    });
  }

  private lastOpenSecond(instrument: SimInstrument, now: number): number {
    const schedule = this.ctx.schedule;
    if (schedule.isOpen(instrument.schedule, now)) return Math.floor(now / 1000);
    const open = schedule.openIntervals(instrument.schedule, now - 8 * 86_400_000, now);
    const last = open[open.length - 1];
    return last ? Math.ceil(last.end / 1000) - 1 : Math.floor(now / 1000);
  }

  /**
   * The ticks that differ from `previous` (all of them when there is none). Returns false when the client
   * has fallen behind and the quote was dropped; the next one then goes out in full.
   */
  private sendQuote(
    session: Session,
    reqId: number,
    instrument: SimInstrument,
    quote: Quote,
    previous: Quote | undefined,
  ): boolean {
    let ok = true;
    const send = (fields: Parameters<Session['send']>[0]) => {
      if (ok) ok = session.sendMarketData(fields);
    };
    if (!previous || previous.bid !== quote.bid) {
      send(response.tickPrice(reqId, TickType.bid, quote.bid, quote.bidSize, true));
      // The client never derives BID_SIZE from a bid tickPrice, so it is always sent on its own.
      send(response.tickSize(reqId, TickType.bidSize, quote.bidSize));
    } else if (previous.bidSize !== quote.bidSize) {
      send(response.tickSize(reqId, TickType.bidSize, quote.bidSize));
    }
    if (!previous || previous.ask !== quote.ask) {
      send(response.tickPrice(reqId, TickType.ask, quote.ask, quote.askSize, true));
    } else if (previous.askSize !== quote.askSize) {
      send(response.tickSize(reqId, TickType.askSize, quote.askSize));
    }
    if (instrument.secType === 'STK' && (!previous || previous.time !== quote.time)) {
      send(response.tickPrice(reqId, TickType.last, quote.last, quote.lastSize, false));
      send(response.tickSize(reqId, TickType.volume, quote.volume));
      send(response.tickString(reqId, TickType.lastTimestamp, String(quote.time / 1000)));
    }
    return ok;
  }

  // ---------------------------------------------------------------- real-time bars

  private subscribeBars(
    session: Session,
    request: Extract<ClientRequest, { type: 'reqRealTimeBars' }>,
  ): void {
    const instrument = this.ctx.instruments.resolve(request.contract);
    if (!instrument) {
      session.send(
        response.errorMessage(request.reqId, IbCode.noSecurityDefinition, IbText.noSecurityDefinition),
      );
      return;
    }
    if (request.barSize !== 5) {
      session.send(
        response.errorMessage(
          request.reqId,
          IbCode.realTimeQuery,
          `Invalid Real-time Query:Bar size ${request.barSize} is not supported, use 5`,
        ),
      );
      return;
    }
    const allowed =
      instrument.secType === 'CASH' ? ['MIDPOINT', 'BID', 'ASK'] : ['TRADES', 'MIDPOINT', 'BID', 'ASK'];
    if (!allowed.includes(request.whatToShow)) {
      session.send(
        response.errorMessage(
          request.reqId,
          IbCode.realTimeQuery,
          `Invalid Real-time Query:No data of type ${request.whatToShow} is available for the exchange '${instrument.exchange}' and the security type '${instrument.secType}'`,
        ),
      );
      return;
    }
    const now = this.ctx.clock.now();
    this.bars.set(key(session, request.reqId), {
      session,
      reqId: request.reqId,
      instrument,
      whatToShow: request.whatToShow as WhatToShow,
      regularHoursOnly: request.useRth && instrument.secType === 'STK',
      nextStart: Math.floor(now / 5000) * 5000 + 5000,
    });
  }

  // ---------------------------------------------------------------- streaming

  /** Advances every stream to the current simulated time. */
  tick(): void {
    const now = this.ctx.clock.now();
    const nowSecond = Math.floor(now / 1000);
    if (!this.ctx.brokerLinkUp()) {
      // Nothing flows while IB is unreachable, and what was missed is not sent afterwards.
      for (const subscription of this.quotes.values()) subscription.lastSecond = nowSecond;
      for (const subscription of this.bars.values())
        subscription.nextStart = Math.floor(now / 5000) * 5000 + 5000;
      return;
    }
    for (const subscription of this.quotes.values()) this.advanceQuotes(subscription, nowSecond);
    for (const subscription of this.bars.values()) this.advanceBars(subscription, now);
  }

  private advanceQuotes(subscription: QuoteSubscription, nowSecond: number): void {
    if (nowSecond <= subscription.lastSecond) return;
    const { instrument, session, reqId } = subscription;
    const from = Math.max(
      subscription.lastSecond + 1,
      nowSecond - this.options.maxQuoteUpdatesPerInterval + 1,
    );
    subscription.lastSecond = nowSecond;
    for (let second = from; second <= nowSecond; second++) {
      if (!this.ctx.schedule.isOpen(instrument.schedule, second * 1000)) continue;
      const quote = this.ctx.book.atSecond(instrument, second);
      if (this.sendQuote(session, reqId, instrument, quote, subscription.last)) subscription.last = quote;
      else {
        // Behind: forget what the client has, so the next quote goes out in full.
        subscription.last = undefined;
        return;
      }
    }
  }

  private advanceBars(subscription: BarSubscription, now: number): void {
    let sent = 0;
    while (now >= subscription.nextStart + 5000) {
      if (sent >= MAX_BARS_PER_TICK) {
        // Far behind (a huge speed factor): skip to the present rather than flood the client.
        subscription.nextStart = Math.floor(now / 5000) * 5000;
        break;
      }
      const start = subscription.nextStart;
      subscription.nextStart += 5000;
      const parts = this.ctx.schedule.openIntervals(
        subscription.instrument.schedule,
        start,
        start + 5000,
        subscription.regularHoursOnly,
      );
      const bar = computeBar(
        this.ctx.book,
        subscription.instrument,
        subscription.whatToShow,
        start,
        parts,
        1,
      );
      if (!bar) continue;
      this.ctx.timeline.barSent(subscription.instrument.key, start / 1000);
      subscription.session.sendMarketData(response.realTimeBar(subscription.reqId, start / 1000, bar));
      sent++;
    }
  }
}
