import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigError, loadConfig } from '@ibstack/config';

import { notifierEnv } from '../../src/config';

const TOKEN = '123456789:AAEabcdefghijklmnopqrstuvwxyz0123456';

describe('notifier configuration', () => {
  it('reads the token from a file and the chats from TELEGRAM_CHATS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'notifier-'));
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    const config = loadConfig('notifier', notifierEnv, {
      TELEGRAM_BOT_TOKEN_FILE: join(dir, 'token'),
      TELEGRAM_CHATS: '111:operator',
    });
    expect(config.TELEGRAM_BOT_TOKEN).toBe(TOKEN);
    expect(config.TELEGRAM_CHATS).toEqual([{ chatId: 111, role: 'operator' }]);
    expect(config.DAILY_SUMMARY_CRON).toBe('30 17 * * 1-5');
    // Unset: derived from the re-authentication deadline (the gateway supervisor's setting).
    expect(config.REAUTH_REMINDER_CRON).toBeUndefined();
    expect(config.WEEKLY_REAUTH_DEADLINE_HOUR).toBe(17);
    expect(config.TELEGRAM_NOTIFY.daily_summary).toBe('silent');
  });

  it('names every bad setting in one error, and never the token', () => {
    let error: unknown;
    try {
      loadConfig('notifier', notifierEnv, {
        TELEGRAM_BOT_TOKEN: 'not-a-token-secret-value',
        TELEGRAM_CHATS: '111:admin',
        TELEGRAM_NOTIFY: 'fills=loud',
        DAILY_SUMMARY_CRON: 'every day',
        NOTIFIER_TIME_ZONE: 'Mars/Olympus',
        REAUTH_REMINDER_CRON: 'sundays',
        WEEKLY_REAUTH_DEADLINE_HOUR: '25',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { message, problems } = error as ConfigError;
    expect(problems).toHaveLength(7);
    expect(message).toContain('REAUTH_REMINDER_CRON: must be a cron pattern');
    expect(message).toContain('WEEKLY_REAUTH_DEADLINE_HOUR: must be an hour from 2 to 23');
    expect(message).toContain('TELEGRAM_BOT_TOKEN: is not a bot token');
    expect(message).toContain('TELEGRAM_CHATS: "admin" is not a role for chat 111');
    expect(message).toContain('TELEGRAM_NOTIFY: "loud" is not a level for fills');
    expect(message).toContain('DAILY_SUMMARY_CRON: must be a cron pattern');
    expect(message).toContain('NOTIFIER_TIME_ZONE: must be an IANA time zone');
    expect(message).not.toContain('not-a-token-secret-value');
  });

  it('turns the reminder off, or puts it on a schedule of its own', () => {
    const env = { TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_CHATS: '111:operator' };
    expect(
      loadConfig('notifier', notifierEnv, { ...env, REAUTH_REMINDER_CRON: 'off' }).REAUTH_REMINDER_CRON,
    ).toBeNull();
    expect(
      loadConfig('notifier', notifierEnv, { ...env, REAUTH_REMINDER_CRON: '0 9 * * 0' }).REAUTH_REMINDER_CRON,
    ).toBe('0 9 * * 0');
  });

  it('requires a token and chats', () => {
    expect(() => loadConfig('notifier', notifierEnv, {})).toThrow(
      /TELEGRAM_BOT_TOKEN: is required[\s\S]*TELEGRAM_CHATS: is required/,
    );
  });
});
