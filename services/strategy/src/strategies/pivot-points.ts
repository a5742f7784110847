import { type InstrumentKey, TIMEFRAME_SECONDS } from '@ibstack/contracts';
import Decimal from 'decimal.js';
import { z } from 'zod';

import { isValidTimeZone, sessionOf } from '@ibstack/contracts';
import { defineStrategy, type TargetDecision } from '../sdk';

export const PivotPointsParameters = z
  .object({
    /** Time zone of the session boundary. @default "America/New_York" */
    timeZone: z.string().refine(isValidTimeZone, 'unknown time zone').default('America/New_York'),
    /**
     * Local hour at which a session opens. Absent: 17 (the forex roll) for CASH instruments, 0 (the
     * calendar day) for anything else.
     */
    sessionStartHour: z.number().int().min(0).max(23).optional(),
    /** Fade a touch of R1 with a short; otherwise only longs from S1. @default true */
    allowShort: z.boolean().default(true),
  })
  .strict();
export type PivotPointsParameters = z.output<typeof PivotPointsParameters>;

/** Classic floor pivots from one session's high, low and close. */
export interface PivotLevels {
  pivot: Decimal;
  r1: Decimal;
  s1: Decimal;
  r2: Decimal;
  s2: Decimal;
}

export function floorPivots(high: Decimal.Value, low: Decimal.Value, close: Decimal.Value): PivotLevels {
  const h = new Decimal(high);
  const l = new Decimal(low);
  const pivot = h.add(l).add(close).div(3);
  const range = h.sub(l);
  return {
    pivot,
    r1: pivot.mul(2).sub(l),
    s1: pivot.mul(2).sub(h),
    r2: pivot.add(range),
    s2: pivot.sub(range),
  };
}

type Regime = 'flat' | 'long' | 'short';

interface InstrumentState {
  sessionDay: string | undefined;
  /** Whether the current session was seen from its first bar (a partial one gives wrong levels). */
  sessionComplete: boolean;
  high: Decimal | undefined;
  low: Decimal | undefined;
  close: Decimal | undefined;
  levels: PivotLevels | undefined;
  regime: Regime;
}

/**
 * Daily pivot points: levels from the previous session's high, low and close; buy a dip to S1, sell a
 * rally to R1, take profit at the pivot, stop out beyond S2/R2. Levels use exact decimals. The first
 * session seen is used only if its first bar opened at the session boundary.
 */
export const pivotPoints = defineStrategy({
  name: 'pivot-points',
  description: 'Fades S1/R1 of classic floor pivots from the previous session, exits at the pivot or S2/R2',
  parameters: PivotPointsParameters,
  // Two full sessions of bars: the one that gives the levels and the one being traded.
  warmupBars: (_p, timeframe) => 2 * Math.ceil(86_400 / TIMEFRAME_SECONDS[timeframe]) + 1,
  create: ({ instruments, parameters: p }) => {
    const startHours = new Map<InstrumentKey, number>(
      instruments.map((i) => [i.key, p.sessionStartHour ?? (i.instrument.secType === 'CASH' ? 17 : 0)]),
    );
    const states = new Map<InstrumentKey, InstrumentState>(
      instruments.map((i) => [
        i.key,
        {
          sessionDay: undefined,
          sessionComplete: false,
          high: undefined,
          low: undefined,
          close: undefined,
          levels: undefined,
          regime: 'flat',
        },
      ]),
    );
    const decide = (state: InstrumentState, close: Decimal): Regime => {
      const levels = state.levels;
      if (!levels) return state.regime;
      if (state.regime === 'flat') {
        if (close.lte(levels.s1)) return 'long';
        if (close.gte(levels.r1) && p.allowShort) return 'short';
        return 'flat';
      }
      if (state.regime === 'long') return close.gte(levels.pivot) || close.lt(levels.s2) ? 'flat' : 'long';
      return close.lte(levels.pivot) || close.gt(levels.r2) ? 'flat' : 'short';
    };
    return {
      onBar(bar) {
        const state = states.get(bar.instrument);
        if (!state) return [];
        const barMs = Date.parse(bar.ts);
        const session = sessionOf(barMs, p.timeZone, startHours.get(bar.instrument)!);
        if (session.day !== state.sessionDay) {
          const finished = state.sessionComplete && state.high && state.low && state.close;
          state.levels = finished ? floorPivots(state.high!, state.low!, state.close!) : undefined;
          // A session seen from a later bar than its opening one is partial, unless an earlier session
          // ended just before it (then we saw everything there was).
          state.sessionComplete = state.sessionDay !== undefined || barMs === session.startMs;
          state.sessionDay = session.day;
          state.high = undefined;
          state.low = undefined;
        }
        const high = new Decimal(bar.high);
        const low = new Decimal(bar.low);
        const close = new Decimal(bar.close);
        state.high = state.high === undefined || high.gt(state.high) ? high : state.high;
        state.low = state.low === undefined || low.lt(state.low) ? low : state.low;
        state.close = close;
        const regime = decide(state, close);
        if (regime === state.regime) return [];
        state.regime = regime;
        const decision: TargetDecision = {
          type: 'target',
          instrument: bar.instrument,
          weight: regime === 'long' ? 1 : regime === 'short' ? -1 : 0,
          reason: `close ${close.toFixed()} vs pivot ${state.levels!.pivot.toFixed()}: ${regime}`,
        };
        return [decision];
      },
      inspect() {
        return Object.fromEntries(
          [...states].map(([key, s]) => [
            key,
            {
              session: s.sessionDay ?? null,
              regime: s.regime,
              levels: s.levels
                ? Object.fromEntries(
                    Object.entries(s.levels).map(([name, value]: [string, Decimal]) => [
                      name,
                      value.toFixed(),
                    ]),
                  )
                : null,
            },
          ]),
        );
      },
    };
  },
});
