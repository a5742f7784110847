/**
 * Contract lookup: each instrument's contract details (conId, minimum tick, time zone, trading hours) from
 * the gateway, stored in `instruments`. An unknown instrument (IB 200) is reported once and left out; a
 * lookup that failed for a passing reason (a timeout, an error answer) is asked again with backoff while
 * the session lasts; one the session ended under waits for the next session. The details are refreshed
 * once a market day, and at every reconnect.
 */
import { type Backoff, backoffDelayMs, DAY_MS } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

import type { IbMarketData } from './adapters/ib-market-data';
import type { PgBarStore } from './adapters/pg-bars';
import type { Announcer } from './announcer';
import {
  ContractLookupError,
  GatewayDisconnectedError,
  GatewayTimeoutError,
  UnknownInstrumentError,
} from './errors';
import type { InstrumentFeed } from './feed';
import type { IngestorMetrics } from './metrics';

/** Contract details (trading hours) are refreshed once a market day. */
export const REFRESH_CONTRACT_AFTER_MS = DAY_MS;
/** A contract lookup that failed for a passing reason is asked again after 5 s, doubling up to 5 min. */
const LOOKUP_RETRY: Backoff = { firstMs: 5_000, maxMs: 300_000 };

export interface ContractLookupOptions {
  marketData: IbMarketData;
  store: PgBarStore;
  announcer: Announcer;
  metrics: IngestorMetrics;
  logger: Logger;
  /** ISO time this run started: an unknown instrument is announced once per run. */
  startedAt: string;
  /** Whether a retry may still ask: the service is not stopping and the session is up. */
  isActive: () => boolean;
  /** A retried lookup succeeded: the instrument can be subscribed now. */
  onResolvedLater: (feed: InstrumentFeed) => void;
}

export class ContractLookup {
  private readonly retries = new Map<InstrumentFeed, number>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: ContractLookupOptions) {}

  /** Whether the details are old enough to be asked again (gateway time, epoch ms). */
  isDue(feed: InstrumentFeed, now: number): boolean {
    return feed.resolved !== undefined && now - feed.resolvedAt > REFRESH_CONTRACT_AFTER_MS;
  }

  /** Looks the instrument up and stores it; failures are handled here (reported, retried or left). */
  async resolve(feed: InstrumentFeed): Promise<void> {
    const { logger: log, metrics } = this.options;
    try {
      const resolved = await this.options.marketData.resolve(feed.instrument);
      feed.setResolved(resolved);
      try {
        await this.options.store.upsertInstrument(resolved);
      } catch (error) {
        metrics.databaseErrors.inc({ operation: 'upsert_instrument' });
        log.error({ err: error, instrument: feed.key }, 'could not store the instrument');
      }
      log.info(
        {
          instrument: feed.key,
          conId: resolved.conId,
          timeZone: resolved.timeZoneId,
          tradingHours: resolved.tradingHours,
        },
        'instrument resolved',
      );
    } catch (error) {
      if (error instanceof UnknownInstrumentError) {
        this.reportUnknown(feed, error);
        return;
      }
      if (error instanceof GatewayDisconnectedError) {
        log.warn(
          { err: error, instrument: feed.key },
          'contract details not answered; retried on the next session',
        );
        return;
      }
      if (error instanceof GatewayTimeoutError || error instanceof ContractLookupError) {
        this.retry(feed, error);
        return;
      }
      throw error;
    }
  }

  /**
   * Looks up an instrument added at run time and stores it. Every failure is thrown: the caller answers
   * with it (an unknown contract is refused with IB's code).
   */
  async resolveNow(feed: InstrumentFeed): Promise<void> {
    const resolved = await this.options.marketData.resolve(feed.instrument);
    feed.setResolved(resolved);
    await this.options.store.upsertInstrument(resolved);
  }

  /** Cancels the retries waiting. */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private reportUnknown(feed: InstrumentFeed, error: UnknownInstrumentError): void {
    if (feed.reportedUnknown) return;
    feed.reportedUnknown = true;
    this.options.metrics.unknownInstruments.inc({ instrument: feed.key });
    this.options.logger.error(
      { instrument: feed.label, ibCode: error.ibCode, err: error },
      `unknown instrument ${feed.label}: no market data for it; the other instruments go on`,
    );
    this.options.announcer.systemEvent(
      'unknown_instrument',
      'warning',
      `The gateway has no contract for ${feed.label}; it is not ingested. Check INSTRUMENTS.`,
      { instrument: feed.label, key: feed.key, ibCode: error.ibCode ?? null },
      [feed.key, this.options.startedAt],
    );
  }

  /** A lookup that failed for a passing reason is asked again, with backoff, while the session lasts. */
  private retry(feed: InstrumentFeed, error: Error): void {
    const { logger: log, isActive } = this.options;
    const attempt = (this.retries.get(feed) ?? 0) + 1;
    this.retries.set(feed, attempt);
    const delayMs = backoffDelayMs(attempt, LOOKUP_RETRY);
    log.warn(
      { err: error, instrument: feed.key, attempt, retryInMs: delayMs },
      'contract details failed; asking again',
    );
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!isActive() || feed.resolved) return;
      void this.resolve(feed)
        .then(() => {
          if (!feed.resolved || !isActive()) return;
          this.retries.delete(feed);
          this.options.onResolvedLater(feed);
        })
        .catch((failure: unknown) =>
          log.error({ err: failure, instrument: feed.key }, 'contract lookup failed'),
        );
    }, delayMs);
    this.timers.add(timer);
  }
}
