import { type Bar, nowIso } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

import type { StrategyStore } from './ports';
import type { MarketPrices } from './domain/prices';
import type { BarProgress } from './domain/progress';
import type { SleeveBook } from './domain/sleeve-book';
import type { SleevePauser } from './sleeve-pauser';
import { type SleeveRunner, strategyContext } from './sleeve-runners';

/**
 * Loads each sleeve's stored progress, then replays stored bars through each sleeve up to the last bar it
 * processed (or the latest stored bar, for a new sleeve), so its indicators stand where an uninterrupted
 * run would have left them. Decisions made during warm-up are ignored; a strategy that throws pauses its
 * sleeve.
 */
export async function warmUp(deps: {
  store: StrategyStore;
  runners: readonly SleeveRunner[];
  progress: BarProgress;
  prices: MarketPrices;
  book: SleeveBook;
  pauser: SleevePauser;
  log: Logger;
  clock: () => number;
}): Promise<void> {
  const { store, runners, progress, prices, book, pauser, log, clock } = deps;
  const stored = await store.loadProgress(runners.map((runner) => runner.config.name));
  for (const row of stored) progress.record(row.sleeve, row.instrument, row.timeframe, row.lastBarMs);
  // Sleeves on the same instrument, timeframe and progress read the same bars once.
  const cache = new Map<string, Promise<Bar[]>>();
  for (const runner of runners) {
    if (!runner.strategy) continue;
    const { config } = runner;
    const count = config.strategy.warmupBars(config.parameters, config.timeframe);
    const series: Bar[] = [];
    for (const instrument of config.instruments) {
      const until = progress.lastBar(config.name, instrument.key, config.timeframe) ?? null;
      const cacheKey = `${instrument.key}|${config.timeframe}|${until}|${count}`;
      if (!cache.has(cacheKey))
        cache.set(cacheKey, store.loadBars(instrument.key, config.timeframe, until, count));
      const bars = await cache.get(cacheKey)!;
      const last = bars.at(-1);
      if (last) {
        if (until === null)
          progress.record(config.name, instrument.key, config.timeframe, Date.parse(last.ts));
        if (!prices.has(instrument.key)) prices.set(instrument.key, last.close);
      }
      series.push(...bars);
    }
    // Several instruments interleave in time order, as they would have arrived.
    series.sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
    try {
      for (const bar of series) runner.strategy.onBar(bar, strategyContext(book, runner, clock(), true));
    } catch (error) {
      await pauser.pause(runner, 'warm-up', error, nowIso(clock));
      continue;
    }
    log.info({ sleeve: config.name, bars: series.length }, 'sleeve warmed up');
  }
}
