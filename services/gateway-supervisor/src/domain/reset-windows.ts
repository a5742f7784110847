/**
 * IBKR's reset windows per server region, as a configurable table (IBKR has changed the schedule before):
 * inside a window a disconnect from IB is expected for a while. A window is a local time span on given
 * weekdays in a zone; an end at or before the start runs past midnight into the next day.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';

export const ServerRegion = z.enum(['north_america', 'europe', 'asia']);
export type ServerRegion = z.infer<typeof ServerRegion>;

const Weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
const WEEKDAYS = Weekday.options;
const LocalTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24-hour)');

export const ResetWindow = z
  .object({
    /** What IBKR calls it, for the operator. */
    name: z.string().min(1),
    /** Weekdays the window starts on. */
    days: z.array(Weekday).min(1),
    start: LocalTime,
    end: LocalTime,
    zone: z.string().refine((zone) => DateTime.now().setZone(zone).isValid, 'must be an IANA time zone'),
  })
  .strict();
export type ResetWindow = z.infer<typeof ResetWindow>;

export const ResetWindowTable = z.partialRecord(ServerRegion, z.array(ResetWindow));
export type ResetWindowTable = z.infer<typeof ResetWindowTable>;

const EVERY_DAY_BUT_SATURDAY: Array<z.infer<typeof Weekday>> = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri'];
const WEEKEND_MAINTENANCE: ResetWindow = {
  name: 'weekend maintenance',
  days: ['fri'],
  start: '23:00',
  end: '03:00',
  zone: 'America/New_York',
};

/**
 * IBKR's System Status page (the newer of the two versions on record): daily resets Sunday to Friday,
 * and the weekend maintenance from Friday 23:00 to Saturday 03:00 New York for all regions.
 */
export const DEFAULT_RESET_WINDOWS: ResetWindowTable = {
  north_america: [
    {
      name: 'daily reset',
      days: EVERY_DAY_BUT_SATURDAY,
      start: '00:15',
      end: '01:45',
      zone: 'America/New_York',
    },
    WEEKEND_MAINTENANCE,
  ],
  europe: [
    {
      name: 'daily reset',
      days: EVERY_DAY_BUT_SATURDAY,
      start: '06:25',
      end: '07:45',
      zone: 'Europe/Zurich',
    },
    WEEKEND_MAINTENANCE,
  ],
  asia: [
    {
      name: 'first daily reset',
      days: EVERY_DAY_BUT_SATURDAY,
      start: '04:45',
      end: '06:05',
      zone: 'Asia/Hong_Kong',
    },
    {
      name: 'second daily reset',
      days: EVERY_DAY_BUT_SATURDAY,
      start: '20:15',
      end: '21:15',
      zone: 'Asia/Hong_Kong',
    },
    WEEKEND_MAINTENANCE,
  ],
};

export interface ActiveWindow {
  name: string;
  startsAt: number;
  endsAt: number;
}

function minutes(time: string): number {
  const [hours = 0, mins = 0] = time.split(':').map(Number);
  return hours * 60 + mins;
}

/** The windows of `region` that contain `at` (epoch ms), with their absolute start and end. */
export function activeResetWindows(
  table: ResetWindowTable,
  region: ServerRegion,
  at: number,
): ActiveWindow[] {
  const active: ActiveWindow[] = [];
  for (const window of table[region] ?? []) {
    const local = DateTime.fromMillis(at, { zone: window.zone });
    // A window that crosses midnight may have started yesterday.
    for (const daysBack of [0, 1]) {
      const day = local.minus({ days: daysBack }).startOf('day');
      const weekday = WEEKDAYS[day.weekday - 1]!;
      if (!window.days.includes(weekday)) continue;
      const start = day.plus({ minutes: minutes(window.start) });
      const endMinutes = minutes(window.end);
      const end =
        endMinutes > minutes(window.start)
          ? day.plus({ minutes: endMinutes })
          : day.plus({ days: 1, minutes: endMinutes });
      if (at >= start.toMillis() && at < end.toMillis())
        active.push({ name: window.name, startsAt: start.toMillis(), endsAt: end.toMillis() });
    }
  }
  return active;
}
