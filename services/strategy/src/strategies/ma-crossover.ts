import type { InstrumentKey } from '@ibstack/contracts';
import { EMA, SMA } from 'trading-signals';
import { z } from 'zod';

import { defineStrategy, type TargetDecision } from '../sdk';

export const MaCrossoverParameters = z
  .object({
    /** Bars in the fast average. @default 10 */
    fast: z.number().int().min(1).default(10),
    /** Bars in the slow average. @default 30 */
    slow: z.number().int().min(2).default(30),
    /** `sma` (exact over a window, so warm-up reproduces it exactly) or `ema`. @default "sma" */
    average: z.enum(['sma', 'ema']).default('sma'),
    /** Go short on a downward cross; otherwise go flat. @default true */
    allowShort: z.boolean().default(true),
  })
  .strict()
  .refine((p) => p.fast < p.slow, { message: 'fast must be smaller than slow', path: ['fast'] });
export type MaCrossoverParameters = z.output<typeof MaCrossoverParameters>;

type Side = 'above' | 'below';

interface InstrumentState {
  fast: SMA | EMA;
  slow: SMA | EMA;
  side: Side | undefined;
}

/**
 * Moving-average crossover: long when the fast average crosses above the slow one, short (or flat) when
 * it crosses below. Acts only on a cross, never on the first comparison, so a restart or a warm-up does
 * not trade on a trend that was already there.
 */
export const maCrossover = defineStrategy({
  name: 'ma-crossover',
  description: 'Long on a fast/slow moving-average cross up, short or flat on a cross down',
  parameters: MaCrossoverParameters,
  // An EMA never forgets; ten times its length brings the start-up error below what a signal notices.
  warmupBars: (p) => (p.average === 'sma' ? p.slow + 1 : p.slow * 10),
  create: ({ instruments, parameters }) => {
    const Average = parameters.average === 'sma' ? SMA : EMA;
    const states = new Map<InstrumentKey, InstrumentState>(
      instruments.map((i) => [
        i.key,
        { fast: new Average(parameters.fast), slow: new Average(parameters.slow), side: undefined },
      ]),
    );
    return {
      onBar(bar) {
        const state = states.get(bar.instrument);
        if (!state) return [];
        // The close alone (what `barPrices` reads it as): the other three are not used here.
        const close = Number(bar.close);
        state.fast.add(close);
        state.slow.add(close);
        if (!state.fast.isStable || !state.slow.isStable) return [];
        const fast = state.fast.getResultOrThrow();
        const slow = state.slow.getResultOrThrow();
        // Equal averages keep the previous side: a touch is not a cross.
        const side: Side | undefined = fast > slow ? 'above' : fast < slow ? 'below' : state.side;
        const previous = state.side;
        state.side = side;
        if (previous === undefined || side === previous) return [];
        const decision: TargetDecision =
          side === 'above'
            ? { type: 'target', instrument: bar.instrument, weight: 1, reason: `fast MA crossed above slow` }
            : {
                type: 'target',
                instrument: bar.instrument,
                weight: parameters.allowShort ? -1 : 0,
                reason: `fast MA crossed below slow`,
              };
        return [decision];
      },
      inspect() {
        return Object.fromEntries(
          [...states].map(([key, s]) => [
            key,
            { fast: s.fast.getResult(), slow: s.slow.getResult(), side: s.side ?? null },
          ]),
        );
      },
    };
  },
});
