/**
 * The two calendars the scheduled messages follow, both in New York time whatever zone the operator reads
 * in: the trading day (17:00 to 17:00, the roll execution's daily P&L uses) that the daily summary tells,
 * and IBKR's weekly token reset (Sunday 01:00) with the deadline by which the gateway must be logged in
 * again (`WEEKLY_REAUTH_DEADLINE_HOUR`, the gateway supervisor's setting of the same name).
 */
import { DAY_MS, HOUR_MS, instantOfWallClock, sessionOf, wallClockMs } from '@ibstack/contracts';

export const NEW_YORK = 'America/New_York';
/** The forex roll: a trading day runs from 17:00 New York to 17:00 the next day. */
const ROLL_HOUR = 17;
/** IBKR invalidates every session's tokens on Sunday at 01:00 New York. */
export const WEEKLY_RESET_HOUR = 1;
/** The reminder comes this long before the deadline, and never before an hour after the reset. */
const REMINDER_LEAD_HOURS = 2;

export interface TradingDay {
  /** The trading day, `2026-11-25` for the one opening 2026-11-24 17:00 New York. */
  day: string;
  startMs: number;
  endMs: number;
}

/**
 * The last trading day that has ended at `nowMs`: what a daily summary tells. The default 17:30 summary
 * tells the day that closed half an hour before; a summary at 16:00 tells the day before (today's is
 * still running).
 */
export function lastTradingDay(nowMs: number): TradingDay {
  const current = sessionOf(nowMs, NEW_YORK, ROLL_HOUR);
  const previous = sessionOf(current.startMs - 1, NEW_YORK, ROLL_HOUR);
  return { day: previous.day, startMs: previous.startMs, endMs: current.startMs };
}

export interface WeeklyReauth {
  /** The last Sunday 01:00 New York at or before now. */
  resetAt: number;
  /** That Sunday's deadline. */
  deadlineAt: number;
}

/** IBKR's weekly reset at or before `nowMs`, and the deadline that follows it. */
export function weeklyReauth(nowMs: number, deadlineHour: number): WeeklyReauth {
  const wall = wallClockMs(nowMs, NEW_YORK);
  const midnight = Math.floor(wall / DAY_MS) * DAY_MS;
  let sunday = midnight - new Date(midnight).getUTCDay() * DAY_MS;
  if (sunday + WEEKLY_RESET_HOUR * HOUR_MS > wall) sunday -= 7 * DAY_MS;
  return {
    resetAt: instantOfWallClock(sunday + WEEKLY_RESET_HOUR * HOUR_MS, NEW_YORK),
    deadlineAt: instantOfWallClock(sunday + deadlineHour * HOUR_MS, NEW_YORK),
  };
}

/** The reminder's cron pattern (in New York time): Sunday, two hours before the deadline. */
export function reauthReminderCron(deadlineHour: number): string {
  const hour = Math.max(WEEKLY_RESET_HOUR + 1, deadlineHour - REMINDER_LEAD_HOURS);
  return `0 ${hour} * * 0`;
}

/** The re-authentication to remind of: this week's until its deadline has passed, then next week's. */
export function upcomingReauth(nowMs: number, deadlineHour: number): WeeklyReauth {
  const current = weeklyReauth(nowMs, deadlineHour);
  return nowMs < current.deadlineAt ? current : weeklyReauth(nowMs + 7 * DAY_MS, deadlineHour);
}
