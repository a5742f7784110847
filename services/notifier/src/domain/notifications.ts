/**
 * The kinds of notification a chat can receive, and how loudly: `on` (a normal message), `silent`
 * (delivered without a sound) or `off`. Each chat starts from the configured defaults and may change
 * its own levels with /notify.
 */
export const NOTIFICATIONS = [
  'fills',
  'rejections',
  'trading_state',
  'reconciliation',
  'gateway',
  'system',
  'daily_summary',
  'reauth_reminder',
] as const;
export type NotificationName = (typeof NOTIFICATIONS)[number];

export const LEVELS = ['on', 'silent', 'off'] as const;
export type Level = (typeof LEVELS)[number];

export type Levels = Readonly<Record<NotificationName, Level>>;

export const NOTIFICATION_DESCRIPTIONS: Readonly<Record<NotificationName, string>> = {
  fills: 'every fill (a burst comes as one message)',
  rejections: 'orders the broker rejected',
  trading_state: 'halts, resumes and reduce-only, with the reason',
  reconciliation: 'our books disagree with the broker',
  gateway: 'two-factor pending, competing session, re-authentication needed, disconnects',
  system: 'warnings from the services (stale market data, a paused sleeve…)',
  daily_summary: 'the day in one message',
  reauth_reminder: 'a reminder before the weekly IBKR re-authentication',
};

/** Everything on, except the daily summary, which needs no sound. */
export const DEFAULT_LEVELS: Levels = {
  fills: 'on',
  rejections: 'on',
  trading_state: 'on',
  reconciliation: 'on',
  gateway: 'on',
  system: 'on',
  daily_summary: 'silent',
  reauth_reminder: 'on',
};

export function isNotificationName(value: string): value is NotificationName {
  return (NOTIFICATIONS as readonly string[]).includes(value);
}

export function isLevel(value: string): value is Level {
  return (LEVELS as readonly string[]).includes(value);
}

/**
 * Parses `fills=silent,daily_summary=off` over `base`. Returns the levels or every problem, each naming
 * the part that is wrong.
 */
export function parseLevels(
  spec: string,
  base: Levels = DEFAULT_LEVELS,
): { ok: true; levels: Levels } | { ok: false; problems: string[] } {
  const levels: Record<NotificationName, Level> = { ...base };
  const problems: string[] = [];
  for (const part of spec
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const [name, level, ...rest] = part.split('=').map((item) => item.trim());
    if (!name || !level || rest.length > 0) {
      problems.push(`"${part}" is not <notification>=<level>`);
      continue;
    }
    if (!isNotificationName(name)) {
      problems.push(`"${name}" is not a notification (one of ${NOTIFICATIONS.join(', ')})`);
      continue;
    }
    if (!isLevel(level)) {
      problems.push(`"${level}" is not a level for ${name} (on, silent or off)`);
      continue;
    }
    levels[name] = level;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, levels };
}
