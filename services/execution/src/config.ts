import { hostname } from 'node:os';

import {
  booleanFlag,
  commonEnv,
  type ConfigCheck,
  gatewayEnv,
  jsonSetting,
  milliseconds,
  port,
  tradingModeCheck,
  tradingModeEnv,
} from '@ibstack/config';
import { type Instrument, isValidTimeZone, parseInstrumentSpec } from '@ibstack/contracts';
import { checkPortMatchesMode } from '@ibstack/ib';
import { ConfigDecimal, DEFAULT_FX_RATES_TO_USD, RiskLimits } from '@ibstack/risk';
import { z } from 'zod';

const instrumentList = z
  .string()
  .default('EUR.CAD')
  .transform((value, ctx) => {
    const instruments: Instrument[] = [];
    for (const spec of value
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)) {
      try {
        instruments.push(parseInstrumentSpec(spec));
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    }
    return instruments;
  });

const riskLimits = jsonSetting(RiskLimits, '{"maxOrderNotionalUsd": 50000}').transform(
  (limits) => limits ?? RiskLimits.parse({}),
);

const fxRates = jsonSetting(
  z.record(z.string().regex(/^[A-Z]{3}$/, 'currency codes like CAD'), ConfigDecimal),
  '{"CAD": "0.72"}',
).transform((rates) =>
  rates ? Object.freeze({ ...DEFAULT_FX_RATES_TO_USD, ...rates, USD: '1' }) : DEFAULT_FX_RATES_TO_USD,
);

/** Execution's environment. Every default works on a developer machine against the simulated gateway. */
/**
 * A decimal for every key, or per key with an optional default: `EURCAD=1000,*=0`. `key` normalises an
 * entry's key, or returns undefined when the key is not allowed. Every bad entry is named.
 */
function keyedDecimals(options: {
  fallback: string;
  entry: string;
  example: string;
  key: (key: string) => string | undefined;
}) {
  const decimal = /^\d+(\.\d+)?$/;
  return z
    .string()
    .default(options.fallback)
    .transform((value, ctx) => {
      const parsed = { fallback: options.fallback, byKey: {} as Record<string, string> };
      if (decimal.test(value.trim())) return { ...parsed, fallback: value.trim() };
      for (const part of value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)) {
        const [rawKey, amount] = part.split('=').map((item) => item.trim());
        const key = rawKey === '*' ? '*' : rawKey ? options.key(rawKey) : undefined;
        if (!key || !amount || !decimal.test(amount)) {
          ctx.addIssue({
            code: 'custom',
            message: `"${part}" must be ${options.entry} (or *=<decimal> for the rest), e.g. ${options.example}`,
          });
          return z.NEVER;
        }
        if (key === '*') parsed.fallback = amount;
        else parsed.byKey[key] = amount;
      }
      return parsed;
    });
}

