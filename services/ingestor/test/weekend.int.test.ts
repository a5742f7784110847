import { subjects } from '@ibstack/contracts';
import type { GatewaySim } from '@ibstack/gateway-sim';
import { eventually } from '@ibstack/test-kit';

import type { IngestorService } from '../src';
import {
  bootService,
  createStack,
  destroyStack,
  forexContract,
  metricValue,
  MINUTE,
  missingMinutes,
  normaliseVolume,
  asNumbers,
  parseSystemEvent,
  simSeries,
  type Stack,
  startSim,
  storedBars,
  streamMessages,
} from './support/harness';

/** Saturday 28 November 2026, 12:00 New York: forex is closed from Friday 17:00 to Sunday 17:00. */
const SATURDAY_NOON = '2026-11-28T17:00:00.000Z';
const LOOKBACK_MS = 1.25 * 86_400_000;
/** 1.25 days before Saturday noon: Friday 06:00 New York. */
const FRIDAY_MORNING = Date.parse('2026-11-27T11:00:00.000Z');

function floorToMinute(ms: number): number {
  return Math.floor(ms / MINUTE) * MINUTE;
}
const FRIDAY_CLOSE = Date.parse('2026-11-27T22:00:00.000Z');
/** Sunday 29 November 2026, 16:59 New York: a minute before the week opens. */
const SUNDAY_BEFORE_OPEN = '2026-11-29T21:59:00.000Z';
const SUNDAY_OPEN = Date.parse('2026-11-29T22:00:00.000Z');

async function systemEventCodes(stack: Stack): Promise<string[]> {
  const events = await streamMessages(stack.bus, subjects.systemEvent('ingestor'), parseSystemEvent);
  return events.map((event) => event.code);
}

describe('ingestor: market hours', () => {
  let sim: GatewaySim | undefined;
  let stack: Stack | undefined;
  let service: IngestorService | undefined;

  afterEach(async () => {
    await service?.stop();
    await sim?.close();
    await destroyStack(stack);
    service = undefined;
    sim = undefined;
    stack = undefined;
  });

  it('does not report a weekend as stale data nor backfill it as a gap', async () => {
    stack = await createStack();
    sim = await startSim({ startTime: SATURDAY_NOON, marketHours: 'forex' });
    // The look-back is counted from the gateway's clock when the repair runs, which a loaded machine
    // reaches some simulated minutes after the start: its first minute lies between these two.
    const earliestFrom = floorToMinute(sim.now() - LOOKBACK_MS);
    const active = await bootService(sim, stack, {
      BACKFILL_DAYS: '1.25',
      STALE_AFTER_MS: '300',
      GAP_CHECK_INTERVAL_MS: '200',
    });
    service = active;
    await eventually(
      async () => (await metricValue(active, 'md_gap_checks_total', { instrument: 'EURCAD' })) >= 6,
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    await active.settle();
    const latestFrom = floorToMinute(sim.now() - LOOKBACK_MS);

    // Friday morning to the Friday close was backfilled in one request; nothing was asked for the weekend.
    const bars = await storedBars(stack.db, 'EURCAD');
    const from = bars[0]!.ts;
    expect(from).toBeGreaterThanOrEqual(Math.max(earliestFrom, FRIDAY_MORNING));
    expect(from).toBeLessThanOrEqual(latestFrom);
    expect(bars[bars.length - 1]!.ts).toBe(FRIDAY_CLOSE - MINUTE);
    expect(
      missingMinutes(
        bars.map((bar) => bar.ts),
        from,
        FRIDAY_CLOSE,
      ),
    ).toEqual([]);
    expect(
      await metricValue(active, 'md_backfill_requests_total', { instrument: 'EURCAD', result: 'ok' }),
    ).toBe(1);
    expect(await metricValue(active, 'md_gap_missing_bars', { instrument: 'EURCAD' })).toBe(0);
    const expected = await simSeries(sim, forexContract('EUR.CAD'), {
      start: from,
      end: FRIDAY_CLOSE,
    });
    expect(asNumbers(bars)).toEqual(normaliseVolume(expected));

    // Closed: no staleness, although the last tick is from Friday and the limit is 300 ms.
    expect(await metricValue(active, 'md_market_open', { instrument: 'EURCAD' })).toBe(0);
    expect(await metricValue(active, 'md_staleness_seconds', { instrument: 'EURCAD' })).toBe(0);
    expect(active.status().EURCAD).toMatchObject({ marketOpen: false, stale: false });
    expect(await systemEventCodes(stack)).not.toContain('market_data_stale');
  });

  it('starts the series at the Sunday open without a gap over the weekend, and reports silence once open', async () => {
    stack = await createStack();
    // At 10 simulated seconds per wall second the minute before the open lasts six wall seconds, room
    // enough for the service to start and look at a closed market on a loaded machine.
    sim = await startSim({ startTime: SUNDAY_BEFORE_OPEN, marketHours: 'forex', speed: 10 });
    const active = await bootService(sim, stack, { BACKFILL_DAYS: '1', STALE_AFTER_MS: '300' });
    service = active;
    // Closed for the first minute: not stale.
    await eventually(
      async () => (await metricValue(active, 'md_gap_checks_total', { instrument: 'EURCAD' })) >= 1,
      {
        timeoutMs: 10_000,
      },
    );
    const closedStatus = active.status().EURCAD;
    // The status was read before this instant: still inside the closed minute.
    expect(sim.now()).toBeLessThan(SUNDAY_OPEN);
    expect(closedStatus).toMatchObject({ marketOpen: false, stale: false });

    await eventually(async () => (await storedBars(stack!.db, 'EURCAD')).length >= 3, {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    await active.settle();
    const bars = await storedBars(stack.db, 'EURCAD');
    expect(bars[0]!.ts).toBe(SUNDAY_OPEN);
    expect(bars.every((bar) => bar.source === 'live')).toBe(true);
    expect(
      missingMinutes(
        bars.map((bar) => bar.ts),
        SUNDAY_OPEN,
        bars[bars.length - 1]!.ts,
      ),
    ).toEqual([]);
    // The look-back (Saturday 16:59 to Sunday 16:59) is all weekend: no bar asked for. Its first minute
    // ends the Friday session of a week before the listed hours, which is assumed open; the gateway's
    // "no data" (162) for it is an answer: asked once, never refused, and no gap is left.
    expect(
      await metricValue(active, 'md_backfill_requests_total', { instrument: 'EURCAD', result: 'ok' }),
    ).toBe(0);
    expect(
      await metricValue(active, 'md_backfill_requests_total', { instrument: 'EURCAD', result: 'no_data' }),
    ).toBe(1);
    expect(
      await metricValue(active, 'md_backfill_requests_total', { instrument: 'EURCAD', result: 'refused' }),
    ).toBe(0);
    expect(await metricValue(active, 'md_gap_missing_bars', { instrument: 'EURCAD' })).toBe(0);
    expect(await metricValue(active, 'md_market_open', { instrument: 'EURCAD' })).toBe(1);
    expect(await systemEventCodes(stack)).not.toContain('market_data_stale');

    // Open and silent (the gateway stops answering): that is stale, and it is reported.
    sim.faults.stall(true);
    await eventually(async () => (await systemEventCodes(stack!)).includes('market_data_stale'), {
      timeoutMs: 5_000,
      intervalMs: 50,
    });
    expect(
      await metricValue(active, 'md_staleness_seconds', { instrument: 'EURCAD' }),
    ).toBeGreaterThanOrEqual(0.3);
    sim.faults.stall(false);
    await eventually(async () => (await systemEventCodes(stack!)).includes('market_data_resumed'), {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
  });
});
