import { StateWriter, type WriterTimers } from '../../src/trading/state-file';

/** Timers the test fires by hand. */
function manualTimers() {
  const pending = new Map<number, { callback: () => void; ms: number }>();
  let next = 1;
  const timers: WriterTimers = {
    setTimeout: (callback, ms) => {
      const id = next++;
      pending.set(id, { callback, ms });
      return id as unknown as NodeJS.Timeout;
    },
    clearTimeout: (timer) => void pending.delete(timer as unknown as number),
  };
  const fire = () => {
    const due = [...pending];
    pending.clear();
    for (const [, entry] of due) entry.callback();
  };
  return { timers, pending, fire };
}

describe('state writer', () => {
  it('coalesces a burst of changes into one write within the interval', () => {
    const { timers, pending, fire } = manualTimers();
    let writes = 0;
    const writer = new StateWriter(() => (writes += 1), 200, timers);
    for (let i = 0; i < 1_000; i++) writer.changed();
    expect(writes).toBe(0);
    expect([...pending.values()].map((entry) => entry.ms)).toEqual([200]);
    fire();
    expect(writes).toBe(1);
    writer.changed();
    fire();
    expect(writes).toBe(2);
  });

  it('writes at once on flush and cancels the pending write', () => {
    const { timers, pending } = manualTimers();
    let writes = 0;
    const writer = new StateWriter(() => (writes += 1), 200, timers);
    writer.changed();
    writer.flush();
    expect(writes).toBe(1);
    expect(pending.size).toBe(0);
    writer.changed();
    writer.close();
    expect(pending.size).toBe(0);
    expect(writes).toBe(1);
  });
});
