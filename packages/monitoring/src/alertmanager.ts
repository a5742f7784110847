import { readFileSync } from 'node:fs';

import { parse, stringify } from 'yaml';

import { paths } from './paths';

export interface AlertmanagerCopyOptions {
  /** Written inline as `bot_token`: Alertmanager 0.25 (Debian's) has no `bot_token_file`. */
  botToken: string;
  /** Telegram chat id; leave it out to keep `__TELEGRAM_CHAT_ID__` for entrypoint.sh to fill in. */
  chatId?: number;
  /** Bot API root (a fake Telegram in tests). @default the production file's api_url */
  apiUrl?: string;
  /** Route timings (group_wait, group_interval, repeat_interval) scaled by this factor. @default 1 */
  timeScale?: number;
}

interface TelegramConfig {
  api_url?: string;
  bot_token?: string;
  bot_token_file?: string;
  chat_id: number | string;
  [key: string]: unknown;
}
interface Route {
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  routes?: Route[];
  [key: string]: unknown;
}
interface AlertmanagerConfig {
  templates: string[];
  route: Route;
  receivers: Array<{ name: string; telegram_configs?: TelegramConfig[] }>;
  [key: string]: unknown;
}

export function readAlertmanagerConfig(file: string = paths.alertmanagerConfig): AlertmanagerConfig {
  return parse(readFileSync(file, 'utf8')) as AlertmanagerConfig;
}

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds of a Prometheus duration such as `1m30s`. */
export function durationSeconds(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text)
    throw new Error(`not a duration: ${text}`);
  return parts.reduce((sum, [, value, unit]) => sum + Number(value) * UNITS[unit!]!, 0);
}

function formatDuration(seconds: number): string {
  return Number.isInteger(seconds) ? `${seconds}s` : `${Math.round(seconds * 1000)}ms`;
}

function scaleRoute(route: Route, factor: number): void {
  for (const key of ['group_wait', 'group_interval', 'repeat_interval'] as const) {
    const value = route[key];
    if (value !== undefined) route[key] = formatDuration(durationSeconds(value) * factor);
  }
  for (const child of route.routes ?? []) scaleRoute(child, factor);
}

/**
 * alertmanager/alertmanager.yml as Debian's Alertmanager 0.25 can run it here. What differs from the
 * production file: `bot_token_file` becomes an inline `bot_token` (0.25 lacks the file form), the
 * templates are read from the repository instead of /etc/alertmanager, and optionally the chat id,
 * the API root and the route timings. Everything else (routes, grouping, inhibitions, message) is the
 * production file's.
 */
export function alertmanagerConfigFor025(options: AlertmanagerCopyOptions): string {
  const config = readAlertmanagerConfig();
  config.templates = [`${paths.alertmanagerTemplatesDir}/*.tmpl`];
  for (const receiver of config.receivers)
    for (const telegram of receiver.telegram_configs ?? []) {
      delete telegram.bot_token_file;
      telegram.bot_token = options.botToken;
      if (options.chatId !== undefined) telegram.chat_id = options.chatId;
      if (options.apiUrl !== undefined) telegram.api_url = options.apiUrl;
    }
  if (options.timeScale !== undefined && options.timeScale !== 1) scaleRoute(config.route, options.timeScale);
  return stringify(config);
}
