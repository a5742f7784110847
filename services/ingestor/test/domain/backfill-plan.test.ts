import { chunkFor, planChunks } from '../../src/domain/backfill-plan';

const at = (iso: string) => Date.parse(iso);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('backfill chunk planning', () => {
  it('asks for five days of minutes in five one-day requests, newest first', () => {
    const end = at('2026-11-24T15:00:00Z');
    const chunks = planChunks([{ start: end - 5 * DAY, end }]);
    expect(chunks.map((chunk) => [chunk.endDateTime, chunk.duration])).toEqual([
      ['20261124-15:00:00', '86400 S'],
      ['20261123-15:00:00', '86400 S'],
      ['20261122-15:00:00', '86400 S'],
      ['20261121-15:00:00', '86400 S'],
      ['20261120-15:00:00', '86400 S'],
    ]);
  });

  it('puts nearby holes into one request and far ones into separate requests', () => {
    const base = at('2026-11-24T00:00:00Z');
    const chunks = planChunks([
      { start: base, end: base + 2 * 60_000 },
      { start: base + HOUR, end: base + HOUR + 60_000 },
      { start: base + 30 * HOUR, end: base + 30 * HOUR + 5 * 60_000 },
    ]);
    expect(chunks).toEqual([
      chunkFor(base + 30 * HOUR, base + 30 * HOUR + 5 * 60_000),
      chunkFor(base, base + HOUR + 60_000),
    ]);
    expect(chunks[0]!.duration).toBe('300 S');
    expect(chunks[1]!.duration).toBe('3660 S');
  });

  it('never asks for more than the configured window', () => {
    const end = at('2026-11-24T15:00:00Z');
    const chunks = planChunks([{ start: end - 3 * HOUR, end }], 3_600);
    expect(chunks).toHaveLength(3);
    expect(chunks.every((chunk) => chunk.duration === '3600 S')).toBe(true);
    expect(chunks[2]!.start).toBe(end - 3 * HOUR);
  });
});
