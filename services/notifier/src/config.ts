import { commonEnv, milliseconds, port, serviceUrls } from '@ibstack/config';
import { isValidTimeZone } from '@ibstack/contracts';
import { Cron } from 'croner';
import { z } from 'zod';

import { parseChats } from './domain/chats';
import { DEFAULT_LEVELS, parseLevels } from './domain/notifications';

/** A cron pattern (5 or 6 fields), or `off` (null). */
const schedule = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value, ctx) => cronOrOff(value, ctx));

function cronOrOff(value: string, ctx: z.RefinementCtx): string | null {
  const pattern = value.trim();
  if (pattern === 'off' || pattern === '') return null;
  try {
    new Cron(pattern, { paused: true }).stop();
    return pattern;
  } catch (error) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a cron pattern like "30 17 * * 1-5" or off (${(error as Error).message})`,
    });
    return z.NEVER;
  }
}

/** The notifier's environment. The token comes from a file (`TELEGRAM_BOT_TOKEN_FILE`, a docker secret). */
export const notifierEnv = commonEnv.extend({
  /** @default 9405 */
  HTTP_PORT: port.default(9405),
  /** The bot's token from BotFather. Give it as TELEGRAM_BOT_TOKEN_FILE: it must not sit in the environment. */
  TELEGRAM_BOT_TOKEN: z
    .string({
      error: 'is required: set TELEGRAM_BOT_TOKEN_FILE to the file holding the token BotFather gave',
    })
    .regex(
      /^\d{5,}:[A-Za-z0-9_-]{30,}$/,
      'is not a bot token (it looks like 123456789:AAE…, as BotFather gives it)',
    ),
  /** Bot API server; tests point it at a fake. @default https://api.telegram.org */
  TELEGRAM_API_ROOT: z
    .string()
    .url('must be a URL like https://api.telegram.org')
    .default('https://api.telegram.org')
    .transform((value) => value.replace(/\/+$/, '')),
  /** The chats served and their roles: `123456789:operator,-1001234567890:viewer`. */
  TELEGRAM_CHATS: z
    .string({ error: 'is required: the chat ids the bot serves, e.g. 123456789:operator' })
    .transform((value, ctx) => {
      const parsed = parseChats(value);
      if (parsed.ok) return parsed.chats;
      for (const problem of parsed.problems) ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }),
  /** Default notification levels of every chat, over the built-in ones: `fills=silent,daily_summary=off`. */
  TELEGRAM_NOTIFY: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const parsed = parseLevels(value, DEFAULT_LEVELS);
      if (parsed.ok) return parsed.levels;
      for (const problem of parsed.problems) ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }),
  /** Time zone of the times the bot shows and of the schedules below. @default America/New_York */
  NOTIFIER_TIME_ZONE: z
    .string()
    .default('America/New_York')
    .refine((zone) => isValidTimeZone(zone), 'must be an IANA time zone like America/New_York'),
  /** When the daily summary goes out (cron, in NOTIFIER_TIME_ZONE), or off. @default 30 17 * * 1-5 */
  DAILY_SUMMARY_CRON: schedule('30 17 * * 1-5'),
  /**
   * When to remind of IBKR's weekly re-authentication (cron, in NOTIFIER_TIME_ZONE), or off. Unset: on
   * Sunday two hours before WEEKLY_REAUTH_DEADLINE_HOUR, New York time (15:00 with the default deadline).
   */
  REAUTH_REMINDER_CRON: z
    .string()
    .optional()
    .transform((value, ctx) => (value === undefined ? undefined : cronOrOff(value, ctx))),
  /**
   * Sunday hour (New York) by which the gateway must be logged in again after IBKR's weekly reset: the
   * gateway supervisor's setting of the same name, which compose gives both. @default 17 (the forex open)
   */
  WEEKLY_REAUTH_DEADLINE_HOUR: z.coerce
    .number({ error: 'must be an hour from 2 to 23' })
    .int('must be an hour from 2 to 23')
    .min(2, 'must be an hour from 2 to 23')
    .max(23, 'must be an hour from 2 to 23')
    .default(17),
  /** Least time between two messages to one chat (Telegram allows about one a second). @default 1000 */
  TELEGRAM_CHAT_INTERVAL_MS: milliseconds(1_000, 0),
  /** Least time between two messages to one group (Telegram allows about 20 a minute). @default 3000 */
  TELEGRAM_GROUP_INTERVAL_MS: milliseconds(3_000, 0),
  /** Least time between any two messages of the bot (Telegram allows about 30 a second). @default 40 */
  TELEGRAM_GLOBAL_INTERVAL_MS: milliseconds(40, 0),
  /** First delay before a failed notification is sent again; doubled each time up to 5 minutes. @default 2000 */
  NOTIFIER_RETRY_BASE_MS: milliseconds(2_000, 10),
  /** A notification still undelivered this long after its event is given up (counted and logged). @default 21600000 (6 h) */
  NOTIFIER_GIVE_UP_AFTER_MS: milliseconds(6 * 3_600_000, 1_000),
  /** How long an operator has to press Confirm after /halt or /resume. @default 300000 */
  NOTIFIER_CONFIRM_TIMEOUT_MS: milliseconds(300_000, 1_000),
  /** How long /reconcile waits for execution's result before saying so. @default 120000 */
  NOTIFIER_RECONCILE_TIMEOUT_MS: milliseconds(120_000, 1_000),
  /** Where /status finds the services' /readyz: `name=url,…`; empty means 127.0.0.1 at STACK_HTTP_PORT_BASE. */
  STATUS_SERVICES: serviceUrls,
  /** The stack runner's first HTTP port, for /status under `npm start`. @default 9400 */
  STACK_HTTP_PORT_BASE: port.default(9400),
});
export type NotifierConfig = z.infer<typeof notifierEnv>;
