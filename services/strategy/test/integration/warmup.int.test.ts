import { type SleeveStatus } from '@ibstack/strategy';
import { eventually } from '@ibstack/test-kit';

import { flatBars } from '../bars';
import { openWorld, sleevesFile, T0, type World } from './world';

const closes = [
  '1.50',
  '1.51',
  '1.52',
  '1.515',
  '1.505',
  '1.50',
  '1.495',
  '1.50',
  '1.51',
  '1.52',
  '1.525',
  '1.52',
  '1.51',
  '1.50',
  '1.49',
  '1.495',
  '1.505',
  '1.515',
  '1.52',
  '1.51',
];
const bars = flatBars(closes, T0);
const file = sleevesFile([
  { name: 'ma', strategy: 'ma-crossover', parameters: { fast: 3, slow: 5 } },
  { name: 'rsi', strategy: 'rsi-mean-reversion', parameters: { period: 4 } },
  { name: 'seen', strategy: 'scripted' },
]);

const progressed = (status: SleeveStatus[], barIndex: number) =>
  status.every((sleeve) => sleeve.progress.EURCAD === bars[barIndex - 1]!.ts);
const stateOf = (status: SleeveStatus[], name: string) => status.find((s) => s.name === name)!.state;

describe('warm-up', () => {
  let uninterrupted: World;
  let restarted: World;
  beforeEach(async () => {
    [uninterrupted, restarted] = await Promise.all([openWorld(), openWorld()]);
  });
  afterEach(() => Promise.all([uninterrupted.close(), restarted.close()]));

  it('from Postgres, and again after a restart, gives the indicator values of an uninterrupted run', async () => {
    // Reference: every bar live.
    const reference = await uninterrupted.start(file);
    await uninterrupted.publishBars(bars);
    await eventually(() => expect(progressed(reference.service.status(), 20)).toBe(true));
    const expected = reference.service.status();

    // First start: bars 1–12 are in Postgres only (history), 13–16 arrive live.
    await restarted.insertBars(bars.slice(0, 12));
    const first = await restarted.start(file);
    expect(stateOf(first.service.status(), 'seen')).toEqual({ seen: bars.slice(0, 12).map((b) => b.ts) });
    await restarted.publishBars(bars.slice(12, 16));
    await eventually(() => expect(progressed(first.service.status(), 16)).toBe(true));
    await first.service.stop();

    // While it is down the ingestor stores 13–20, and 17–20 wait on the stream. Warm-up must stop at the
    // progress (bar 16): replaying 17–20 from Postgres and then again live would count them twice.
    await restarted.insertBars(bars.slice(12, 20));
    await restarted.publishBars(bars.slice(16, 20));
    const second = await restarted.start(file);
    await eventually(() => expect(progressed(second.service.status(), 20)).toBe(true));

    const actual = second.service.status();
    expect(stateOf(actual, 'seen')).toEqual({ seen: bars.map((b) => b.ts) });
    expect(stateOf(actual, 'ma')).toEqual(stateOf(expected, 'ma'));
    expect(stateOf(actual, 'rsi')).toEqual(stateOf(expected, 'rsi'));
    // The values are real ones, not two empty states compared.
    const ma = stateOf(actual, 'ma')!.EURCAD as { fast: number | null; slow: number | null };
    expect(typeof ma.fast).toBe('number');
    expect(typeof ma.slow).toBe('number');
    expect((stateOf(actual, 'rsi')!.EURCAD as { rsi: number }).rsi).toBeGreaterThan(0);
  });
});
