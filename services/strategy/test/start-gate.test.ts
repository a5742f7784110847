import type { MessageContext } from '@ibstack/bus';
import { sleep } from '@ibstack/test-kit';

import { ServiceStoppingError } from '../src/errors';
import { StartGate } from '../src/start-gate';

function context(): MessageContext & { heartbeats: number } {
  const value = {
    subject: 'md.bar.EURCAD.1m',
    streamSequence: 1,
    deliveryCount: 1,
    redelivered: false,
    heartbeats: 0,
    working: () => {
      value.heartbeats += 1;
    },
  };
  return value;
}

describe('start gate', () => {
  it('holds work until the gate opens, telling JetStream meanwhile that the message is in hand', async () => {
    const gate = new StartGate(10);
    const message = context();
    const done: string[] = [];
    const passing = gate.pass(message, () => {
      done.push('work');
      return Promise.resolve();
    });
    await sleep(50);
    expect(done).toEqual([]);
    expect(message.heartbeats).toBeGreaterThan(0);
    gate.open();
    await passing;
    expect(done).toEqual(['work']);
    // No heartbeat outlives the handler.
    const heartbeats = message.heartbeats;
    await sleep(30);
    expect(message.heartbeats).toBe(heartbeats);
  });

  it('fails the handlers still waiting when the service stops before it started', async () => {
    const gate = new StartGate(1_000);
    let ran = false;
    const passing = gate.pass(context(), () => {
      ran = true;
      return Promise.resolve();
    });
    gate.close(new ServiceStoppingError());
    await expect(passing).rejects.toBeInstanceOf(ServiceStoppingError);
    expect(ran).toBe(false);
  });
});
