import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  DeliverPolicy,
  type JsMsg,
} from '@nats-io/jetstream';
import { backoffDelayMs, nowIso, type Topic, topics } from '@ibstack/contracts';
import type { z } from 'zod';

import type { Bus } from './bus';
import { formatIssues } from './errors';

export interface MessageContext {
  /** Subject without the namespace prefix. */
  subject: string;
  streamSequence: number;
  /** 1 on first delivery. */
  deliveryCount: number;
  redelivered: boolean;
  /** Tells JetStream the handler is still working, extending the ack deadline. */
  working(): void;
}

export interface ConsumerOptions<T> {
  /** Durable name; a restarted service resumes where the last instance acknowledged. */
  durable: string;
  /** Handles one valid message. Resolving acknowledges it; throwing redelivers it later. */
  handler: (message: T, context: MessageContext) => Promise<void>;
  /** Subject filter without namespace. @default the topic's filter */
  filterSubject?: string;
  /** Deliveries before a failing message goes to the dead-letter subject. @default 5 */
  maxDeliver?: number;
  /** Time JetStream waits for an ack before redelivering. @default 30000 */
  ackWaitMs?: number;
  /** Unacknowledged messages in flight; 1 makes processing strictly serial across instances. @default 256 */
  maxAckPending?: number;
  /** Where a new durable starts. @default 'all' */
  deliverFrom?: { policy: 'all' } | { policy: 'new' } | { policy: 'start_time'; startTime: Date };
  /** First redelivery delay after a handler error, doubled each time, capped at 30 s. @default 500 */
  retryDelayMs?: number;
  /** How often the consumer's lag metrics are read from JetStream. @default 5000 */
  lagRefreshMs?: number;
  /** Called after JetStream confirmed the ack (for metrics and fault-injection seams). */
  afterAck?: (message: T, context: MessageContext) => void;
  /**
   * How long one pull request stays open at the consumer's leader before the client renews it. A pull
   * outlives the client that sent it: see DEFAULT_PULL_EXPIRES_MS. @default DEFAULT_PULL_EXPIRES_MS
   */
  pullExpiresMs?: number;
}

/**
 * A pull request waits at the consumer's leader until it is served or expires; NATS drops it sooner only
 * once it sees no interest in its reply subject. In the failover cluster (NATS 2.9) the surviving nodes
 * kept their route to a cut or partitioned node, and with it the interest of that node's clients, for
 * ~25 s: the taker's first intent or bar went to the former holder's pull, and with one message in flight
 * (`maxAckPending: 1`) everything behind it waited out the ack wait — 5 s for intents, 15 s for bars (drill
 * logs and `/jsz`, 2026-12-04). A pull that expires well within the lease TTL is gone before another host
 * can take the lease. The cost: an idle consumer renews its pull once a period, and checks the server's
 * heartbeats every half period.
 */
export const DEFAULT_PULL_EXPIRES_MS = 5_000;

export interface ConsumerHandle {
  readonly durable: string;
  stop(): Promise<void>;
  /** Resolves when the consumer loop has ended. */
  readonly closed: Promise<void>;
}

const decoder = new TextDecoder();

function deliverPolicy<T>(options: ConsumerOptions<T>): Partial<ConsumerConfig> {
  const from = options.deliverFrom ?? { policy: 'all' };
  if (from.policy === 'new') return { deliver_policy: DeliverPolicy.New };
  if (from.policy === 'start_time')
    return { deliver_policy: DeliverPolicy.StartTime, opt_start_time: from.startTime.toISOString() };
  return { deliver_policy: DeliverPolicy.All };
}

/**
 * Runs a durable pull consumer. Invalid messages (not JSON, or not matching the topic's contract) and
 * messages whose handler failed `maxDeliver` times go to `sys.deadletter.<stream>.<durable>` with the
 * reason, are counted, and are terminated; nothing crashes the loop. JetStream's own max_deliver is left
 * unlimited: if the dead-letter publish itself fails, the message is redelivered instead of dropped.
 */
