import { redactUrlCredentials } from '@ibstack/observability';
import type { z } from 'zod';

export class BusUnavailableError extends Error {
  override readonly name = 'BusUnavailableError';
  /** The URL, its password masked: errors are logged and printed. */
  readonly url: string;
  constructor(url: string, options: { cause?: unknown } = {}) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(
      `cannot reach NATS at ${redactUrlCredentials(url)} (${reason}). Start it with JetStream enabled (docker compose up -d nats, or ` +
        `apt install nats-server && nats-server -js) or set NATS_URL.`,
      options,
    );
    this.url = redactUrlCredentials(url);
  }
}

/** A publisher tried to send a message that does not match its contract; nothing was sent. */
export class InvalidMessageError extends Error {
  override readonly name = 'InvalidMessageError';
  constructor(
    readonly topic: string,
    readonly issues: readonly z.core.$ZodIssue[],
  ) {
    super(`invalid ${topic} message: ${formatIssues(issues)}`);
  }
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
