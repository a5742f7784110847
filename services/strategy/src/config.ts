import { join } from 'node:path';

import { commonEnv, milliseconds, port } from '@ibstack/config';
import { z } from 'zod';

/** The demo sleeves that ship with the service. */
export const DEFAULT_SLEEVES_FILE = join(__dirname, '..', 'config', 'demo.yaml');

/** The strategy service's environment. */
export const strategyEnv = commonEnv.extend({
  /** @default 9402 */
  HTTP_PORT: port.default(9402),
  /** YAML or JSON file naming the sleeves. @default services/strategy/config/demo.yaml */
  SLEEVES_FILE: z.string().min(1).default(DEFAULT_SLEEVES_FILE),
  /** JetStream's wait for a bar's ack before it redelivers (also how soon a crashed bar comes back). @default 15000 */
  BAR_ACK_WAIT_MS: milliseconds(15_000, 500),
  /** Bars processed later than this after their close send no order. @default 120000 */
  MAX_BAR_DELAY_MS: milliseconds(120_000, 0),
  /** Period of the outbox sweep. @default 5000 */
  OUTBOX_INTERVAL_MS: milliseconds(5_000, 100),
  /** Unpublished intents older than this are expired, not sent. @default 120000 */
  INTENT_MAX_AGE_MS: milliseconds(120_000, 1_000),
  /** Intents execution never acknowledged stop counting as in flight after this. @default 900000 */
  PENDING_INTENT_TTL_MS: milliseconds(900_000, 1_000),
});
export type StrategyEnv = z.infer<typeof strategyEnv>;
