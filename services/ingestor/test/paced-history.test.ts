import { ManualClock } from '@ibstack/test-kit';

import type { HistoricalAnswer, HistoricalRequest } from '../src/adapters/ib-market-data';
import { IB_PACING_LIMITS, PacingLimiter, type PacingRecord } from '../src/domain/pacing';
import { GatewayDisconnectedError, StoppedError } from '../src/errors';
import { PacedHistory } from '../src/paced-history';

function setup(options: { ready?: () => boolean; past?: PacingRecord[] } = {}) {
  const clock = new ManualClock();
  const sent: Array<{ at: number; request: HistoricalRequest }> = [];
  const recorded: PacingRecord[] = [];
  const waits: number[] = [];
  const history = new PacedHistory({
    limiter: new PacingLimiter(IB_PACING_LIMITS, clock.now, options.past),
    wallClock: clock.now,
    fetch: (_contract, _label, request) => {
      sent.push({ at: clock.now(), request });
      return Promise.resolve<HistoricalAnswer>({ bars: [], servedStart: undefined, servedEnd: undefined });
    },
    // Waiting moves the manual clock, so the limiter sees the time pass.
    sleep: (ms) => {
      waits.push(ms);
      clock.advance(ms);
      return Promise.resolve();
    },
    canSend: options.ready,
    onSent: (record) => recorded.push(record),
  });
  return { clock, sent, recorded, waits, history };
}

const input = (end: string) => ({
  contract: { conId: 1 },
  label: 'EURCAD',
  timeZone: 'US/Eastern',
  request: {
    endDateTime: end,
    duration: '86400 S',
    barSize: '1 min',
    whatToShow: 'MIDPOINT',
    useRegularTradingHours: false,
  },
});

describe('paced history', () => {
  it('sends five requests for a contract at once and the sixth after the two-second window', async () => {
    const { history, sent, waits } = setup();
    const signal = new AbortController().signal;
    for (let i = 0; i < 6; i++) await history.fetch(input(`20261124-1${i}:00:00`), signal);
    expect(sent.map((entry) => entry.at - sent[0]!.at)).toEqual([0, 0, 0, 0, 0, 2_100]);
    expect(waits).toEqual([2_100]);
  });

  it('answers an identical request from the previous answer instead of sending it again', async () => {
    const { history, sent } = setup();
    const signal = new AbortController().signal;
    const first = await history.fetch(input('20261124-10:00:00'), signal);
    const again = await history.fetch(input('20261124-10:00:00'), signal);
    expect(again).toBe(first);
    expect(sent).toHaveLength(1);
  });

  it('does not count a request it could not send (no session), so the retry does not wait for nothing', async () => {
    let ready = false;
    const { history, sent, waits } = setup({ ready: () => ready });
    const signal = new AbortController().signal;
    await expect(history.fetch(input('20261124-10:00:00'), signal)).rejects.toBeInstanceOf(
      GatewayDisconnectedError,
    );
    ready = true;
    await history.fetch(input('20261124-10:00:00'), signal);
    expect(sent).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('stops waiting when stopped', async () => {
    const clock = new ManualClock();
    const limiter = new PacingLimiter(IB_PACING_LIMITS, clock.now);
    for (let i = 0; i < 5; i++) limiter.record({ identity: String(i), contract: 'EURCAD' });
    const history = new PacedHistory({
      limiter,
      wallClock: clock.now,
      fetch: () => Promise.reject(new Error('must not be sent')),
    });
    const controller = new AbortController();
    const pending = history.fetch(input('20261124-10:00:00'), controller.signal);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(StoppedError);
  });

  it('hands each request it sends to onSent, as counted, and nothing for one it answered without sending', async () => {
    const { history, sent, recorded, clock } = setup();
    const start = clock.now();
    const signal = new AbortController().signal;
    await history.fetch(input('20261124-10:00:00'), signal);
    await history.fetch(input('20261124-10:00:00'), signal);
    clock.advance(1_000);
    await history.fetch(input('20261124-11:00:00'), signal);
    expect(sent).toHaveLength(2);
    expect(recorded.map((record) => [record.at - start, record.contract, record.weight])).toEqual([
      [0, 'EURCAD', 1],
      [1_000, 'EURCAD', 1],
    ]);
    expect(recorded[0]!.identity).toContain('20261124-10:00:00');
    expect(recorded[1]!.identity).toContain('20261124-11:00:00');
  });

  it('waits out an identical request an earlier run sent, whose answer it does not have', async () => {
    const first = setup();
    const start = first.clock.now();
    await first.history.fetch(input('20261124-10:00:00'), new AbortController().signal);
    first.clock.advance(5_000);
    // The restarted process: a new limiter loaded with the first one's records, on the same clock.
    const restarted = setup({ past: first.recorded });
    restarted.clock.advance(5_000);
    await restarted.history.fetch(input('20261124-10:00:00'), new AbortController().signal);
    expect(restarted.waits).toEqual([10_000 + 100]);
    expect(restarted.sent.map((entry) => entry.at)).toEqual([start + 15_100]);
  });
});
