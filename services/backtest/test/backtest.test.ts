/**
 * The backtest engine on generated bars: the strategy's own intents (ids derived from sleeve, instrument and
 * bar), fills from the sim's matching engine at the quote's bid or ask with the sim's commissions, an
 * equity curve that follows the replayed price, and the same result from the same input.
 */
import { deriveIntentId, TIMEFRAME_SECONDS } from '@ibstack/contracts';
import { BUILT_IN_INSTRUMENTS, orderCommissionTotal } from '@ibstack/gateway-sim';
import { builtInStrategies, parseSleevesConfig } from '@ibstack/strategy';

import { runBacktest } from '../src/backtest';
import { backtestChartSvg } from '../src/chart';
import { summaryLines } from '../src/report';
import { syntheticBars } from '../src/synthetic-bars';

const SLEEVES = `
instruments: [EUR.CAD]
fxRatesToUsd: { CAD: 0.72 }
riskDefaults: { maxOrdersPerMinute: 100 }
sleeves:
  - name: cross
    strategy: ma-crossover
    instruments: [EUR.CAD]
    timeframe: 1m
    capitalUsd: 25000
    parameters: { fast: 3, slow: 8, average: sma, allowShort: true }
    sizing: { quantityStep: 1000 }
    risk: { maxPositionUsd: 40000, maxOrderNotionalUsd: 60000 }
`;

const FROM = Date.parse('2026-11-02T00:00:00Z');
const EURCAD = BUILT_IN_INSTRUMENTS.find((instrument) => instrument.key === 'EURCAD')!;
/** The quote's spread around the mid, and a tick of rounding. */
const SPREAD = (EURCAD.pricing.dynamics.spreadTicks + 1) * EURCAD.minTick;

function input(count = 3000) {
  const sleeves = parseSleevesConfig(SLEEVES, 'test.yaml', builtInStrategies());
  const bars = syntheticBars({
    instrument: 'EURCAD',
    timeframe: '1m',
    fromMs: FROM - 20 * 60_000,
    count,
    start: 1.5,
    volatility: 0.0002,
    decimals: 5,
    seed: 11,
  });
  return { sleeves, bars, fromMs: FROM, toMs: FROM + 7 * 86_400_000, initialCashUsd: 100_000 };
}

