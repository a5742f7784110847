/**
 * The Telegram side: grammY with long polling, the chat gate, the commands and their confirmation
 * buttons. Only configured chats are served; any other chat is answered once ("this bot is private"),
 * audited once, and ignored from then on. /halt and /resume need an operator chat and a press of
 * Confirm by the same person within the confirmation timeout; they then go through the same control
 * path as the CLI (`@ibstack/operator`).
 */
import { randomBytes } from 'node:crypto';

import { autoRetry } from '@grammyjs/auto-retry';
import type { TradingStateName } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';
import { Bot, type Context, GrammyError, InlineKeyboard, InputFile, type Transformer } from 'grammy';
import type { User } from 'grammy/types';

import type { ChatConfig, Role } from '../domain/chats';
import { COMMANDS, commandNamed, type CommandSpec, mayRun } from '../domain/commands';
import {
  isLevel,
  isNotificationName,
  type Level,
  type Levels,
  NOTIFICATIONS,
  type NotificationName,
} from '../domain/notifications';
import { helpScreen, levelsScreen } from '../domain/screens';
import { escapeHtml } from '../domain/text';
import { TelegramTokenRejectedError } from '../errors';
import type { NotifierMetrics } from '../metrics';
import type { ChatPacer } from '../pacer';
import { safeErrorMessage } from './telegram-errors';

/** What the commands do; the service supplies it, so this file is only about Telegram. */
export interface BotOperations {
  status(): Promise<string>;
  positions(): Promise<string>;
  orders(): Promise<string>;
  trades(limit: number): Promise<string>;
  pnl(days: number): Promise<{ text: string; png: Buffer | null }>;
  balance(): Promise<string>;
  gateway(): Promise<string>;
  /** Sets the state through the operator control path; returns the reply (with any audit problem). */
  setTradingState(state: TradingStateName, reason: string, actor: string, chatId: number): Promise<string>;
  /** Asks execution to reconcile; the result comes to `chatId` when execution reports it. */
  reconcile(actor: string, chatId: number): Promise<string>;
  levels(chatId: number): Levels;
  setLevel(chatId: number, notification: NotificationName, level: Level, actor: string): Promise<void>;
  audit(action: string, actor: string, detail: Record<string, unknown>, auditId?: string): Promise<void>;
  /** Chats refused before (seeded at start), so each stranger is answered and audited once. */
  refusedChats(): Promise<number[]>;
}

export interface TelegramBotOptions {
  token: string;
  apiRoot: string;
  chats: readonly ChatConfig[];
  confirmTimeoutMs: number;
  pacer: ChatPacer;
  metrics: NotifierMetrics;
  log: Logger;
  operations: BotOperations;
}

interface PendingConfirmation {
  chatId: number;
  userId: number;
  state: TradingStateName;
  reason: string;
  expiresAt: number;
}

const TRADING_COMMANDS: Readonly<Record<string, TradingStateName>> = { halt: 'HALTED', resume: 'RUNNING' };
const MAX_TRADES = 50;
const MAX_PNL_DAYS = 90;
/**
 * Longest /halt or /resume reason: it goes into KV `trading`, the audit log and every chat's notice, and
 * a reason is a sentence, not a document.
 */
export const MAX_REASON_LENGTH = 300;
/** Telegram's caption limit; a longer P&L text goes as its own message. */
const MAX_CAPTION = 1024;

/** Who did it, as the audit log records it: `telegram:@alice (123456789)`. */
export function telegramActor(user: User | undefined): string {
  if (!user) return 'telegram:unknown';
  const name = user.username
    ? `@${user.username}`
    : [user.first_name, user.last_name].filter(Boolean).join(' ');
  return `telegram:${name} (${user.id})`;
}

