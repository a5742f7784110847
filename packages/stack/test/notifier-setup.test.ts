/** `npm start` runs the Telegram bot only when it has a token and chats, and says how to turn it on. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig } from '@ibstack/config';

import { notifierSetup, stackEnv, stackServices } from '../src';

describe('the Telegram bot under npm start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ibstack-notifier-setup-'));
  const tokenFile = join(dir, 'telegram_bot_token');
  const config = (env: Record<string, string>) =>
    loadConfig('ibstack', stackEnv, { STACK_STATE_DIR: dir, STACK_HTTP_PORT_BASE: '9500', ...env });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is off without a token, saying where to put one', () => {
    const setup = notifierSetup(config({ TELEGRAM_BOT_TOKEN_FILE: tokenFile, TELEGRAM_CHATS: '1:operator' }));
    expect(setup).toMatchObject({
      enabled: false,
      reason: expect.stringContaining('no bot token in') as unknown,
    });
    if (!setup.enabled) expect(setup.howTo).toContain('TELEGRAM_CHATS=<your chat id>:operator');
    expect(
      stackServices(config({ TELEGRAM_BOT_TOKEN_FILE: tokenFile }), {}).map((s) => s.name),
    ).not.toContain('notifier');
  });

  it('is off with a token but no chats', () => {
    writeFileSync(tokenFile, '123456789:AAEabcdefghijklmnopqrstuvwxyz0123456\n');
    expect(notifierSetup(config({ TELEGRAM_BOT_TOKEN_FILE: tokenFile }))).toMatchObject({
      enabled: false,
      reason: 'TELEGRAM_CHATS is not set',
    });
  });

  it('runs last on STACK_HTTP_PORT_BASE + 5 with the token as a file, which no other service sees', () => {
    writeFileSync(tokenFile, '123456789:AAEabcdefghijklmnopqrstuvwxyz0123456\n');
    const services = stackServices(
      config({ TELEGRAM_BOT_TOKEN_FILE: tokenFile, TELEGRAM_CHATS: '111:operator' }),
      {},
    );
    const notifier = services.at(-1)!;
    expect(notifier).toMatchObject({ name: 'notifier', healthUrl: 'http://127.0.0.1:9505' });
    expect(notifier.env).toMatchObject({
      TELEGRAM_BOT_TOKEN_FILE: tokenFile,
      TELEGRAM_CHATS: '111:operator',
      HTTP_PORT: '9505',
      STACK_HTTP_PORT_BASE: '9500',
    });
    for (const service of services) {
      expect(JSON.stringify(service.env)).not.toContain('AAEabcdefghijklmnopqrstuvwxyz');
      if (service.name !== 'notifier') expect(service.env.TELEGRAM_BOT_TOKEN_FILE).toBeUndefined();
    }
  });
});