describe('runBacktest', () => {
  it('emits the strategy’s intents, fills them through the sim’s matching engine, and values the account', async () => {
    const options = input();
    const result = await runBacktest(options);

    expect(result.barsReplayed).toBe(options.bars.filter((bar) => Date.parse(bar.ts) >= FROM).length);
    const accepted = result.intents.filter((row) => row.status === 'accepted');
    expect(accepted.length).toBeGreaterThan(10);
    for (const { intent } of result.intents) {
      // The id the live stack derives for the same sleeve, instrument and bar.
      expect(intent.intentId).toBe(
        deriveIntentId({
          sleeve: 'cross',
          instrument: intent.instrument,
          barTs: intent.barTs,
          sequence: intent.sequence,
          triggeredBy: 'EURCAD',
        }),
      );
      // Decided at the bar's close.
      expect(Date.parse(intent.createdAt)).toBe(Date.parse(intent.barTs) + TIMEFRAME_SECONDS['1m'] * 1000);
    }

    const barsByTs = new Map(options.bars.map((bar) => [Date.parse(bar.ts), bar]));
    for (const { intent } of accepted) {
      const fills = result.trades.filter((trade) => trade.fill.intentId === intent.intentId);
      // A market order on a deep book fills whole, at once, at the bar's close.
      expect(fills).toHaveLength(1);
      const { fill, commissionUsd } = fills[0]!;
      expect(fill.quantity).toBe(intent.quantity);
      expect(fill.side).toBe(intent.side);
      expect(fill.ts).toBe(intent.createdAt);
      // At the next bar's open (the last close after the last bar), on the far side of the spread.
      const next = barsByTs.get(Date.parse(intent.createdAt));
      const open = Number(next ? next.open : options.bars.at(-1)!.close);
      const price = Number(fill.price);
      if (fill.side === 'BUY') expect(price).toBeGreaterThanOrEqual(open - EURCAD.minTick);
      else expect(price).toBeLessThanOrEqual(open + EURCAD.minTick);
      expect(Math.abs(price - open)).toBeLessThanOrEqual(SPREAD + 1e-9);
      // The sim's commission: 0.2 bp of the USD value, at least 2 USD.
      const valueUsd = Number(fill.quantity) * price * 0.72;
      expect(commissionUsd).toBeCloseTo(orderCommissionTotal('CASH', Number(fill.quantity), valueUsd), 1);
    }

    const s = result.statistics;
    expect(s.fills).toBe(result.trades.length);
    expect(s.commissionsUsd).toBeCloseTo(
      result.trades.reduce((sum, trade) => sum + trade.commissionUsd, 0),
      2,
    );
    expect(s.finalEquityUsd).toBe(result.equity.values.at(-1));
    expect(s.exposurePct).toBeGreaterThan(50);
    // Equity moves with the price while a position is open (valued at the replayed price, not a fixed rate).
    expect(new Set(result.equity.values).size).toBeGreaterThan(result.trades.length * 2);
  });

  it('reports when the drawdown rule switched the run to REDUCING: in the result, the summary and the chart', async () => {
    const options = input();
    const tight = parseSleevesConfig(
      SLEEVES.replace(
        'maxOrdersPerMinute: 100 }',
        'maxOrdersPerMinute: 100, drawdownWarnPct: 0.2, drawdownReducePct: 0.4 }',
      ),
      'test.yaml',
      builtInStrategies(),
    );
    const result = await runBacktest({ ...options, sleeves: tight, initialCashUsd: 25_000 });

    expect(result.tradingStateChanges).toHaveLength(1);
    const [change] = result.tradingStateChanges;
    expect(change).toMatchObject({ state: 'REDUCING', by: 'strategy:risk' });
    expect(change!.reason).toMatch(/^drawdown [\d.]+% reached 0.4%$/);
    // The same moment as the critical event the stack would send.
    const reducing = result.systemEvents.filter((event) => event.code === 'drawdown_reducing');
    expect(reducing.map((event) => event.ts)).toEqual([change!.at]);
    expect(summaryLines(result)).toContainEqual(
      expect.stringMatching(new RegExp(`trading state\\s+REDUCING from ${change!.at} \\(drawdown`)),
    );
    expect(backtestChartSvg(result, 'test')).toContain('REDUCING');
    // A run that never crossed says nothing of it.
    const calm = await runBacktest(options);
    expect(calm.tradingStateChanges).toEqual([]);
    expect(summaryLines(calm).join('\n')).not.toContain('trading state');
    expect(backtestChartSvg(calm, 'test')).not.toContain('REDUCING');
  });

  it('gives the same intents and fills for the same bars', async () => {
    const first = await runBacktest(input(1500));
    const second = await runBacktest(input(1500));
    expect(second.intents).toEqual(first.intents);
    expect(second.trades.map((t) => t.fill)).toEqual(first.trades.map((t) => t.fill));
    expect(second.statistics).toEqual(first.statistics);
  });

  it('runs bars given out of order as it runs them in time order (bars of one time in the order given)', async () => {
    // The sleeve's minutes, coarser bars of its instrument (the venue prices from the finest) and minutes of
    // an instrument no sleeve trades, shuffled; and the same list sorted by time (a stable sort).
    const { bars: minutes, ...rest } = input(1500);
    const common = { fromMs: FROM - 20 * 60_000, start: 1.5, volatility: 0.0002, decimals: 5 };
    const shuffled = [
      ...minutes,
      ...syntheticBars({ ...common, instrument: 'EURCAD', timeframe: '5m', count: 300, seed: 3 }),
      ...syntheticBars({ ...common, instrument: 'GBPUSD', timeframe: '1m', count: 1500, seed: 5 }),
    ];
    let seed = 7;
    for (let index = shuffled.length - 1; index > 0; index--) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      const other = seed % (index + 1);
      [shuffled[index], shuffled[other]] = [shuffled[other]!, shuffled[index]!];
    }
    const ordered = [...shuffled].sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
    const inOrder = await runBacktest({ ...rest, bars: ordered });
    const outOfOrder = await runBacktest({ ...rest, bars: shuffled });
    expect(inOrder.trades.length).toBeGreaterThan(0);
    expect(outOfOrder.intents).toEqual(inOrder.intents);
    expect(outOfOrder.trades).toEqual(inOrder.trades);
    expect(outOfOrder.equity).toEqual(inOrder.equity);
    expect(outOfOrder.barsReplayed).toBe(inOrder.barsReplayed);
  });
});