export async function startConsumer<S extends z.ZodType>(
  bus: Bus,
  topic: Topic<S>,
  options: ConsumerOptions<z.infer<S>>,
): Promise<ConsumerHandle> {
  const stream = bus.namespace.stream(topic.stream);
  const durable = bus.namespace.consumer(options.durable);
  const maxDeliver = options.maxDeliver ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 500;
  const log = bus.logger.child({ consumer: durable, stream });
  const config: Partial<ConsumerConfig> = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    filter_subject: bus.namespace.subject(options.filterSubject ?? topic.filter),
    ack_wait: (options.ackWaitMs ?? 30_000) * 1_000_000,
    max_deliver: -1,
    max_ack_pending: options.maxAckPending ?? 256,
    ...deliverPolicy(options),
  };
  try {
    await bus.jsm.consumers.add(stream, config);
  } catch (error) {
    // The durable exists with another configuration (a changed ack wait, say): update what can change.
    await bus.jsm.consumers
      .update(stream, durable, {
        ack_wait: config.ack_wait,
        max_ack_pending: config.max_ack_pending,
        max_deliver: config.max_deliver,
      })
      .catch((updateError: unknown) => {
        log.warn(
          { err: updateError, cause: error },
          'could not update the existing consumer; using it as it is',
        );
      });
  }

  let stopped = false;
  let current: ConsumerMessages | undefined;
  // Handler failures per stream sequence, in this process. JetStream's delivery count also rises when a
  // buffered message waits past the ack wait behind a slow one, which is no failure of its own; so it
  // counts only with a wide margin (a handler that takes the process down with it never returns here).
  const failures = new Map<number, number>();
  const deliveryCeiling = maxDeliver * 4;

  const deadLetter = async (
    message: JsMsg,
    reason: string,
    kind: 'invalid' | 'max_deliveries',
  ): Promise<void> => {
    try {
      await bus.publish(topics.deadLetter, {
        v: 1,
        reason,
        stream: topic.stream,
        consumer: durable,
        originalSubject: bus.namespace.baseSubject(message.subject),
        streamSequence: message.seq,
        deliveryCount: message.info.deliveryCount,
        payloadBase64: Buffer.from(message.data).toString('base64'),
        ts: nowIso(),
      });
    } catch (error) {
      log.error(
        { err: error, seq: message.seq },
        'dead-letter publish failed; the message will be redelivered',
      );
      message.nak(5_000);
      return;
    }
    bus.metrics.deadLetters.inc({ consumer: durable, reason: kind });
    log.warn(
      { seq: message.seq, subject: message.subject, reason },
      'message sent to the dead-letter subject',
    );
    // No reason argument: NATS 2.9 ignores a TERM that carries one, and the message would come back.
    message.term();
  };

  const handle = async (message: JsMsg): Promise<void> => {
    let payload: unknown;
    try {
      payload = JSON.parse(decoder.decode(message.data));
    } catch (error) {
      return deadLetter(message, `invalid JSON: ${(error as Error).message}`, 'invalid');
    }
    const parsed = topic.schema.safeParse(payload);
    if (!parsed.success)
      return deadLetter(message, `invalid ${topic.name}: ${formatIssues(parsed.error.issues)}`, 'invalid');
    const deliveryCount = message.info.deliveryCount;
    const context: MessageContext = {
      subject: bus.namespace.baseSubject(message.subject),
      streamSequence: message.seq,
      deliveryCount,
      redelivered: message.redelivered,
      working: () => message.working(),
    };
    try {
      await options.handler(parsed.data, context);
      failures.delete(message.seq);
    } catch (error) {
      bus.metrics.handlerErrors.inc({ consumer: durable });
      const failed = (failures.get(message.seq) ?? 0) + 1;
      failures.set(message.seq, failed);
      if (failed >= maxDeliver || deliveryCount >= deliveryCeiling) {
        failures.delete(message.seq);
        return deadLetter(
          message,
          `handler failed ${failed} times (delivery ${deliveryCount}; limit ${maxDeliver}): ${(error as Error)?.message ?? String(error)}`,
          'max_deliveries',
        );
      }
      const delay = backoffDelayMs(failed, { firstMs: retryDelayMs, maxMs: 30_000 });
      log.warn(
        { err: error, seq: message.seq, deliveryCount },
        `handler failed; redelivering in ${delay} ms`,
      );
      message.nak(delay);
      return;
    }
    try {
      await message.ackAck();
      bus.metrics.consumed.inc({ consumer: durable });
      options.afterAck?.(parsed.data, context);
    } catch (error) {
      // The work is done but the ack was lost: the message comes back, and handlers are idempotent.
      log.warn({ err: error, seq: message.seq }, 'ack not confirmed; the message may be redelivered');
    }
  };

  const loop = async (): Promise<void> => {
    // A closed connection never comes back (reconnects happen below it), so the loop ends with it.
    while (!stopped && !bus.nc.isClosed()) {
      try {
        const consumer = await bus.js.consumers.get(stream, durable);
        // Handled one at a time: a deep buffer only lets messages wait out their ack wait in it.
        current = await consumer.consume({
          max_messages: Math.min(options.maxAckPending ?? 64, 64),
          expires: options.pullExpiresMs ?? DEFAULT_PULL_EXPIRES_MS,
        });
        // stop() may have run while we were setting up, before there was anything for it to close.
        if (stopped) {
          current.stop();
          break;
        }
        for await (const message of current) {
          await handle(message);
          if (stopped) break;
        }
      } catch (error) {
        if (stopped || bus.nc.isClosed()) break;
        log.error({ err: error }, 'consumer failed; restarting in 1 s');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  };
  const closed = loop();

  // Lag as JetStream counts it, for the consumer-lag alert: messages not yet delivered, and delivered but
  // not yet acknowledged. Read on a timer rather than at scrape time, so a slow server never stalls /metrics.
  const lagLabels = { consumer: durable };
  const refreshLag = async (): Promise<void> => {
    try {
      const info = await bus.jsm.consumers.info(stream, durable);
      if (stopped) return;
      bus.metrics.consumerPending.set(lagLabels, info.num_pending);
      bus.metrics.consumerAckPending.set(lagLabels, info.num_ack_pending);
    } catch {
      // Disconnected or the consumer is being recreated: keep the last values; the next read updates them.
    }
  };
  void refreshLag();
  const lagTimer = setInterval(() => void refreshLag(), options.lagRefreshMs ?? 5_000);
  lagTimer.unref();

  return {
    durable,
    closed,
    stop: async () => {
      stopped = true;
      clearInterval(lagTimer);
      bus.metrics.consumerPending.remove(lagLabels);
      bus.metrics.consumerAckPending.remove(lagLabels);
      // stop(), not close(): close() resolves only once someone has iterated to the end, which a loop busy
      // elsewhere may never do. The loop's own promise says when it is over.
      current?.stop();
      await closed;
    },
  };
}
