import type { InstrumentKey } from '@ibstack/contracts';
import { RSI } from 'trading-signals';
import { z } from 'zod';

import { barPrices, defineStrategy, type TargetDecision } from '../sdk';

export const RsiMeanReversionParameters = z
  .object({
    /** RSI length (Wilder smoothing). @default 14 */
    period: z.number().int().min(2).default(14),
    /** Go long at or below this RSI. @default 30 */
    oversold: z.number().gt(0).lt(100).default(30),
    /** Go short at or above this RSI. @default 70 */
    overbought: z.number().gt(0).lt(100).default(70),
    /** Close a long at or above, a short at or below, this RSI. @default 50 */
    exit: z.number().gt(0).lt(100).default(50),
    /** Fade overbought readings with a short; otherwise only longs. @default true */
    allowShort: z.boolean().default(true),
  })
  .strict()
  .refine((p) => p.oversold < p.exit && p.exit < p.overbought, {
    message: 'need oversold < exit < overbought',
    path: ['exit'],
  });
export type RsiMeanReversionParameters = z.output<typeof RsiMeanReversionParameters>;

type Regime = 'flat' | 'long' | 'short';

interface InstrumentState {
  rsi: RSI;
  regime: Regime;
}

const WEIGHT: Record<Regime, number> = { flat: 0, long: 1, short: -1 };

/**
 * RSI mean reversion: buy oversold, sell overbought, get out when the RSI has come back to the middle.
 * The regime (flat, long, short) is derived from bars alone, so a warm-up rebuilds it.
 */
export const rsiMeanReversion = defineStrategy({
  name: 'rsi-mean-reversion',
  description: 'Long when RSI is oversold, short when overbought, flat when it returns to the exit level',
  parameters: RsiMeanReversionParameters,
  // Wilder smoothing has an infinite memory; ten lengths make the start-up error negligible.
  warmupBars: (p) => Math.max(p.period * 10, 100),
  create: ({ instruments, parameters: p }) => {
    const states = new Map<InstrumentKey, InstrumentState>(
      instruments.map((i) => [i.key, { rsi: new RSI(p.period), regime: 'flat' }]),
    );
    const next = (regime: Regime, rsi: number): Regime => {
      if (regime === 'flat') {
        if (rsi <= p.oversold) return 'long';
        if (rsi >= p.overbought && p.allowShort) return 'short';
        return 'flat';
      }
      if (regime === 'long') {
        if (rsi >= p.overbought && p.allowShort) return 'short';
        return rsi >= p.exit ? 'flat' : 'long';
      }
      if (rsi <= p.oversold) return 'long';
      return rsi <= p.exit ? 'flat' : 'short';
    };
    return {
      onBar(bar) {
        const state = states.get(bar.instrument);
        if (!state) return [];
        const rsi = state.rsi.add(barPrices(bar).close);
        if (rsi === null) return [];
        const regime = next(state.regime, rsi);
        if (regime === state.regime) return [];
        state.regime = regime;
        const decision: TargetDecision = {
          type: 'target',
          instrument: bar.instrument,
          weight: WEIGHT[regime],
          reason: `RSI ${rsi.toFixed(2)}: ${regime}`,
        };
        return [decision];
      },
      inspect() {
        return Object.fromEntries(
          [...states].map(([key, s]) => [key, { rsi: s.rsi.getResult(), regime: s.regime }]),
        );
      },
    };
  },
});
