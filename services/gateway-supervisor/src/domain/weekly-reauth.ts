/**
 * IBKR invalidates every session's security tokens each Sunday at 01:00 New York; the first login after
 * that needs full authentication (TOTP or the phone). Being logged out between the reset and the deadline
 * (Sunday evening, before the forex open) is expected; still not logged in after the deadline, with no
 * login since the reset, is `reauthentication_overdue`.
 */
import { DateTime } from 'luxon';

export interface WeeklyReauthRule {
  /** @default America/New_York */
  zone: string;
  /** Hour (local, Sunday) of IBKR's token reset. @default 1 */
  resetHour: number;
  /** Hour (local, Sunday) by which the gateway must be logged in again. @default 17 (forex opens) */
  deadlineHour: number;
  /** Hours after Sunday 00:00 until which a missing login counts as overdue. @default 33.5 (Monday 09:30, the stock open) */
  overdueUntilHour: number;
}

export const DEFAULT_WEEKLY_REAUTH: WeeklyReauthRule = {
  zone: 'America/New_York',
  resetHour: 1,
  deadlineHour: 17,
  overdueUntilHour: 33.5,
};

/** The last Sunday token reset at or before `at`, and that week's deadline (epoch ms). */
export function weeklyReauthWindow(
  rule: WeeklyReauthRule,
  at: number,
): { resetAt: number; deadlineAt: number; overdueUntil: number } {
  const local = DateTime.fromMillis(at, { zone: rule.zone });
  // Luxon weekdays: Monday 1 … Sunday 7.
  let sunday = local.minus({ days: local.weekday % 7 }).startOf('day');
  if (sunday.plus({ hours: rule.resetHour }).toMillis() > at) sunday = sunday.minus({ weeks: 1 });
  return {
    resetAt: sunday.plus({ hours: rule.resetHour }).toMillis(),
    deadlineAt: sunday.plus({ hours: rule.deadlineHour }).toMillis(),
    overdueUntil: sunday.plus({ minutes: rule.overdueUntilHour * 60 }).toMillis(),
  };
}

export type WeeklyReauthPhase = 'not_due' | 'expected' | 'overdue';

/**
 * With no login since the reset: `expected` between the reset and the deadline, `overdue` from the
 * deadline until Monday's open; otherwise (or after a login) `not_due`: a gateway logged out later in the
 * week is plainly logged out.
 */
export function weeklyReauthPhase(
  rule: WeeklyReauthRule,
  at: number,
  lastLoginAt: number | undefined,
): WeeklyReauthPhase {
  const { resetAt, deadlineAt, overdueUntil } = weeklyReauthWindow(rule, at);
  if (lastLoginAt !== undefined && lastLoginAt >= resetAt) return 'not_due';
  if (at < deadlineAt) return 'expected';
  return at < overdueUntil ? 'overdue' : 'not_due';
}
