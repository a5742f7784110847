/**
 * The service's configuration: environment variables (validated once with zod), which CLI flags override.
 * Defaults live here, at the boundary.
 */
import { booleanFlag, commonEnv, port } from '@ibstack/config';
import { DateTime } from 'luxon';
import { z } from 'zod';

import type { GatewaySimOptions } from './gateway-sim';

export const gatewaySimEnv = commonEnv.pick({ LOG_LEVEL: true }).extend({
  /** Port of /healthz, /readyz, /metrics, /status and /admin/…. @default 9400 */
  HTTP_PORT: port.default(9400),
  /** Interface of both ports; 0.0.0.0 in a container. @default 127.0.0.1 */
  GATEWAY_SIM_HOST: z.string().min(1).default('127.0.0.1'),
  /** TWS API port (4002 is IB Gateway's paper port). @default 4002 */
  GATEWAY_SIM_PORT: port.default(4002),
  /** @default 176 */
  GATEWAY_SIM_SERVER_VERSION: z.enum(['176', '193'], { error: 'must be 176 or 193' }).default('176'),
  /** @default 42 */
  GATEWAY_SIM_SEED: z.coerce.number({ error: 'must be an integer' }).int().default(42),
  /** Simulated seconds per wall second. @default 1 */
  GATEWAY_SIM_SPEED: z.coerce.number({ error: 'must be a number' }).positive().max(1_000_000).default(1),
  /** Simulated clock start (ISO 8601 or epoch ms); empty = now. */
  GATEWAY_SIM_START_TIME: z
    .string()
    .refine(
      (value) => Number.isFinite(/^\d+$/.test(value) ? Number(value) : Date.parse(value)),
      'must be ISO 8601 or epoch ms',
    )
    .optional(),
  /** @default forex */
  GATEWAY_SIM_MARKET_HOURS: z.enum(['forex', 'always-open']).default('forex'),
  /** A paper account id (DU… or DF…). @default DU1234567 */
  GATEWAY_SIM_ACCOUNT: z
    .string()
    .regex(/^D[UF]\d+$/, 'must be a paper account id like DU1234567')
    .default('DU1234567'),
  /** @default 1000000 */
  GATEWAY_SIM_INITIAL_CASH: z.coerce.number({ error: 'must be a number' }).positive().default(1_000_000),
  /** Keeps orders, executions, the account and order ids across restarts. */
  GATEWAY_SIM_STATE_FILE: z.string().min(1).optional(),
  /** @default strict */
  GATEWAY_SIM_TRANSMIT: z.enum(['strict', 'lenient']).default('strict'),
  /** IB's historical-data pacing rules. @default true */
  GATEWAY_SIM_PACING: booleanFlag.default(true),
  /** Replay prices from this CSV file instead of the random walk. */
  GATEWAY_SIM_CSV: z.string().min(1).optional(),
  /** Wall ms between market-data and matching ticks. @default 100 */
  GATEWAY_SIM_TICK_INTERVAL_MS: z.coerce
    .number({ error: 'must be a number' })
    .int()
    .min(1)
    .max(60_000)
    .default(100),
  /** Quote updates per subscription per tick; 1 sends only the latest second (conflation). @default 1 */
  GATEWAY_SIM_QUOTE_UPDATES_PER_TICK: z.coerce
    .number({ error: 'must be a number' })
    .int()
    .min(1)
    .max(100_000)
    .default(1),
  /** The gateway's local time zone (IBGA: IB_TIMEZONE); its midnight is IB's execution cut-off. @default UTC */
  GATEWAY_SIM_TIME_ZONE: z
    .string()
    .min(1)
    .refine((zone) => DateTime.now().setZone(zone).isValid, 'must be an IANA time zone like America/New_York')
    .default('UTC'),
  /**
   * `since-midnight`: reqExecutions reports only the executions since the gateway's last local midnight,
   * as IB Gateway does; `unlimited`: the last 7 days (a TWS with a 7-day trade log). @default since-midnight
   */
  GATEWAY_SIM_EXECUTION_WINDOW: z.enum(['since-midnight', 'unlimited']).default('since-midnight'),
  /** Login faults also append IBGA's log lines here (for the gateway supervisor's log watching). */
  GATEWAY_SIM_IBGA_LOG_FILE: z.string().min(1).optional(),
});
export type GatewaySimConfig = z.infer<typeof gatewaySimEnv>;

export function toGatewaySimOptions(config: GatewaySimConfig): GatewaySimOptions {
  const start = config.GATEWAY_SIM_START_TIME;
  return {
    host: config.GATEWAY_SIM_HOST,
    port: config.GATEWAY_SIM_PORT,
    httpPort: config.HTTP_PORT,
    serverVersion: Number(config.GATEWAY_SIM_SERVER_VERSION) as 176 | 193,
    seed: config.GATEWAY_SIM_SEED,
    speed: config.GATEWAY_SIM_SPEED,
    startTime: start === undefined ? undefined : /^\d+$/.test(start) ? Number(start) : start,
    marketHours: config.GATEWAY_SIM_MARKET_HOURS,
    account: config.GATEWAY_SIM_ACCOUNT,
    initialCash: config.GATEWAY_SIM_INITIAL_CASH,
    stateFile: config.GATEWAY_SIM_STATE_FILE,
    transmitMode: config.GATEWAY_SIM_TRANSMIT,
    pacing: config.GATEWAY_SIM_PACING,
    csvFile: config.GATEWAY_SIM_CSV,
    tickIntervalMs: config.GATEWAY_SIM_TICK_INTERVAL_MS,
    maxQuoteUpdatesPerInterval: config.GATEWAY_SIM_QUOTE_UPDATES_PER_TICK,
    ibgaLogFile: config.GATEWAY_SIM_IBGA_LOG_FILE,
    timeZone: config.GATEWAY_SIM_TIME_ZONE,
    executionWindow: config.GATEWAY_SIM_EXECUTION_WINDOW,
  };
}