/** Paces every message to a chat (replies and notifications alike) and counts 429s. */
function pacingTransformer(pacer: ChatPacer, metrics: NotifierMetrics): Transformer {
  return async (prev, method, payload, signal) => {
    const chatId = (payload as { chat_id?: unknown } | undefined)?.chat_id;
    if (method.startsWith('send') && typeof chatId === 'number') await pacer.acquire(chatId);
    const result = await prev(method, payload, signal);
    if (!result.ok && result.error_code === 429) {
      metrics.rateLimited.inc({ method });
      if (typeof chatId === 'number') pacer.holdOff(chatId, (result.parameters?.retry_after ?? 1) * 1000);
    }
    return result;
  };
}

export class TelegramBot {
  readonly bot: Bot;
  private readonly chats: ReadonlyMap<number, ChatConfig>;
  private readonly refused = new Set<number>();
  private readonly pending = new Map<string, PendingConfirmation>();
  private polling = false;
  private stopping = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly options: TelegramBotOptions) {
    this.chats = new Map(options.chats.map((chat) => [chat.chatId, chat]));
    this.bot = new Bot(options.token, { client: { apiRoot: options.apiRoot } });
    // Innermost first: pacing sits next to the network so every retry is paced too; auto-retry waits out a
    // 429's retry_after (up to a minute, three times) and leaves network errors and 5xx to our outbox, which
    // retries them with its own backoff and keeps count.
    this.bot.api.config.use(pacingTransformer(options.pacer, options.metrics));
    this.bot.api.config.use(
      autoRetry({
        maxRetryAttempts: 3,
        maxDelaySeconds: 60,
        rethrowHttpErrors: true,
        rethrowInternalServerErrors: true,
      }),
    );
    this.bot.catch((error) => {
      options.log.error(
        { updateId: error.ctx.update.update_id },
        `could not handle a Telegram update: ${safeErrorMessage(error.error, options.token)}`,
      );
    });
    this.install();
  }

  isPolling(): boolean {
    return this.polling;
  }

  /** Checks the token with getMe (a 401 is a configuration error), then polls in the background. */
  async start(): Promise<void> {
    for (const chatId of await this.options.operations.refusedChats()) this.refused.add(chatId);
    try {
      await this.bot.init();
    } catch (error) {
      if (error instanceof GrammyError && error.error_code === 401) throw new TelegramTokenRejectedError();
      throw new Error(`Telegram getMe failed: ${safeErrorMessage(error, this.options.token)}`);
    }
    await this.setCommandMenus().catch((error: unknown) =>
      this.options.log.warn(`could not set the command menu: ${safeErrorMessage(error, this.options.token)}`),
    );
    this.loop = this.poll();
  }

  /**
   * The command menu only in the chats served, each with the commands its role may run; the default menu
   * (what anyone who opens the bot sees) is removed, so a stranger is not shown what the bot can do.
   */
  private async setCommandMenus(): Promise<void> {
    const { api } = this.bot;
    await api.deleteMyCommands();
    for (const chat of this.chats.values())
      await api.setMyCommands(
        COMMANDS.filter((command) => mayRun(chat.role, command)).map((command) => ({
          command: command.name,
          description: command.description,
        })),
        { scope: { type: 'chat', chat_id: chat.chatId } },
      );
  }

  private async poll(): Promise<void> {
    const { log, metrics, token } = this.options;
    while (!this.stopping) {
      try {
        await this.bot.start({
          allowed_updates: ['message', 'callback_query'],
          onStart: (me) => {
            this.polling = true;
            metrics.polling.set(1);
            log.info({ bot: me.username }, 'receiving Telegram updates (long polling)');
          },
        });
      } catch (error) {
        // 401 (token revoked) or 409 (another process polls with this token): say so and try again later.
        log.error(`Telegram polling stopped: ${safeErrorMessage(error, token)}; retrying in 10 s`);
      }
      this.polling = false;
      metrics.polling.set(0);
      if (!this.stopping) await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.bot.isRunning()) await this.bot.stop().catch(() => undefined);
    await this.loop;
  }

  /** Sends a notification; resolves with its message id. */
  async sendMessage(chatId: number, html: string, options: { silent: boolean }): Promise<number> {
    const message = await this.bot.api.sendMessage(chatId, html, {
      parse_mode: 'HTML',
      disable_notification: options.silent,
      link_preview_options: { is_disabled: true },
    });
    return message.message_id;
  }

  private install(): void {
    const { bot } = this;
    bot.use(async (ctx, next) => {
      const chatId = ctx.chat?.id;
      if (chatId === undefined) return;
      if (this.chats.has(chatId)) return next();
      await this.refuse(ctx, chatId);
    });
    for (const command of COMMANDS)
      bot.command(command.name, (ctx) =>
        this.runCommand(ctx, command, typeof ctx.match === 'string' ? ctx.match.trim() : ''),
      );
    bot.command('start', (ctx) => this.runCommand(ctx, commandNamed('help')!, ''));
    bot.callbackQuery(/^(c|x):([0-9a-f]{12})$/, (ctx) =>
      this.onConfirmation(ctx, ctx.match[1] === 'c', ctx.match[2]!),
    );
    bot.on('callback_query', (ctx) => ctx.answerCallbackQuery({ text: 'This button has expired.' }));
    bot.on('message', (ctx) => this.onOtherMessage(ctx));
  }

  /**
   * A message that is none of our commands. An unknown command meant for us is answered by name; in a
   * group, members' talk, service messages and commands for other bots are not ours to answer.
   */
  private async onOtherMessage(ctx: Context): Promise<void> {
    const text = ctx.message?.text ?? '';
    const command = ctx.message?.entities?.find(
      (entity) => entity.type === 'bot_command' && entity.offset === 0,
    );
    if (command) {
      const [name = '', addressee] = text.slice(1, command.length).split('@');
      if (addressee !== undefined && addressee.toLowerCase() !== ctx.me.username.toLowerCase()) return;
      this.options.metrics.commands.inc({ command: 'unknown', outcome: 'unknown' });
      await this.reply(ctx, `Unknown command /${escapeHtml(name.slice(0, 64))}: /help lists the commands.`);
      return;
    }
    if (ctx.chat?.type === 'private') await this.reply(ctx, 'I answer commands only: /help lists them.');
  }

  private roleOf(ctx: Context): Role {
    return this.chats.get(ctx.chat!.id)!.role;
  }

  private async refuse(ctx: Context, chatId: number): Promise<void> {
    const { metrics, log, operations } = this.options;
    metrics.refused.inc();
    if (this.refused.has(chatId)) return;
    this.refused.add(chatId);
    const actor = telegramActor(ctx.from);
    log.warn(
      { chatId, chatType: ctx.chat?.type, actor },
      'update from a chat that is not configured: refused once',
    );
    await operations
      .audit('telegram_refused', actor, {
        chatId,
        chatType: ctx.chat?.type ?? null,
        text: (ctx.message?.text ?? '').slice(0, 64),
      })
      .catch((error: unknown) => log.warn({ err: error }, 'could not audit a refused chat'));
    await ctx.api
      .sendMessage(chatId, `This bot is private; this chat (id ${chatId}) is not one it serves.`)
      .catch((error: unknown) =>
        log.warn(`could not send a refusal: ${safeErrorMessage(error, this.options.token)}`),
      );
  }

  private async runCommand(ctx: Context, command: CommandSpec, argument: string): Promise<void> {
    const { metrics, log, operations } = this.options;
    const role = this.roleOf(ctx);
    const actor = telegramActor(ctx.from);
    if (!mayRun(role, command)) {
      metrics.commands.inc({ command: command.name, outcome: 'denied' });
      log.warn({ chatId: ctx.chat!.id, actor, command: command.name }, 'command denied to a viewer chat');
      await operations
        .audit('telegram_denied', actor, { chatId: ctx.chat!.id, command: command.name, role })
        .catch((error: unknown) => log.warn({ err: error }, 'could not audit a denied command'));
      await this.reply(
        ctx,
        `/${command.name} needs an operator chat; this chat is a viewer. Nothing was changed.`,
      );
      return;
    }
    try {
      await this.execute(ctx, command, argument, actor);
      metrics.commands.inc({ command: command.name, outcome: 'ok' });
    } catch (error) {
      metrics.commands.inc({ command: command.name, outcome: 'error' });
      const message = safeErrorMessage(error, this.options.token);
      log.error({ chatId: ctx.chat!.id, command: command.name }, `command failed: ${message}`);
      await this.reply(ctx, `/${command.name} failed: ${escapeHtml(message)}`).catch(() => undefined);
    }
  }

  private async execute(ctx: Context, command: CommandSpec, argument: string, actor: string): Promise<void> {
    const { operations } = this.options;
    const chatId = ctx.chat!.id;
    switch (command.name) {
      case 'status':
        return this.reply(ctx, await operations.status());
      case 'positions':
        return this.reply(ctx, await operations.positions());
      case 'orders':
        return this.reply(ctx, await operations.orders());
      case 'trades':
        return this.reply(ctx, await operations.trades(boundedInteger(argument, 10, MAX_TRADES)));
      case 'balance':
        return this.reply(ctx, await operations.balance());
      case 'gateway':
        return this.reply(ctx, await operations.gateway());
      case 'pnl': {
        const { text, png } = await operations.pnl(boundedInteger(argument, 1, MAX_PNL_DAYS));
        if (!png) return this.reply(ctx, text);
        if (text.length > MAX_CAPTION) await this.reply(ctx, text);
        await ctx.replyWithPhoto(
          new InputFile(png, 'equity.png'),
          text.length <= MAX_CAPTION ? { caption: text, parse_mode: 'HTML' } : {},
        );
        return;
      }
      case 'help':
        return this.reply(ctx, helpScreen(this.roleOf(ctx), operations.levels(chatId)));
      case 'notify':
        return this.notify(ctx, argument, actor);
      case 'reconcile':
        return this.reply(ctx, await operations.reconcile(actor, chatId));
      case 'halt':
      case 'resume':
        return this.askConfirmation(ctx, TRADING_COMMANDS[command.name]!, argument);
    }
  }

  private async notify(ctx: Context, argument: string, actor: string): Promise<void> {
    const { operations } = this.options;
    const chatId = ctx.chat!.id;
    if (!argument) return this.reply(ctx, levelsScreen(operations.levels(chatId)));
    const [name = '', level = '', ...rest] = argument.split(/\s+/);
    const names = name === 'all' ? [...NOTIFICATIONS] : [name];
    if (rest.length > 0 || !isLevel(level) || !names.every(isNotificationName))
      return this.reply(
        ctx,
        `Usage: /notify &lt;kind&gt; on|silent|off, kind one of ${NOTIFICATIONS.join(', ')} or all.`,
      );
    for (const notification of names) await operations.setLevel(chatId, notification, level, actor);
    await operations.audit('telegram_notify', actor, { chatId, notifications: names, level });
    await this.reply(ctx, levelsScreen(operations.levels(chatId)));
  }

  private async askConfirmation(ctx: Context, state: TradingStateName, reason: string): Promise<void> {
    const verb = state === 'HALTED' ? 'halt' : 'resume';
    if (!reason) {
      await this.reply(ctx, `Give a reason: /${verb} &lt;reason&gt; (it goes into the audit log).`);
      return;
    }
    const length = Array.from(reason).length;
    if (length > MAX_REASON_LENGTH) {
      await this.reply(
        ctx,
        `The reason is ${length} characters; keep it to ${MAX_REASON_LENGTH} (it goes into the audit log and every chat's notice). Nothing was changed.`,
      );
      return;
    }
    this.expireConfirmations();
    const token = randomBytes(6).toString('hex');
    this.pending.set(token, {
      chatId: ctx.chat!.id,
      userId: ctx.from?.id ?? 0,
      state,
      reason,
      expiresAt: Date.now() + this.options.confirmTimeoutMs,
    });
    const keyboard = new InlineKeyboard()
      .text(state === 'HALTED' ? '🛑 Confirm halt' : '✅ Confirm resume', `c:${token}`)
      .text('Cancel', `x:${token}`);
    await ctx.reply(
      `${state === 'HALTED' ? 'Halt all trading' : 'Resume trading'}?\nreason: ${escapeHtml(reason)}\nPress within ${Math.round(this.options.confirmTimeoutMs / 60_000) || 1} min.`,
      { parse_mode: 'HTML', reply_markup: keyboard },
    );
  }

  private expireConfirmations(): void {
    const now = Date.now();
    for (const [token, confirmation] of this.pending)
      if (confirmation.expiresAt < now) this.pending.delete(token);
  }

  private async onConfirmation(ctx: Context, confirmed: boolean, token: string): Promise<void> {
    const { operations, metrics, log } = this.options;
    this.expireConfirmations();
    const confirmation = this.pending.get(token);
    const chatId = ctx.chat!.id;
    if (!confirmation || confirmation.chatId !== chatId) {
      await ctx.answerCallbackQuery({ text: 'This confirmation has expired; send the command again.' });
      await ctx.editMessageReplyMarkup().catch(() => undefined);
      return;
    }
    if (confirmation.userId !== ctx.from?.id) {
      await ctx.answerCallbackQuery({ text: 'Only the person who sent the command can confirm it.' });
      return;
    }
    this.pending.delete(token);
    const command = confirmation.state === 'HALTED' ? 'halt' : 'resume';
    if (!confirmed) {
      await ctx.answerCallbackQuery({ text: 'Cancelled' });
      await ctx.editMessageText(`Cancelled: nothing was changed (/${command}).`).catch(() => undefined);
      return;
    }
    const actor = telegramActor(ctx.from);
    let reply: string;
    try {
      reply = await operations.setTradingState(confirmation.state, confirmation.reason, actor, chatId);
    } catch (error) {
      metrics.commands.inc({ command, outcome: 'error' });
      const message = safeErrorMessage(error, this.options.token);
      log.error({ chatId, actor, command }, `could not set the trading state: ${message}`);
      await ctx.answerCallbackQuery({ text: 'Failed' }).catch(() => undefined);
      await ctx
        .editMessageText(`⚠️ /${command} failed, nothing was changed: ${escapeHtml(message)}`, {
          parse_mode: 'HTML',
        })
        .catch(() => undefined);
      return;
    }
    metrics.commands.inc({ command, outcome: 'confirmed' });
    // The change is made: from here on, a failure to show it must not read as if it were not.
    await ctx
      .answerCallbackQuery({ text: confirmation.state === 'HALTED' ? 'Halted' : 'Resumed' })
      .catch(() => undefined);
    try {
      await ctx.editMessageText(reply, { parse_mode: 'HTML' });
    } catch (error) {
      log.warn(
        { chatId, command },
        `could not show the change in the confirmation; sending it instead: ${safeErrorMessage(error, this.options.token)}`,
      );
      // Thrown on: grammY's error handler logs it if this fails as well.
      await this.reply(ctx, reply);
    }
  }

  private async reply(ctx: Context, html: string): Promise<void> {
    await ctx.reply(html, { parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
  }
}

/** `argument` as an integer between 1 and `maximum`, or `fallback` when absent or not a number. */
function boundedInteger(argument: string, fallback: number, maximum: number): number {
  const value = Number.parseInt(argument, 10);
  return Number.isFinite(value) && value > 0 ? Math.min(value, maximum) : fallback;
}
