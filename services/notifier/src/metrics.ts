import { counter, gauge, type Registry } from '@ibstack/observability';

export function notifierMetrics(registry: Registry) {
  return {
    queued: counter(
      registry,
      'notifier_notifications_queued_total',
      'Notifications put in the outbox, per kind',
      ['kind'],
    ),
    sent: counter(
      registry,
      'notifier_notifications_sent_total',
      'Notifications Telegram accepted, per kind',
      ['kind'],
    ),
    messages: counter(
      registry,
      'notifier_messages_sent_total',
      'Telegram messages the outbox sent (a batch of fills is one)',
      ['kind'],
    ),
    failed: counter(
      registry,
      'notifier_notifications_failed_total',
      'Notifications given up after retries or refused by Telegram (each is also logged)',
      ['kind', 'reason'],
    ),
    enqueueFailures: counter(
      registry,
      'notifier_enqueue_failures_total',
      'Attempts to put a notification in the outbox that failed (Postgres unavailable); each is retried',
      ['kind'],
    ),
    retries: counter(
      registry,
      'notifier_notification_retries_total',
      'Sends that failed and were scheduled again',
      ['reason'],
    ),
    pending: gauge(registry, 'notifier_outbox_pending', 'Notifications waiting in the outbox'),
    oldestPending: gauge(
      registry,
      'notifier_outbox_oldest_pending_seconds',
      'Age of the oldest notification waiting',
    ),
    rateLimited: counter(
      registry,
      'notifier_telegram_rate_limited_total',
      'Telegram answers 429 Too Many Requests',
      ['method'],
    ),
    commands: counter(registry, 'notifier_commands_total', 'Commands handled, by outcome', [
      'command',
      'outcome',
    ]),
    refused: counter(
      registry,
      'notifier_refused_updates_total',
      'Updates from chats that are not configured',
    ),
    polling: gauge(registry, 'notifier_polling_up', '1 while the bot is receiving updates from Telegram'),
  };
}
export type NotifierMetrics = ReturnType<typeof notifierMetrics>;
