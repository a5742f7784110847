import { counter, gauge, type Registry } from '@ibstack/observability';

/** Metrics every bus user exports. */
export function busMetrics(registry: Registry) {
  return {
    published: counter(registry, 'bus_published_total', 'Messages published to JetStream', ['topic']),
    publishDuplicates: counter(
      registry,
      'bus_publish_duplicates_total',
      'Publishes JetStream dropped as duplicates of an earlier Nats-Msg-Id',
      ['topic'],
    ),
    publishErrors: counter(
      registry,
      'bus_publish_errors_total',
      'Publishes that failed (invalid or not acknowledged)',
      ['topic', 'reason'],
    ),
    consumed: counter(registry, 'bus_messages_consumed_total', 'Messages handled and acknowledged', [
      'consumer',
    ]),
    handlerErrors: counter(
      registry,
      'bus_handler_errors_total',
      'Handler failures (the message is redelivered)',
      ['consumer'],
    ),
    deadLetters: counter(registry, 'bus_dead_letters_total', 'Messages sent to the dead-letter subject', [
      'consumer',
      'reason',
    ]),
    consumerPending: gauge(
      registry,
      'bus_consumer_pending_messages',
      'Messages in the stream not yet delivered to this durable consumer (JetStream num_pending)',
      ['consumer'],
    ),
    consumerAckPending: gauge(
      registry,
      'bus_consumer_ack_pending_messages',
      'Messages delivered to this durable consumer and not yet acknowledged (JetStream num_ack_pending)',
      ['consumer'],
    ),
    connected: gauge(registry, 'bus_connected', '1 while connected to NATS'),
  };
}
export type BusMetrics = ReturnType<typeof busMetrics>;
