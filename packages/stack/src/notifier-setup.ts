/**
 * Whether `npm start` runs the Telegram bot (services/notifier), and with what. It runs only when a bot
 * token and the chats to serve are configured; otherwise the runner says it is off and how to turn it on.
 * The token reaches the notifier as a file path (TELEGRAM_BOT_TOKEN_FILE), never as a value in another
 * service's environment.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

import type { StackConfig } from './config';

/** Its HTTP port is STACK_HTTP_PORT_BASE + 5 (dashboard-api has + 4). */
export const NOTIFIER_PORT_OFFSET = 5;

export type NotifierSetup =
  { enabled: true; env: Record<string, string> } | { enabled: false; reason: string; howTo: string };

function fileHoldsValue(path: string): boolean {
  try {
    return readFileSync(path, 'utf8').trim().length > 0;
  } catch {
    return false;
  }
}

export function notifierSetup(config: StackConfig): NotifierSetup {
  const tokenFile = config.TELEGRAM_BOT_TOKEN_FILE;
  const shown = relative(process.cwd(), tokenFile) || tokenFile;
  const howTo = `put the token BotFather gave in ${shown} (or set TELEGRAM_BOT_TOKEN_FILE) and set TELEGRAM_CHATS=<your chat id>:operator (README: Telegram)`;
  if (!fileHoldsValue(tokenFile)) return { enabled: false, reason: `no bot token in ${shown}`, howTo };
  if (!config.TELEGRAM_CHATS) return { enabled: false, reason: 'TELEGRAM_CHATS is not set', howTo };
  return {
    enabled: true,
    env: {
      TELEGRAM_BOT_TOKEN_FILE: tokenFile,
      TELEGRAM_CHATS: config.TELEGRAM_CHATS,
      HTTP_PORT: String(config.STACK_HTTP_PORT_BASE + NOTIFIER_PORT_OFFSET),
      // /status probes the other services where the runner starts them.
      STACK_HTTP_PORT_BASE: String(config.STACK_HTTP_PORT_BASE),
    },
  };
}
