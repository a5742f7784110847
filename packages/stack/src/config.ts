import { join } from 'node:path';

import { booleanFlag, commonEnv, port, serviceUrls } from '@ibstack/config';
import { z } from 'zod';

/** Where the repository's services live, relative to this package. */
export const REPO_ROOT = join(__dirname, '..', '..', '..');

/** The runner's own environment; every default works on a fresh developer machine. */
export const stackEnv = commonEnv
  .pick({ LOG_LEVEL: true, DATABASE_URL: true, NATS_URL: true, NATS_REPLICAS: true, BUS_NAMESPACE: true })
  .extend({
    /** Gateway API port (the sim listens here; ingestor and execution connect to it). @default 4002 */
    IB_PORT: port.default(4002),
    /**
     * First of the HTTP ports: + 0 gateway-sim, 1 ingestor, 2 strategy, 3 execution, 4 dashboard-api,
     * 5 notifier, 6 gateway-supervisor. @default 9400
     */
    STACK_HTTP_PORT_BASE: port.default(9400),
    /**
     * Where the status screen finds each service, `name=http://host:port,…`, when they are not on
     * 127.0.0.1 at STACK_HTTP_PORT_BASE (in compose each service is its own host; `make status`).
     */
    STATUS_SERVICES: serviceUrls,
    /**
     * Simulated seconds per wall second. 10 makes the demo trade within a minute; 1 is real time.
     * @default 10
     */
    SIM_SPEED: z.coerce.number().positive().default(10),
    /** `always-open` (the demo works any day) or `forex` (Sunday 17:00 – Friday 17:00 New York). */
    SIM_MARKET_HOURS: z.enum(['always-open', 'forex']).default('always-open'),
    /** @default 42 */
    SIM_SEED: z.coerce.number().int().default(42),
    /** Keeps the simulated account across restarts of the stack. @default .state */
    STACK_STATE_DIR: z.string().default(join(REPO_ROOT, '.state')),
    /** Instruments to ingest and trade. @default EUR.CAD */
    INSTRUMENTS: z.string().default('EUR.CAD'),
    /** Sleeves of the strategy engine. @default services/strategy/config/demo.yaml */
    SLEEVES_FILE: z.string().default(join(REPO_ROOT, 'services', 'strategy', 'config', 'demo.yaml')),
    /** Days of 1-minute history the ingestor backfills on first start. @default 2 */
    BACKFILL_DAYS: z.coerce.number().positive().default(2),
    /** Run the gateway-sim (false: use a real gateway at IB_HOST:IB_PORT). @default true */
    STACK_SIM: booleanFlag.default(true),
    /** @default 127.0.0.1 */
    IB_HOST: z.string().default('127.0.0.1'),
    /** The Telegram bot's token file; the bot runs when it holds a token. @default secrets/telegram_bot_token */
    TELEGRAM_BOT_TOKEN_FILE: z
      .string()
      .min(1)
      .default(join(REPO_ROOT, 'secrets', 'telegram_bot_token')),
    /** Chats the Telegram bot serves, `123456789:operator,-100…:viewer`; the bot needs them to run. */
    TELEGRAM_CHATS: z.string().optional(),
  });
export type StackConfig = z.infer<typeof stackEnv>;
