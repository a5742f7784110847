import { join } from 'node:path';

import {
  type ConsumerHandle,
  DEFAULT_PULL_EXPIRES_MS,
  InvalidMessageError,
  tradingStateKv,
} from '@ibstack/bus';
import { type Bar, DeadLetter, KV_KEYS, Lease, nowIso, subjects, topics } from '@ibstack/contracts';
import { createTestBus, eventually, makeBar, spawnTs, type TestBus } from '@ibstack/test-kit';
import { createInbox } from '@nats-io/transport-node';

describe('bus', () => {
  let testBus: TestBus;
  const handles: ConsumerHandle[] = [];
  beforeEach(async () => {
    testBus = await createTestBus();
  });
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((handle) => handle.stop()));
    await testBus.destroy();
  });

  async function deadLetters(): Promise<DeadLetter[]> {
    const { bus } = testBus;
    const stream = bus.namespace.stream('SYS');
    const info = await bus.jsm.streams.info(stream);
    const found: DeadLetter[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const message = await bus.jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (message && message.subject.startsWith(bus.namespace.subject('sys.deadletter.'))) {
        found.push(DeadLetter.parse(message.json()));
      }
    }
    return found;
  }

  it('creates streams and buckets idempotently', async () => {
    const { bus } = testBus;
    await bus.ensureStreams();
    await bus.ensureStreams();
    const names: string[] = [];
    for await (const name of bus.jsm.streams.names()) names.push(name);
    expect(names).toEqual(
      expect.arrayContaining(['MD', 'ORDERS', 'SYS'].map((n) => `${testBus.namespace}_${n}`)),
    );
    await bus.kv('trading', Lease);
    await bus.kv('trading', Lease);
  });

  it('round-trips a message through a durable consumer with explicit ack', async () => {
    const { bus } = testBus;
    const received: Bar[] = [];
    handles.push(
      await bus.consume(topics.bar, {
        durable: 'rt',
        handler: (bar, context) => {
          expect(context.subject).toBe(subjects.bar('EURCAD', '1m'));
          received.push(bar);
          return Promise.resolve();
        },
      }),
    );
    const bar = makeBar();
    const ack = await bus.publish(topics.bar, bar);
    expect(ack.stream).toBe(`${testBus.namespace}_MD`);
    await eventually(() => expect(received).toEqual([bar]));
    const info = await bus.jsm.consumers.info(bus.namespace.stream('MD'), 'rt');
    await eventually(async () =>
      expect((await bus.jsm.consumers.info(bus.namespace.stream('MD'), 'rt')).num_ack_pending).toBe(0),
    );
    expect(info.config.ack_policy).toBe('explicit');
  });

  it('drops a re-published message with the same Nats-Msg-Id', async () => {
    const { bus } = testBus;
    const first = await bus.publish(topics.bar, makeBar());
    const again = await bus.publish(topics.bar, makeBar({ receivedAt: '2026-11-24T15:00:05.000Z' }));
    expect(again.duplicate).toBe(true);
    expect(again.seq).toBe(first.seq);
    const revised = await bus.publish(topics.bar, makeBar({ close: '1.48260' }));
    expect(revised.duplicate).toBe(false);
  });

  it('refuses to publish an invalid message and sends nothing', async () => {
    const { bus } = testBus;
    await expect(bus.publish(topics.bar, { ...makeBar(), high: '1.0' })).rejects.toBeInstanceOf(
      InvalidMessageError,
    );
    const info = await bus.jsm.streams.info(bus.namespace.stream('MD'));
    expect(info.state.messages).toBe(0);
  });

  it('sends an invalid message to the dead-letter subject with its reason, counts it, and keeps consuming', async () => {
    const { bus } = testBus;
    const received: Bar[] = [];
    handles.push(
      await bus.consume(topics.bar, {
        durable: 'dlq',
        ackWaitMs: 1_000,
        handler: (bar) => {
          received.push(bar);
          return Promise.resolve();
        },
      }),
    );
    // Raw publishes bypass validation, as a foreign or buggy publisher would.
    await bus.js.publish(bus.namespace.subject(subjects.bar('EURCAD', '1m')), 'not json');
    await bus.js.publish(
      bus.namespace.subject(subjects.bar('EURCAD', '1m')),
      JSON.stringify({ ...makeBar(), open: 'NaN' }),
    );
    await bus.publish(topics.bar, makeBar());

    await eventually(() => expect(received).toHaveLength(1));
    const letters = await eventually(async () => {
      const found = await deadLetters();
      expect(found).toHaveLength(2);
      return found;
    });
    expect(letters[0]).toMatchObject({ consumer: 'dlq', stream: 'MD', originalSubject: 'md.bar.EURCAD.1m' });
    expect(letters[0]!.reason).toMatch(/^invalid JSON/);
    expect(Buffer.from(letters[0]!.payloadBase64, 'base64').toString()).toBe('not json');
    expect(letters[1]!.reason).toMatch(/open: must be a decimal number/);
    const metric = await testBus.registry.getSingleMetric('bus_dead_letters_total')!.get();
    expect(metric.values.find((value) => value.labels.reason === 'invalid')?.value).toBe(2);

    // Terminated, not merely sent away: nothing stays pending and nothing comes back after the ack wait.
    await eventually(async () => {
      const consumer = await bus.jsm.consumers.info(bus.namespace.stream('MD'), 'dlq');
      expect(consumer.num_ack_pending).toBe(0);
    });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await deadLetters()).toHaveLength(2);
  });

  it('dead-letters a message whose handler keeps failing after max deliveries', async () => {
    const { bus } = testBus;
    let attempts = 0;
    handles.push(
      await bus.consume(topics.bar, {
        durable: 'failing',
        maxDeliver: 3,
        retryDelayMs: 20,
        handler: () => {
          attempts += 1;
          return Promise.reject(new Error('database is down'));
        },
      }),
    );
    await bus.publish(topics.bar, makeBar());
    const [letter] = await eventually(async () => {
      const found = await deadLetters();
      expect(found).toHaveLength(1);
      return found;
    });
    expect(attempts).toBe(3);
    expect(letter!.reason).toBe('handler failed 3 times (delivery 3; limit 3): database is down');
  });

  it('does not count a redelivery after waiting behind a slow message as a failure', async () => {
    const { bus } = testBus;
    const seen: string[] = [];
    let failedOnce = false;
    handles.push(
      await bus.consume(topics.bar, {
        durable: 'slow',
        maxDeliver: 2,
        ackWaitMs: 300,
        retryDelayMs: 20,
        handler: async (bar, context) => {
          seen.push(`${bar.ts}#${context.deliveryCount}`);
          // The first bar is slow: the second waits in the buffer past its ack wait and is redelivered.
          if (bar.ts === first.ts && context.deliveryCount === 1)
            await new Promise((r) => setTimeout(r, 1_000));
          if (bar.ts === second.ts && context.deliveryCount >= 2 && !failedOnce) {
            failedOnce = true;
            throw new Error('transient');
          }
        },
      }),
    );
    const first = makeBar({ ts: '2026-11-24T15:00:00.000Z' });
    const second = makeBar({ ts: '2026-11-24T15:01:00.000Z' });
    await bus.publish(topics.bar, first);
    await bus.publish(topics.bar, second);
    await eventually(() => expect(failedOnce).toBe(true));
    await eventually(() =>
      expect(seen.filter((entry) => entry.startsWith(second.ts)).length).toBeGreaterThanOrEqual(2),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await deadLetters()).toHaveLength(0);
    expect(seen.some((entry) => entry.startsWith(second.ts) && !entry.endsWith('#1'))).toBe(true);
  });

  it('redelivers a message whose consumer process was killed before acknowledging it', async () => {
    const { bus } = testBus;
    const dying = spawnTs(join(__dirname, 'fixtures', 'take-and-hang.ts'), [testBus.namespace]);
    try {
      await dying.waitForLine('ready');
      await bus.publish(topics.bar, makeBar());
      await dying.waitForLine('taken');
    } finally {
      await dying.kill('SIGKILL');
    }

    const redelivered: Array<{ deliveryCount: number; redelivered: boolean }> = [];
    handles.push(
      await bus.consume(topics.bar, {
        durable: 'worker',
        ackWaitMs: 1_000,
        handler: (_bar, context) => {
          redelivered.push({ deliveryCount: context.deliveryCount, redelivered: context.redelivered });
          return Promise.resolve();
        },
      }),
    );
    await eventually(() => expect(redelivered).toEqual([{ deliveryCount: 2, redelivered: true }]), {
      timeoutMs: 10_000,
    });
  });

  it('exports its lag: messages not yet delivered and delivered but not yet acknowledged', async () => {
    const { bus } = testBus;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const handled: string[] = [];
    handles.push(
      await bus.consume(topics.bar, {
        durable: 'lagging',
        maxAckPending: 1,
        lagRefreshMs: 50,
        handler: async (bar) => {
          await released;
          handled.push(bar.ts);
        },
      }),
    );
    const lag = async () => {
      const value = async (name: string) =>
        (await testBus.registry.getSingleMetric(name)!.get()).values.find(
          (sample) => sample.labels.consumer === bus.namespace.consumer('lagging'),
        )?.value;
      return {
        pending: await value('bus_consumer_pending_messages'),
        ackPending: await value('bus_consumer_ack_pending_messages'),
      };
    };
    for (const minute of [0, 1, 2])
      await bus.publish(topics.bar, makeBar({ ts: `2026-11-24T15:0${minute}:00.000Z` }));
    await eventually(async () => expect(await lag()).toEqual({ pending: 2, ackPending: 1 }));
    release();
    await eventually(() => expect(handled).toHaveLength(3));
    await eventually(async () => expect(await lag()).toEqual({ pending: 0, ackPending: 0 }));
  });

  it('lets its pulls lapse within DEFAULT_PULL_EXPIRES_MS, so a frozen former consumer cannot take its successor’s message', async () => {
    // In the failover cluster the consumer's leader went on serving the pulls of a holder cut off from it;
    // with one message in flight, the one sent into the void held back the rest for the ack wait.
    const { bus } = testBus;
    const stream = bus.namespace.stream('MD');
    const durable = bus.namespace.consumer('successor');
    const next = `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`;
    const consumerOptions = { durable: 'successor', maxAckPending: 1, ackWaitMs: 30_000 };
    // The pulls a consumer sends, as the server receives them.
    const pulls: Array<{ expires: number }> = [];
    const watch = bus.nc.subscribe(next, {
      callback: (_error, message) => {
        pulls.push(message.json<{ expires: number }>());
      },
    });
    const former = await bus.consume(topics.bar, { ...consumerOptions, handler: () => Promise.resolve() });
    await eventually(() => expect(pulls.length).toBeGreaterThan(0));
    await former.stop();
    watch.unsubscribe();
    expect(pulls[0]!.expires).toBeLessThanOrEqual(DEFAULT_PULL_EXPIRES_MS * 1_000_000);
    const waiting = async () => (await bus.jsm.consumers.info(stream, durable)).num_waiting;
    await eventually(async () => expect(await waiting()).toBe(0));

    // The same pull from a client that is still connected (so the server sees its interest, as the leader
    // saw the partitioned holder's) but never takes what it is sent.
    const frozen = await createTestBus({ namespace: testBus.namespace, name: 'frozen' });
    try {
      const inbox = createInbox();
      frozen.bus.nc.subscribe(inbox, { callback: () => undefined });
      frozen.bus.nc.publish(next, JSON.stringify(pulls[0]), { reply: inbox });
      await eventually(async () => expect(await waiting()).toBe(1));
      await eventually(async () => expect(await waiting()).toBe(0), {
        timeoutMs: DEFAULT_PULL_EXPIRES_MS + 3_000,
        intervalMs: 250,
      });

      const received: number[] = [];
      handles.push(
        await bus.consume(topics.bar, {
          ...consumerOptions,
          handler: (_bar, context) => {
            received.push(context.deliveryCount);
            return Promise.resolve();
          },
        }),
      );
      await bus.publish(topics.bar, makeBar());
      await eventually(() => expect(received).toEqual([1]));
    } finally {
      await frozen.bus.close();
    }
  });

  it('stops a consumer that is stopped while it is still starting', async () => {
    const { bus } = testBus;
    for (let attempt = 0; attempt < 5; attempt++) {
      const handle = await bus.consume(topics.bar, {
        durable: `early-stop-${attempt}`,
        handler: () => Promise.resolve(),
      });
      // No wait: the loop is still creating its pull subscription.
      await handle.stop();
      await expect(
        Promise.race([
          handle.closed.then(() => 'closed'),
          new Promise((resolve) => setTimeout(() => resolve('hung'), 2_000)),
        ]),
      ).resolves.toBe('closed');
    }
  });

  describe('KV', () => {
    const lease = (holder: string) => ({
      v: 1 as const,
      holder,
      epoch: 0,
      acquiredAt: '2026-11-24T15:00:00.000Z',
      renewedAt: '2026-11-24T15:00:00.000Z',
    });

    it('reads the trading state through the bucket’s leader, never a direct get that any replica answers', async () => {
      const { bus } = testBus;
      const stream = `KV_${bus.namespace.bucket('trading')}`;
      // Every JetStream API request, as the server receives it: which kind of get the read sends.
      const reads: string[] = [];
      const watch = bus.nc.subscribe('$JS.API.>', {
        callback: (_error, message) => {
          if (message.subject.includes(stream) && message.subject.includes('.GET'))
            reads.push(message.subject.split('.').slice(2, -1).join('.').replace(`.${stream}`, ''));
        },
      });
      try {
        const kv = await tradingStateKv(bus);
        const running = {
          v: 1 as const,
          state: 'RUNNING' as const,
          reason: 'test',
          by: 'test',
          at: nowIso(),
        };
        await kv.put(KV_KEYS.tradingState, running);
        expect((await kv.get(KV_KEYS.tradingState))?.value).toEqual(running);
        await bus.nc.flush();
        expect(reads).toEqual(['STREAM.MSG.GET']);
      } finally {
        watch.unsubscribe();
      }
    });

    it('creates a key only if absent and updates only at the expected revision', async () => {
      const kv = await testBus.bus.kv('leases', Lease, { ttlMs: 60_000 });
      const revision = await kv.create('execution', lease('a'));
      expect(revision).toEqual(expect.any(Number));
      expect(await kv.create('execution', lease('b'))).toBeNull();
      expect((await kv.get('execution'))?.value.holder).toBe('a');

      const renewed = await kv.update('execution', lease('a'), revision!);
      expect(renewed).toBeGreaterThan(revision!);
      expect(await kv.update('execution', lease('b'), revision!)).toBeNull();

      expect(await kv.delete('execution', revision!)).toBe(false);
      expect(await kv.delete('execution', renewed!)).toBe(true);
      expect(await kv.get('execution')).toBeNull();
      expect(await kv.create('execution', lease('b'))).toEqual(expect.any(Number));
    });

    it('lets a key age out with the bucket TTL so another holder can create it', async () => {
      const kv = await testBus.bus.kv('leases', Lease, { ttlMs: 1_000 });
      expect(await kv.create('execution', lease('a'))).not.toBeNull();
      await eventually(async () => expect(await kv.create('execution', lease('b'))).not.toBeNull(), {
        timeoutMs: 5_000,
        intervalMs: 200,
      });
      expect((await kv.get('execution'))?.value.holder).toBe('b');
    });

    it('refuses to write a value that does not match the schema', async () => {
      const kv = await testBus.bus.kv('leases', Lease);
      await expect(kv.put('execution', { ...lease('a'), epoch: -1 })).rejects.toThrow();
    });
  });
});