export const executionEnv = commonEnv
  .extend(gatewayEnv.shape)
  .extend(tradingModeEnv.shape)
  .extend({
    /** @default 9403 */
    HTTP_PORT: port.default(9403),
    /** The one client id every execution instance uses: the gateway lets only one connect with it. @default 10 */
    IB_CLIENT_ID: z.coerce.number({ error: 'must be an integer' }).int().min(0).default(10),
    /** The gateway's local time zone, for execution times IB sends without one (IBGA: IB_TIMEZONE). @default UTC */
    GATEWAY_TIME_ZONE: z
      .string()
      .default('UTC')
      .refine((zone) => isValidTimeZone(zone), 'must be an IANA time zone like America/New_York'),
    /** Instruments to resolve at start, `EUR.CAD,USD.JPY,AAPL`. @default EUR.CAD */
    INSTRUMENTS: instrumentList,
    /**
     * Identity in the lease. It stays the same across restarts on purpose: a restarted instance that finds
     * the lease held under its own identity, while no other live process carries it (a Postgres advisory
     * lock on the identity), takes the lease over at once instead of waiting out the TTL. Two instances
     * on one host get distinct ones. @default <hostname>
     */
    INSTANCE_ID: z.string().min(1).default(hostname()),
    /** Lease TTL: a dead holder is replaced after this long. @default 10000 */
    LEASE_TTL_MS: milliseconds(10_000, 500),
    /** Periodic reconciliation. @default 300000 (5 minutes) */
    RECONCILE_INTERVAL_MS: milliseconds(300_000, 1_000),
    /**
     * With no clean reconciliation for this long while trading (runs failing, a broker read timing out),
     * trading halts. Must exceed RECONCILE_INTERVAL_MS. @default 900000 (15 minutes: three default intervals)
     */
    RECONCILE_MAX_CLEAN_AGE_MS: milliseconds(900_000, 1_000),
    /** How long one broker read of a reconciliation may take before the run counts as failed. @default 10000 */
    RECONCILE_READ_TIMEOUT_MS: milliseconds(10_000, 100),
    /**
     * Comparisons one run makes at most while fills keep arriving for an instrument; a mismatch on an
     * instrument that never stood still is left to the next run instead of halting. @default 5
     */
    RECONCILE_SETTLE_ATTEMPTS: z.coerce
      .number({ error: 'must be an integer' })
      .int()
      .min(2)
      .max(100)
      .default(5),
    /**
     * Position difference (units) still treated as equal: one decimal for every instrument, or per
     * instrument key with an optional default, `EURCAD=1000,AAPL=0,*=0`. @default 0
     */
    POSITION_TOLERANCE: keyedDecimals({
      fallback: '0',
      entry: '<instrument key>=<non-negative decimal>',
      example: 'EURCAD=1000',
      key: (key) => key.replace(/[.\s]/g, '').toUpperCase(),
    }).transform(({ fallback, byKey }) => ({ default: fallback, byInstrument: byKey })),
    /**
     * Cash difference per currency (absolute, in that currency) still treated as equal when the broker's
     * cash is compared with the baseline plus our executions since: one decimal for every currency, or per
     * currency with an optional default, `USD=5,JPY=500,*=1`. @default 1
     */
    RECONCILE_CASH_TOLERANCE: keyedDecimals({
      fallback: '1',
      entry: '<currency>=<non-negative decimal>',
      example: 'USD=5',
      key: (key) => (/^[A-Z]{3}$/.test(key) ? key : undefined),
    }).transform(({ fallback, byKey }) => ({ default: fallback, byCurrency: byKey })),
    /**
     * Relative difference of a position's average cost (ours against the broker's) still treated as
     * equal: 0.01 = 1 % (IB folds stock commissions into its average cost; we do not). @default 0.01
     */
    RECONCILE_AVERAGE_COST_TOLERANCE: z
      .string()
      .regex(/^\d+(\.\d+)?$/, 'must be a non-negative decimal fraction, e.g. 0.01 for 1 %')
      .default('0.01'),
    /**
     * Whether a halt for a reconciliation mismatch also cancels our working orders (a halt alone only
     * stops new intents; resting limit and stop orders would keep filling). Audited with the halt.
     * @default true
     */
    RECONCILIATION_HALT_CANCELS_ORDERS: booleanFlag.default(true),
    /** More API errors than this within the window halt trading. @default 10 */
    ERROR_CIRCUIT_MAX_ERRORS: z.coerce.number().int().min(1).default(10),
    /** @default 300000 (5 minutes) */
    ERROR_CIRCUIT_WINDOW_MS: milliseconds(300_000, 1_000),
    /** What to do with an order recorded but never seen by the broker: send it (same id) or fail it. */
    RECOVERY_POLICY: z.enum(['resend', 'fail']).default('resend'),
    /** Intents older than this are refused as stale. @default 300000 */
    INTENT_MAX_AGE_MS: milliseconds(300_000, 1_000),
    /**
     * How long JetStream waits for an intent's ack before redelivering it. Intents are handled one at a
     * time, so after a crash the next instance waits this long for the intent that was in flight.
     * @default 5000
     */
    INTENT_ACK_WAIT_MS: milliseconds(5_000, 500),
    /** @default 10000 */
    ACCOUNT_SNAPSHOT_INTERVAL_MS: milliseconds(10_000, 100),
    /**
     * How old the broker's account values (the time it last sent them, not when we stored them) may be for
     * an order that adds exposure: without a value this fresh the daily-loss and drawdown rules cannot
     * judge, and such orders are refused (`account_unknown`); orders that shrink a position still go. IB
     * refreshes account values every 3 minutes; must exceed ACCOUNT_SNAPSHOT_INTERVAL_MS. @default 300000
     */
    ACCOUNT_MAX_AGE_MS: milliseconds(300_000, 1_000),
    /**
     * How old execution's last market price (a tick on `md.tick.<sym>`, by its receipt time) may be and
     * still size an order; without one as fresh, orders are refused. @default 60000
     */
    PRICE_MAX_AGE_MS: milliseconds(60_000, 1_000),
    /**
     * USD value of one unit of each currency as JSON (`{"CAD": "0.72"}`), for the notional and position
     * limits; fresh prices of USD pairs (EUR.USD, USD.CAD …) override them. @default packages/risk's table
     */
    FX_RATES_TO_USD_JSON: fxRates,
    /** Account-level risk limits as JSON (packages/risk `RiskLimits`); defaults when unset. */
    RISK_LIMITS_JSON: riskLimits,
    /** Test only: `<crash point>:<n>` kills the process the n-th time the point is reached. */
    IBSTACK_CRASH_AT: z.string().optional(),
  });
export type ExecutionConfig = z.infer<typeof executionEnv>;

/** Checks across variables, run by `loadConfig` after the schema: the live guard and a port that fits the mode. */
export const executionChecks: readonly ConfigCheck[] = [
  tradingModeCheck,
  (env) => {
    const interval = Number(env.RECONCILE_INTERVAL_MS ?? 300_000);
    const maxAge = Number(env.RECONCILE_MAX_CLEAN_AGE_MS ?? 900_000);
    return maxAge > interval
      ? []
      : [
          `RECONCILE_MAX_CLEAN_AGE_MS (${maxAge}) must be longer than RECONCILE_INTERVAL_MS (${interval}), or every missed run would halt`,
        ];
  },
  (env) => {
    const interval = Number(env.ACCOUNT_SNAPSHOT_INTERVAL_MS ?? 10_000);
    const maxAge = Number(env.ACCOUNT_MAX_AGE_MS ?? 300_000);
    return maxAge > interval
      ? []
      : [
          `ACCOUNT_MAX_AGE_MS (${maxAge}) must be longer than ACCOUNT_SNAPSHOT_INTERVAL_MS (${interval}), or every snapshot would be too old`,
        ];
  },
  (env) => {
    const live = (env.TRADING_MODE ?? 'paper').toLowerCase() === 'live';
    return checkPortMatchesMode(live ? 'live' : 'paper', Number(env.IB_PORT ?? 4002));
  },
];
