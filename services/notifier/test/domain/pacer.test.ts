import { ChatPacer } from '../../src/pacer';

describe('ChatPacer', () => {
  let now = 1_000_000;
  const pacer = () =>
    new ChatPacer({ chatIntervalMs: 1_000, groupIntervalMs: 3_000, globalIntervalMs: 40, now: () => now });

  beforeEach(() => {
    now = 1_000_000;
  });

  it('gives a chat one slot a second, a group one every three, and every chat one after the last send overall', async () => {
    const p = pacer();
    await p.acquire(1);
    expect(p.nextFree(1)).toBe(now + 1_000);
    expect(p.nextFree(2)).toBe(now + 40);
    now += 40;
    await p.acquire(-100);
    expect(p.nextFree(-100)).toBe(now + 3_000);
  });

  it('reserves slots in order, so concurrent senders to one chat are spaced', () => {
    const p = pacer();
    void p.acquire(1);
    void p.acquire(1);
    expect(p.nextFree(1)).toBe(now + 2_000);
  });

  it('holds a chat off for a 429 retry_after', () => {
    const p = pacer();
    p.holdOff(7, 5_000);
    expect(p.nextFree(7)).toBe(now + 5_000);
    p.holdOff(7, 1_000);
    expect(p.nextFree(7)).toBe(now + 5_000);
  });

  it('lets a waiting sender go at once when it is stopped', async () => {
    const p = new ChatPacer({ chatIntervalMs: 1_000, groupIntervalMs: 3_000, globalIntervalMs: 40 });
    p.holdOff(7, 60_000);
    const stopping = new AbortController();
    const waited = p.waitUntilFree(7, stopping.signal);
    stopping.abort();
    await expect(waited).resolves.toBeUndefined();
  });
});
