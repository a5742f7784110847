import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { type Bar, deriveIntentId } from '@ibstack/contracts';
import { type BacktestOptions, runBacktest, syntheticBars } from '@ibstack/backtest';
import { builtInStrategies, parseSleevesConfig } from '@ibstack/strategy';
import { SMA } from 'trading-signals';

import type { Figure, Suite } from '../lib/report';
import { nowMs } from '../lib/stats';

const DEMO = join(__dirname, '..', '..', 'services', 'strategy', 'config', 'demo.yaml');
const YEAR_OF_MINUTES = 365 * 24 * 60;

/**
 * The suite's run: the demo sleeve over `scale` of a year of synthetic 1-minute EUR.CAD bars (10,000 at
 * least). `bench/backtest-digest.ts` replays the same run to check that a change keeps its results.
 */
export function backtestScenario(scale: number): {
  bars: Bar[];
  options: Omit<BacktestOptions, 'bars'>;
} {
  const count = Math.max(10_000, Math.round(YEAR_OF_MINUTES * scale));
  const fromMs = Date.parse('2025-01-06T00:00:00Z');
  const sleeves = parseSleevesConfig(readFileSync(DEMO, 'utf8'), DEMO, builtInStrategies());
  // A quiet random walk, so the demo's crossover trades now and then rather than every few bars.
  const bars = syntheticBars({
    instrument: 'EURCAD',
    timeframe: '1m',
    fromMs,
    count,
    start: 1.5,
    volatility: 0.0002,
    decimals: 5,
    seed: 42,
  });
  return {
    bars,
    options: { sleeves, fromMs, toMs: fromMs + count * 60_000, initialCashUsd: 1_000_000 },
  };
}

/**
 * The floor: the demo sleeve's indicators (a 2- and a 5-bar SMA of the close, and the cross) over the same
 * array of bars, in a bare loop: nothing but what the strategy itself must compute. With `intentIds`, the
 * loop also derives the intent id of each cross the way the strategy does (a SHA-256 of sleeve, instrument,
 * bar time and sequence): the least any run must do whose intents carry the ids the live stack gives them,
 * which the parity promise asks for. It shows how much of the floor's time that alone takes.
 */
function bareLoop(bars: readonly Bar[], intentIds = false): number {
  const fast = new SMA(2);
  const slow = new SMA(5);
  let side = 0;
  let crosses = 0;
  let idLength = 0;
  for (const bar of bars) {
    const close = Number(bar.close);
    fast.add(close);
    slow.add(close);
    if (!fast.isStable || !slow.isStable) continue;
    const difference = fast.getResultOrThrow() - slow.getResultOrThrow();
    const next = difference > 0 ? 1 : difference < 0 ? -1 : side;
    if (side !== 0 && next !== side) {
      crosses += 1;
      // Kept (its length summed) so the hash cannot be dropped as dead code.
      if (intentIds)
        idLength += deriveIntentId({
          sleeve: 'demo',
          instrument: bar.instrument,
          barTs: bar.ts,
          sequence: 0,
        }).length;
    }
    side = next;
  }
  return crosses + idLength;
}

/** The fastest of `rounds` runs of the bare loop, in ms (it is over in milliseconds, so the best of a few). */
function bestOf(rounds: number, bars: readonly Bar[], intentIds: boolean): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    const started = nowMs();
    bareLoop(bars, intentIds);
    best = Math.min(best, nowMs() - started);
  }
  return best;
}

export const backtestSuite: Suite = {
  name: 'backtest',
  description:
    'backtest speed over one year of 1-minute bars for the demo sleeve (strategy, sizing, risk, matching, account), beside a bare loop of its indicators',
  async run({ scale, log }) {
    const { bars, options } = backtestScenario(scale);
    const count = bars.length;
    log(`${count} one-minute bars`);

    // The floor, and the floor plus the intent ids, best of three each.
    const floorMs = bestOf(3, bars, false);
    const withIdsMs = bestOf(3, bars, true);

    // Memory: the process with the bars in memory before the run, and its peak by the end of it (the
    // process's peak, so in a full `npm run bench` an earlier suite's may stand in it).
    const rssBeforeMb = process.memoryUsage().rss / 2 ** 20;
    const started = nowMs();
    const result = await runBacktest({ ...options, bars });
    const runMs = nowMs() - started;
    const peakRssMb = (process.resourceUsage().maxRSS * 1024) / 2 ** 20;
    log(
      `backtest: ${result.barsReplayed} bars in ${(runMs / 1000).toFixed(1)} s; ${result.intents.length} intents, ${result.trades.length} fills`,
    );
    return [
      {
        name: 'backtest bars/s (demo sleeve, 1m bars)',
        value: (result.barsReplayed / runMs) * 1000,
        unit: 'bars/s',
        baselineName: 'bare indicator loop',
        baseline: (count / floorMs) * 1000,
        better: 'higher',
      } satisfies Figure,
      {
        name: 'bare indicator loop + an intent id per cross',
        value: (count / withIdsMs) * 1000,
        unit: 'bars/s',
        baselineName: 'bare indicator loop',
        baseline: (count / floorMs) * 1000,
        better: 'higher',
      } satisfies Figure,
      {
        name: 'backtest peak RSS',
        value: peakRssMb,
        unit: 'MB',
        baselineName: 'RSS with the bars loaded, before the run',
        baseline: rssBeforeMb,
        better: 'lower',
      } satisfies Figure,
    ];
  },
};
