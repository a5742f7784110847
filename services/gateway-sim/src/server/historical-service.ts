/**
 * reqHistoricalData: validation as IB does it (bar sizes, durations, step-size limits, what to show),
 * the pacing rules, one historicalData answer built from the same quotes as the live stream, and
 * keepUpToDate updates that the gateway's timer advances.
 */
import { computeBar, sampleStep, type WhatToShow } from '../market/bars';
import {
  barLabel,
  barStartOf,
  type BarSize,
  durationSeconds,
  historicalBarsInSlices,
  LEGAL_BAR_SIZES,
  maxDurationSeconds,
  parseBarSize,
  parseDuration,
  parseEndDateTime,
  utcStamp,
  windowStart,
} from '../market/historical';
import type { SimInstrument } from '../market/instruments';
import type { HistoricalPacing } from '../market/pacing';
import { IbCode, IbText } from '../protocol/ib-errors';
import { RequestId } from '../protocol/message-ids';
import type { ClientRequest } from '../protocol/requests';
import * as response from '../protocol/responses';
import type { GatewayContext } from './context';
import type { Session } from './session';

interface UpdateSubscription {
  session: Session;
  reqId: number;
  instrument: SimInstrument;
  whatToShow: WhatToShow;
  bar: BarSize;
  regularHoursOnly: boolean;
  formatDate: number;
  currentStart: number;
  lastSecond: number;
}

/** A validated, admitted request waiting for its bars. */
interface Answer {
  session: Session;
  request: Extract<ClientRequest, { type: 'reqHistoricalData' }>;
  instrument: SimInstrument;
  whatToShow: WhatToShow;
  bar: BarSize;
  startTime: number;
  endTime: number;
  regularHoursOnly: boolean;
}

const CASH_WHAT_TO_SHOW = new Set(['MIDPOINT', 'BID', 'ASK', 'BID_ASK']);
const STOCK_WHAT_TO_SHOW = new Set(['TRADES', 'MIDPOINT', 'BID', 'ASK', 'BID_ASK', 'ADJUSTED_LAST']);

function key(session: Session, reqId: number): string {
  return `${session.id}:${reqId}`;
}

export class HistoricalService {
  private readonly updates = new Map<string, UpdateSubscription>();
  /** Requests whose bars are still being computed, with a flag that stops them. */
  private readonly inFlight = new Map<string, { session: Session; cancelled: boolean }>();

  constructor(
    private readonly ctx: GatewayContext,
    private readonly pacing: HistoricalPacing | undefined,
  ) {}

  get subscriptionCount(): number {
    return this.updates.size;
  }

  handle(session: Session, request: ClientRequest): boolean {
    if (request.type === 'reqHistoricalData') {
      this.request(session, request);
      return true;
    }
    if (request.type === 'cancelHistoricalData') {
      const pending = this.inFlight.get(key(session, request.reqId));
      if (pending) {
        pending.cancelled = true;
        this.inFlight.delete(key(session, request.reqId));
      }
      if (this.updates.delete(key(session, request.reqId)) || pending) {
        session.send(
          response.errorMessage(
            request.reqId,
            IbCode.historicalData,
            IbText.historical(IbText.queryCancelled(request.reqId)),
          ),
        );
      }
      return true;
    }
    return false;
  }

  /** Stops every computation in progress (the gateway is closing). */
  stop(): void {
    for (const pending of this.inFlight.values()) pending.cancelled = true;
    this.inFlight.clear();
  }

  dropSession(session: Session): void {
    for (const [requestKey, pending] of this.inFlight) {
      if (pending.session === session) {
        pending.cancelled = true;
        this.inFlight.delete(requestKey);
      }
    }
    for (const [subscriptionKey, subscription] of this.updates) {
      if (subscription.session === session) this.updates.delete(subscriptionKey);
    }
  }

  /** Advances keep-up-to-date bars; with the link to IB down only the cursors move. */
  tick(): void {
    const now = this.ctx.clock.now();
    if (!this.ctx.brokerLinkUp()) {
      for (const subscription of this.updates.values()) subscription.lastSecond = Math.floor(now / 1000);
      return;
    }
    for (const subscription of this.updates.values()) this.advanceUpdates(subscription, now);
  }

