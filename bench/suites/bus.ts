import { Bus } from '@ibstack/bus';
import { type Bar, topics } from '@ibstack/contracts';
import { createRegistry } from '@ibstack/observability';
import { connect } from '@nats-io/transport-node';
import { makeBar, silentLogger, testEnvironment, uniqueSuffix } from '@ibstack/test-kit';

import type { Figure, Suite } from '../lib/report';
import { nowMs, percentile } from '../lib/stats';

function barNumber(index: number): Bar {
  // Distinct bar times so every message has its own Nats-Msg-Id.
  return makeBar({ ts: new Date(Date.UTC(2026, 0, 1) + index * 60_000).toISOString() });
}

/**
 * A message through packages/bus (validate, JetStream publish with msg id, durable pull consume, ack)
 * against a raw core-NATS publish/subscribe of the same payload.
 */
export const busSuite: Suite = {
  name: 'bus',
  description: 'packages/bus publish → durable consume → ack vs raw core NATS pub/sub',
  async run({ scale, log }) {
    const count = Math.max(200, Math.round(5_000 * scale));
    const latencySamples = Math.max(100, Math.round(1_000 * scale));
    const url = testEnvironment().natsUrl;
    const namespace = `bench${uniqueSuffix()}`;
    const bus = await Bus.connect({
      url,
      name: 'bench-bus',
      namespace,
      logger: silentLogger(),
      registry: createRegistry('bench', { defaultMetrics: false }),
    });
    const raw = await connect({ servers: url });
    try {
      await bus.ensureStreams();

      // Throughput: publish with a window of in-flight acks, consume on the durable.
      log(`bus throughput over ${count} messages`);
      let received = 0;
      let done: () => void = () => undefined;
      const allReceived = new Promise<void>((resolve) => (done = resolve));
      let index = 0;
      const consumer = await bus.consume(topics.bar, {
        durable: 'bench-throughput',
        handler: () => {
          received += 1;
          if (received === count) done();
          return Promise.resolve();
        },
      });
      const start = nowMs();
      const window = 64;
      const inFlight = new Set<Promise<unknown>>();
      for (; index < count; index++) {
        const publish = bus.publish(topics.bar, barNumber(index));
        inFlight.add(publish);
        void publish.finally(() => inFlight.delete(publish));
        if (inFlight.size >= window) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      await allReceived;
      const busThroughput = count / ((nowMs() - start) / 1000);
      await consumer.stop();

      // Latency: one message at a time, publish → handler.
      log(`bus latency over ${latencySamples} messages`);
      const busLatencies: number[] = [];
      let resolveOne: () => void = () => undefined;
      const latencyConsumer = await bus.consume(topics.bar, {
        durable: 'bench-latency',
        deliverFrom: { policy: 'new' },
        handler: () => {
          resolveOne();
          return Promise.resolve();
        },
      });
      for (let i = 0; i < latencySamples; i++) {
        const arrived = new Promise<void>((resolve) => (resolveOne = resolve));
        const sent = nowMs();
        await bus.publish(topics.bar, barNumber(count + i));
        await arrived;
        busLatencies.push(nowMs() - sent);
      }
      await latencyConsumer.stop();

      // Baseline: the same payload over core NATS, no validation, no persistence, no ack.
      log('raw core NATS baseline');
      const payload = JSON.stringify(barNumber(0));
      const subject = `${namespace}.raw`;
      let rawReceived = 0;
      let rawDone: () => void = () => undefined;
      const rawAll = new Promise<void>((resolve) => (rawDone = resolve));
      const sub = raw.subscribe(subject, {
        callback: () => {
          rawReceived += 1;
          if (rawReceived === count) rawDone();
        },
      });
      await raw.flush();
      const rawStart = nowMs();
      for (let i = 0; i < count; i++) raw.publish(subject, payload);
      await rawAll;
      const rawThroughput = count / ((nowMs() - rawStart) / 1000);
      sub.unsubscribe();

      const rawLatencies: number[] = [];
      let rawResolve: () => void = () => undefined;
      const pingSub = raw.subscribe(`${subject}.ping`, { callback: () => rawResolve() });
      await raw.flush();
      for (let i = 0; i < latencySamples; i++) {
        const arrived = new Promise<void>((resolve) => (rawResolve = resolve));
        const sent = nowMs();
        raw.publish(`${subject}.ping`, payload);
        await arrived;
        rawLatencies.push(nowMs() - sent);
      }
      pingSub.unsubscribe();

      const figures: Figure[] = [
        {
          name: 'bus.throughput',
          value: busThroughput,
          unit: 'msg/s',
          baselineName: 'core NATS pub/sub',
          baseline: rawThroughput,
          better: 'higher',
        },
        {
          name: 'bus.latency.p50',
          value: percentile(busLatencies, 50),
          unit: 'ms',
          baselineName: 'core NATS pub/sub',
          baseline: percentile(rawLatencies, 50),
          better: 'lower',
        },
        {
          name: 'bus.latency.p99',
          value: percentile(busLatencies, 99),
          unit: 'ms',
          baselineName: 'core NATS pub/sub',
          baseline: percentile(rawLatencies, 99),
          better: 'lower',
        },
      ];
      return figures;
    } finally {
      await bus.destroyNamespace().catch(() => undefined);
      await bus.close();
      await raw.close();
    }
  },
};
