/**
 * Historical requests through the pacing limiter. A request waits (in wall time) until IB's rules allow
 * it, so a long backfill slows down instead of being refused with error 162. An identical request within
 * the identical-request window shares the answer of the one in flight or the previous answer rather than
 * being sent again, which is both what IB's rule asks for and faster. (An identical request after a
 * failed one still waits out the window: IB counted the failed one.)
 */
import type { HistoricalAnswer, HistoricalRequest, ResolvedInstrument } from './adapters/ib-market-data';
import type { PacingLimiter, PacingRecord } from './domain/pacing';
import { GatewayDisconnectedError, StoppedError } from './errors';

type Contract = ResolvedInstrument['contract'];

export type HistoryFetch = (
  contract: Contract,
  label: string,
  request: HistoricalRequest,
  timeZone: string,
) => Promise<HistoricalAnswer>;

export interface PacedHistoryOptions {
  fetch: HistoryFetch;
  limiter: PacingLimiter;
  /** Our wall clock (epoch ms), the one IB's pacing is measured in. */
  wallClock: () => number;
  /** Waits `ms` wall milliseconds; rejects with StoppedError when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Called for each wait the limiter imposes. */
  onWait?: (ms: number) => void;
  /**
   * Whether a request would go out now (the session is ready). A request that cannot be sent is not
   * counted against the pacing rules, or the retry after a reconnect would wait for nothing.
   */
  canSend?: () => boolean;
  /**
   * Called with each request as the limiter counted it, just before it is sent; the service stores it so
   * a restarted ingestor starts from what IB has already counted. Must not block or throw.
   */
  onSent?: (record: PacingRecord) => void;
}

export interface PacedRequestInput {
  contract: Contract;
  /** Instrument key, for the same-contract rule and messages. */
  label: string;
  request: HistoricalRequest;
  timeZone: string;
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new StoppedError());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new StoppedError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export class PacedHistory {
  private readonly answers = new Map<string, { at: number; answer: HistoricalAnswer }>();
  private readonly inFlight = new Map<string, Promise<HistoricalAnswer>>();
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor(private readonly options: PacedHistoryOptions) {
    this.sleep = options.sleep ?? abortableSleep;
  }

  /** Sends the request once the pacing rules allow it (or answers it from a recent identical one). */
  async fetch(input: PacedRequestInput, signal: AbortSignal): Promise<HistoricalAnswer> {
    const { request } = input;
    const identity = JSON.stringify([
      input.contract.conId ?? input.label,
      request.endDateTime,
      request.duration,
      request.barSize,
      request.whatToShow,
      request.useRegularTradingHours,
    ]);
    const paced = { identity, contract: input.label, weight: request.whatToShow === 'BID_ASK' ? 2 : 1 };
    for (;;) {
      const cached = this.recentAnswer(identity);
      if (cached) return cached;
      // The same request already on its way: share its answer.
      const sent = this.inFlight.get(identity);
      if (sent) return sent;
      const delay = this.options.limiter.delayFor(paced);
      if (delay <= 0) break;
      this.options.onWait?.(delay);
      await this.sleep(delay, signal);
    }
    if (signal.aborted) throw new StoppedError();
    if (this.options.canSend && !this.options.canSend())
      throw new GatewayDisconnectedError(`historical bars of ${input.label}`);
    // Checked, recorded and sent without an await in between, so concurrent callers cannot both take
    // the slot.
    const record = this.options.limiter.record(paced);
    this.options.onSent?.(record);
    const sending = this.options.fetch(input.contract, input.label, request, input.timeZone);
    this.inFlight.set(identity, sending);
    try {
      const answer = await sending;
      this.answers.set(identity, { at: this.options.wallClock(), answer });
      return answer;
    } finally {
      this.inFlight.delete(identity);
    }
  }

  private recentAnswer(identity: string): HistoricalAnswer | undefined {
    const now = this.options.wallClock();
    const window = this.options.limiter.limits.identicalWindowMs;
    for (const [key, entry] of this.answers) if (now - entry.at >= window) this.answers.delete(key);
    return this.answers.get(identity)?.answer;
  }
}