  private request(session: Session, request: Extract<ClientRequest, { type: 'reqHistoricalData' }>): void {
    const fail = (code: number, message: string) =>
      session.send(response.errorMessage(request.reqId, code, message));
    const instrument = this.ctx.instruments.resolve(request.contract);
    if (!instrument) return fail(IbCode.noSecurityDefinition, IbText.noSecurityDefinition);
    const bar = parseBarSize(request.barSize);
    if (!bar) {
      return fail(
        IbCode.validation,
        IbText.validation(
          RequestId.reqHistoricalData,
          `Historical data bar size setting is invalid. Legal ones are: ${LEGAL_BAR_SIZES}`,
        ),
      );
    }
    const duration = parseDuration(request.duration);
    if (!duration) {
      return fail(
        IbCode.validation,
        IbText.validation(
          RequestId.reqHistoricalData,
          `Historical data query duration "${request.duration}" is invalid`,
        ),
      );
    }
    const whatToShow = request.whatToShow === 'ADJUSTED_LAST' ? 'TRADES' : request.whatToShow;
    const allowed = instrument.secType === 'CASH' ? CASH_WHAT_TO_SHOW : STOCK_WHAT_TO_SHOW;
    if (!allowed.has(request.whatToShow)) {
      const what = whatToShow === 'TRADES' ? 'Last' : whatToShow;
      const label = bar.kind === 'seconds' ? String(bar.seconds) : '1d';
      return fail(
        IbCode.historicalData,
        IbText.historical(
          `No historical market data for ${instrument.symbol}/${instrument.secType}@${instrument.exchange} ${what} ${label}`,
        ),
      );
    }
    const now = this.ctx.clock.now();
    const end = parseEndDateTime(request.endDateTime, now);
    if (!end.ok) {
      return fail(
        IbCode.validation,
        IbText.validation(RequestId.reqHistoricalData, `End date/time "${end.reason}" is invalid`),
      );
    }
    if (request.keepUpToDate && request.endDateTime.trim() !== '') {
      return fail(
        IbCode.validation,
        IbText.validation(RequestId.reqHistoricalData, 'End date/time must be empty with keepUpToDate'),
      );
    }
    if (durationSeconds(duration) > maxDurationSeconds(bar)) {
      return fail(IbCode.historicalData, IbText.historical(IbText.timeLengthExceedMax));
    }
    if (this.pacing) {
      const verdict = this.pacing.admit({
        identity: JSON.stringify([
          instrument.conId,
          request.endDateTime,
          request.duration,
          bar.label,
          whatToShow,
          request.useRth,
          request.formatDate,
          request.keepUpToDate,
        ]),
        series: `${instrument.conId}:${instrument.exchange}:${whatToShow}`,
        weight: whatToShow === 'BID_ASK' ? 2 : 1,
      });
      if (!verdict.ok) {
        this.ctx.log.info({ reqId: request.reqId, rule: verdict.rule }, 'historical data pacing violation');
        return fail(IbCode.historicalData, IbText.historical(IbText.pacingViolation));
      }
    }
    if (end.impliedZone)
      session.send(response.errorMessage(request.reqId, IbCode.impliedTimeZone, IbText.impliedTimeZone));
    const endTime = Math.min(end.time, now);
    const startTime = windowStart(duration, endTime);
    const regularHoursOnly = request.useRth && instrument.secType === 'STK';
    const requestKey = key(session, request.reqId);
    const pending = { session, cancelled: false };
    this.inFlight.set(requestKey, pending);
    const query: Answer = {
      session,
      request,
      instrument,
      whatToShow: whatToShow as WhatToShow,
      bar,
      startTime,
      endTime,
      regularHoursOnly,
    };
    // Long requests are computed in slices so the other sessions, ticks and matching keep going meanwhile.
    this.answer(query, () => pending.cancelled)
      .catch((error: unknown) => {
        this.ctx.log.error({ err: error, reqId: request.reqId }, 'historical data request failed');
        if (!pending.cancelled) {
          session.send(
            response.errorMessage(
              request.reqId,
              IbCode.validation,
              IbText.validation(RequestId.reqHistoricalData, 'Internal error in the simulated gateway'),
            ),
          );
        }
      })
      .finally(() => {
        if (this.inFlight.get(requestKey) === pending) this.inFlight.delete(requestKey);
      });
  }

  private async answer(query: Answer, cancelled: () => boolean): Promise<void> {
    const { session, request, instrument, whatToShow, bar, startTime, endTime, regularHoursOnly } = query;
    const bars = await historicalBarsInSlices(
      {
        book: this.ctx.book,
        schedule: this.ctx.schedule,
        instrument,
        whatToShow,
        bar,
        start: startTime,
        end: endTime,
        regularHoursOnly,
        formatDate: request.formatDate,
      },
      { cancelled },
    );
    if (bars === undefined || cancelled() || session.phase === 'closed') return;
    if (bars.length === 0) {
      const what = whatToShow.charAt(0) + whatToShow.slice(1).toLowerCase();
      session.send(
        response.errorMessage(
          request.reqId,
          IbCode.historicalData,
          IbText.historical(
            `HMDS query returned no data: ${instrument.label}@${instrument.exchange} ${what}`,
          ),
        ),
      );
      return;
    }
    session.send(response.historicalData(request.reqId, utcStamp(startTime), utcStamp(endTime), bars));
    if (request.keepUpToDate) {
      // The clock moved on while the bars were computed: updates start from the bar in progress now.
      const now = this.ctx.clock.now();
      this.updates.set(key(session, request.reqId), {
        session,
        reqId: request.reqId,
        instrument,
        whatToShow,
        bar,
        regularHoursOnly,
        formatDate: request.formatDate,
        currentStart: barStartOf(bar, instrument, now),
        lastSecond: Math.floor(now / 1000),
      });
    }
  }

  private advanceUpdates(subscription: UpdateSubscription, now: number): void {
    const nowSecond = Math.floor(now / 1000);
    if (nowSecond <= subscription.lastSecond) return;
    subscription.lastSecond = nowSecond;
    const { instrument, bar } = subscription;
    const currentStart = barStartOf(bar, instrument, now);
    if (currentStart !== subscription.currentStart) {
      // The bar that just completed goes out once more in its final form.
      const previousEnd = Math.min(currentStart, now);
      this.sendUpdate(subscription, subscription.currentStart, previousEnd);
      subscription.currentStart = currentStart;
    }
    this.sendUpdate(subscription, currentStart, now);
  }

  private sendUpdate(subscription: UpdateSubscription, start: number, end: number): void {
    const { instrument, bar } = subscription;
    const parts = this.ctx.schedule.openIntervals(
      instrument.schedule,
      start,
      end,
      subscription.regularHoursOnly,
    );
    const computed = computeBar(
      this.ctx.book,
      instrument,
      subscription.whatToShow,
      start,
      parts,
      sampleStep(bar.seconds),
    );
    if (!computed) return;
    subscription.session.sendMarketData(
      response.historicalDataUpdate(subscription.reqId, {
        ...computed,
        label: barLabel(bar, instrument, start, subscription.formatDate),
      }),
    );
  }
}
