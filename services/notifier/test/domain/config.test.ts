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
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { message, problems } = error as ConfigError;
    expect(problems).toHaveLength(5);
    expect(message).toContain('TELEGRAM_BOT_TOKEN: is not a bot token');
    expect(message).toContain('TELEGRAM_CHATS: "admin" is not a role for chat 111');
    expect(message).toContain('TELEGRAM_NOTIFY: "loud" is not a level for fills');
    expect(message).toContain('DAILY_SUMMARY_CRON: must be a cron pattern');
    expect(message).toContain('NOTIFIER_TIME_ZONE: must be an IANA time zone');
    expect(message).not.toContain('not-a-token-secret-value');
  });

  it('requires a token and chats', () => {
    expect(() => loadConfig('notifier', notifierEnv, {})).toThrow(
      /TELEGRAM_BOT_TOKEN: is required[\s\S]*TELEGRAM_CHATS: is required/,
    );
  });
});
