import { DEFAULT_DATABASE_URL, DEFAULT_NATS_URL } from '@ibstack/config';

/** The shared services tests run against; the same variables and defaults as the services. */
export function testEnvironment(): { databaseUrl: string; natsUrl: string } {
  return {
    databaseUrl: process.env.DATABASE_URL || DEFAULT_DATABASE_URL,
    natsUrl: process.env.NATS_URL || DEFAULT_NATS_URL,
  };
}

/** A short random suffix for isolated names (databases, namespaces). */
export function uniqueSuffix(): string {
  return `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
