/**
 * The simulated account's snapshots, as execution records them from the broker's account values: the
 * venue's figures as the sim reports them (to the cent), then `@ibstack/risk`'s account figures, the
 * formula execution uses: daily P&L and return against the trading day's opening NAV (IB rolls the day at
 * 17:00 New York), high-water mark and drawdown. The strategy's daily-loss and drawdown rules read them.
 *
 * Observing the account is cheap (the venue's figures, NAV to the cent, the day's opening and the
 * high-water mark, which are plain comparisons of those cents); the decimal figures are worked out only
 * when a snapshot is asked for, from what the observation recorded, so a snapshot taken later is the
 * very one an immediate one would have been.
 */
import { type AccountSnapshot, formatIsoMs, HOUR_MS } from '@ibstack/contracts';
import type { Broker } from '@ibstack/gateway-sim';
import { accountFigures, type DrawdownLevel, type RiskLimits, tradingDayStart } from '@ibstack/risk';

/**
 * How far (in percentage points) a drawdown worked out in floating point must be from a threshold for its
 * level to be certain: far more than float error plus the figure's rounding to 6 decimals.
 */
const LEVEL_MARGIN_PCT = 1e-4;

/**
 * An account value as execution stores it: the sim's figure to the cent as it reports it
 * (`formatMoney`), as a plain decimal string (`toDecimalString` of the reported `"1000.50"` is `"1000.5"`).
 * `formatMoney` prints `Math.round(value * 100) / 100` to two decimals, a string that parses back to that
 * very double, so the decimal string is the double's own shortest form: worked out here without printing
 * and parsing it (every step in the market observes the account). The test holds it to
 * `String(Number(formatMoney(value)))`.
 */
export const accountValue = (value: number): string => String(toCent(value));

/**
 * A figure to the cent as a number: what `accountValue` prints, and what its string reads back as. An
 * observation keeps these, and the strings are printed only for a snapshot.
 */
const toCent = (value: number): number => Math.round(value * 100) / 100;

/** What one observation recorded: the inputs of its snapshot. */
interface Observation {
  time: number;
  /** NAV to the cent (`toCent`), as are the two below. */
  nav: number;
  /** The trading day's opening NAV before this observation; null when it is the day's first. */
  opening: number | null;
  /** The high-water mark before this observation; null before the first. */
  previousHighWaterMark: number | null;
  cash: number;
  realizedPnl: number;
  unrealizedPnl: number;
}

export class SimAccount {
  /** Highest NAV observed so far (to the cent); null before the first observation. */
  private highWaterMark: number | null = null;
  private dayStartMs = Number.NEGATIVE_INFINITY;
  private nextDayStartMs = Number.NEGATIVE_INFINITY;
  /** NAV of the trading day's first observation (to the cent); null until there is one. */
  private dayOpening: number | null = null;
  private latest: Observation | undefined;
  private latestSnapshot: AccountSnapshot | undefined;
  /** The latest observation's NAV and the high-water mark before it (its NAV when none), as numbers. */
  private latestNavValue = Number.NaN;
  private previousHighWaterMarkValue = Number.NaN;
  /** The thresholds `drawdownLevel` was last asked about, as numbers. */
  private levelLimits: Pick<RiskLimits, 'drawdownWarnPct' | 'drawdownReducePct'> | undefined;
  private reducePct = Number.NaN;
  private warnPct = Number.NaN;

  constructor(
    private readonly broker: Broker,
    private readonly account: string,
  ) {}

  /** Whether `time` is in a later trading day than the last observation's. */
  isNewDay(time: number): boolean {
    return time >= this.nextDayStartMs;
  }

  /** Records the account at `time` (the broker's clock must stand there); returns its NAV in USD. */
  observe(time: number): number {
    const venue = this.broker.figures({ detail: false });
    const nav = toCent(venue.netLiquidation);
    if (this.isNewDay(time)) {
      this.dayStartMs = tradingDayStart(time);
      // The next day starts 23 to 25 hours later (daylight saving); 25 hours in is always inside it.
      this.nextDayStartMs = tradingDayStart(this.dayStartMs + 25 * HOUR_MS);
      this.dayOpening = null;
    }
    this.latest = {
      time,
      nav,
      opening: this.dayOpening,
      previousHighWaterMark: this.highWaterMark,
      cash: venue.totalCashValue,
      realizedPnl: venue.realizedPnl,
      unrealizedPnl: venue.unrealizedPnl,
    };
    this.latestSnapshot = undefined;
    this.dayOpening ??= nav;
    // Cents below 2^53 are doubles in the same order as their decimals: `Decimal.max` of the two.
    this.latestNavValue = nav;
    this.previousHighWaterMarkValue = this.highWaterMark ?? nav;
    if (this.highWaterMark === null || nav > this.highWaterMark) this.highWaterMark = nav;
    return venue.netLiquidation;
  }

  /**
   * The drawdown level of the latest observation against `limits`, worked out in floating point; undefined
   * when it is too close to a threshold to tell without the decimal figures.
   */
  drawdownLevel(
    limits: Pick<RiskLimits, 'drawdownWarnPct' | 'drawdownReducePct'>,
  ): DrawdownLevel | undefined {
    if (!this.latest) return undefined;
    // The observation's figures as observe() kept them.
    const high = this.previousHighWaterMarkValue;
    const nav = this.latestNavValue;
    const highWaterMark = Math.max(high, nav);
    const drawdown = highWaterMark === 0 ? 0 : ((highWaterMark - nav) / highWaterMark) * 100;
    if (limits !== this.levelLimits) {
      this.levelLimits = limits;
      this.reducePct = Number(limits.drawdownReducePct);
      this.warnPct = Number(limits.drawdownWarnPct);
    }
    const reduce = this.reducePct;
    const warn = this.warnPct;
    if (Math.abs(drawdown - reduce) <= LEVEL_MARGIN_PCT || Math.abs(drawdown - warn) <= LEVEL_MARGIN_PCT)
      return undefined;
    return drawdown >= reduce ? 'reducing' : drawdown >= warn ? 'warning' : 'normal';
  }

  /** The snapshot of the latest observation (worked out once). */
  snapshot(): AccountSnapshot {
    const observation = this.latest;
    if (!observation) throw new Error('no account observation yet');
    this.latestSnapshot ??= this.build(observation);
    return this.latestSnapshot;
  }

  private build(observation: Observation): AccountSnapshot {
    const figures = accountFigures({
      netLiquidation: String(observation.nav),
      dayOpeningNetLiquidation: observation.opening === null ? null : String(observation.opening),
      previousHighWaterMark:
        observation.previousHighWaterMark === null ? null : String(observation.previousHighWaterMark),
    });
    return {
      v: 1,
      account: this.account,
      currency: 'USD',
      netLiquidation: figures.netLiquidation,
      cash: accountValue(observation.cash),
      realizedPnl: accountValue(observation.realizedPnl),
      unrealizedPnl: accountValue(observation.unrealizedPnl),
      dailyPnl: figures.dailyPnl,
      dailyReturnPct: figures.dailyReturnPct,
      highWaterMark: figures.highWaterMark,
      drawdownPct: figures.drawdownPct,
      ts: formatIsoMs(observation.time),
    };
  }
}
