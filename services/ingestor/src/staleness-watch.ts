/**
 * Staleness: every instrument's seconds without a tick while its market is open (0 while it is closed),
 * as metrics, and a change either way announced on `sys.event.ingestor` (`market_data_stale`,
 * `market_data_resumed`). The verdict per instrument is the pure `StalenessMonitor` (domain/staleness.ts);
 * this runs it on a timer against our wall clock.
 */
import type { Logger } from '@ibstack/observability';

import type { Announcer } from './announcer';
import type { InstrumentFeed } from './feed';
import type { IngestorMetrics } from './metrics';

export interface StalenessWatchOptions {
  staleAfterMs: number;
  /** Epoch ms. */
  wallClock: () => number;
  feeds: () => readonly InstrumentFeed[];
  announcer: Announcer;
  metrics: IngestorMetrics;
  logger: Logger;
}

export class StalenessWatch {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: StalenessWatchOptions) {
    options.metrics.staleAfter.set(options.staleAfterMs / 1000);
  }

  /** Checks a few times per staleness window: at most every second, at least every 50 ms. */
  start(): void {
    const every = Math.max(50, Math.min(1_000, Math.floor(this.options.staleAfterMs / 4)));
    this.timer = setInterval(() => this.check(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  check(): void {
    const { metrics, logger: log, announcer } = this.options;
    const now = this.options.wallClock();
    for (const feed of this.options.feeds()) {
      if (!feed.resolved) continue;
      const open = feed.isMarketOpen();
      metrics.marketOpen.set({ instrument: feed.key }, open ? 1 : 0);
      const verdict = feed.staleness.evaluate(now, open);
      metrics.staleness.set({ instrument: feed.key }, verdict.stalenessSeconds);
      if (verdict.transition === 'became_stale') {
        log.warn(
          { instrument: feed.key, seconds: verdict.stalenessSeconds },
          'market data is stale while the market is open',
        );
        announcer.systemEvent(
          'market_data_stale',
          'warning',
          `No tick for ${feed.label} for ${Math.round(verdict.stalenessSeconds)} s while its market is open`,
          { instrument: feed.label, key: feed.key, seconds: verdict.stalenessSeconds },
          [feed.key, String(now)],
        );
      } else if (verdict.transition === 'recovered') {
        log.info({ instrument: feed.key }, 'market data flows again');
        announcer.systemEvent(
          'market_data_resumed',
          'info',
          `Ticks for ${feed.label} flow again`,
          { instrument: feed.label },
          [feed.key, String(now)],
        );
      }
    }
  }
}
