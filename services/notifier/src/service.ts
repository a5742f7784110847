/**
 * The notifier: a Telegram bot for the operator (status, P&L, halt and resume) and the stack's voice
 * on the operator's phone (fills, rejections, halts, reconciliation mismatches, the gateway's session,
 * a daily summary, the weekly re-authentication reminder).
 *
 *   NATS (fills, order events, reconciliation, system events, gateway health) + KV `trading`
 *     → NotificationRouter (per chat, per level) → notifier_outbox → OutboxSender (paced) → Telegram
 *   Telegram updates → TelegramBot (chat gate, roles, confirm buttons) → @ibstack/operator → NATS/Postgres
 *
 * Every event is acknowledged on NATS only once its notifications are in the outbox, and the outbox
 * delivers them or says loudly that it could not.
 */
import { type Bus, type ConsumerHandle, tradingStateKv } from '@ibstack/bus';
import {
  type AuditEntry,
  DAY_MS,
  deterministicId,
  type GatewayHealth,
  KV_KEYS,
  nowIso,
  randomId,
  type ReconciliationResult,
  sessionOf,
  topics,
  TradingState,
  type TradingStateName,
} from '@ibstack/contracts';
import { type DatabaseHandle, insertAuditEntries } from '@ibstack/db';
import { type HealthServer, type Logger, type Registry, startHealthServer } from '@ibstack/observability';
import {
  gatherStatus,
  latestAccountSnapshots,
  openOrders,
  openPositions,
  readGatewayHealth,
  recentFills,
  requestReconciliation,
  setTradingState,
} from '@ibstack/operator';
import { Cron } from 'croner';

import { equityChartPng } from './adapters/equity-chart';
import { OutboxStore } from './adapters/outbox-store';
import { NotifierQueries } from './adapters/pg-queries';
import { TelegramBot } from './adapters/telegram-bot';
import type { NotifierConfig } from './config';
import {
  dailySummaryNotice,
  gatewayNotice,
  isRejection,
  reauthReminderNotice,
  reconciliationNotice,
  reconciliationReply,
  rejectionNotice,
  systemNotice,
  tradingStateNotice,
} from './domain/notices';
import {
  balanceScreen,
  gatewayScreen,
  ordersScreen,
  pnlScreen,
  positionsScreen,
  statusScreen,
  tradesScreen,
} from './domain/screens';
import { type Clock, escapeHtml } from './domain/text';
import { lastTradingDay, NEW_YORK, reauthReminderCron, upcomingReauth } from './domain/trading-calendar';
import { EnqueueRetrier } from './enqueue-retrier';
import { notifierMetrics, type NotifierMetrics } from './metrics';
import { NotificationRouter } from './notification-router';
import { OutboxSender } from './outbox-sender';
import { ChatPacer } from './pacer';

export interface NotifierServiceDeps {
  /** Postgres, connected, schema current; closed by the caller after `stop()`. */
  database: DatabaseHandle;
  /** NATS, connected, streams ensured; closed by the caller after `stop()`. */
  bus: Bus;
  logger: Logger;
  registry: Registry;
  /** Start the HTTP health/metrics server. @default true */
  http?: boolean;
  /**
   * Epoch ms: the time the messages' calendars read (which trading day a summary or /pnl tells, the
   * re-authentication a reminder names, the times shown). @default Date.now
   */
  clock?: () => number;
}

export interface NotifierService {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly metrics: NotifierMetrics;
  readonly healthUrl: string | undefined;
  /** Queues the daily summary now (what the schedule does). */
  sendDailySummary(): Promise<void>;
  /** Queues the weekly re-authentication reminder now. */
  sendReauthReminder(): Promise<void>;
}

/** Handler failures (Postgres down) before an event goes to the dead-letter subject: about 25 minutes. */
const MAX_DELIVER = 60;
/** Delivered and given-up notifications are kept this long. */
const OUTBOX_RETENTION_MS = 30 * 86_400_000;

export function createNotifierService(config: NotifierConfig, deps: NotifierServiceDeps): NotifierService {
  const log = deps.logger;
  const registry = deps.registry;
  const metrics = notifierMetrics(registry);
  const now = deps.clock ?? Date.now;
  const clock = (): Clock => ({ timeZone: config.NOTIFIER_TIME_ZONE, now: now() });
  const retrier = new EnqueueRetrier({
    metrics,
    log,
    baseDelayMs: config.NOTIFIER_RETRY_BASE_MS,
  });
  const pacer = new ChatPacer({
    chatIntervalMs: config.TELEGRAM_CHAT_INTERVAL_MS,
    groupIntervalMs: config.TELEGRAM_GROUP_INTERVAL_MS,
    globalIntervalMs: config.TELEGRAM_GLOBAL_INTERVAL_MS,
  });

  const { database, bus } = deps;
  let health: HealthServer | undefined;
  let latestGateway: GatewayHealth | null = null;
  let stopWatching: (() => void) | undefined;
  let watching: Promise<void> | undefined;
  const consumers: ConsumerHandle[] = [];
  const jobs: Cron[] = [];
  const timers = new Set<NodeJS.Timeout>();
  /**
   * Trading states this process is setting from a chat, by state, reason and actor: that chat is answered
   * directly and not told again. Registered before the write, since the KV watch may see it first.
   */
  const setFromChat = new Map<string, number>();
  const changeKey = (state: { state: string; reason: string; by: string }) =>
    `${state.state}\u0000${state.reason}\u0000${state.by}`;
  /** Chats waiting for the result of the reconciliation they asked for. */
  const reconcileWaiters = new Set<{ chatId: number; requestedAt: number; timer: NodeJS.Timeout }>();

  async function audit(
    action: string,
    actor: string,
    detail: Record<string, unknown>,
    auditId?: string,
  ): Promise<void> {
    const entry: AuditEntry = {
      v: 1,
      auditId: auditId ?? randomId(),
      actor,
      action,
      detail: { ...detail, via: 'telegram' },
      at: nowIso(),
    };
    await insertAuditEntries(database.db, [entry]).execute();
    await bus
      .publish(topics.audit, entry)
      .catch((error: unknown) => log.warn({ err: error }, 'could not publish an audit entry to sys.audit'));
  }

  /** A message for one chat only (a command's late answer), durable and paced like any notification. */
  async function tellChat(chatId: number, key: string, text: string): Promise<void> {
    const added = await store.enqueue([
      {
        chatId,
        kind: 'reconciliation',
        dedupeKey: `reply:${key}`,
        silent: false,
        payload: { type: 'text', text },
      },
    ]);
    if (added > 0) sender.kick();
  }

  async function onReconciliation(result: ReconciliationResult): Promise<void> {
    const answered = new Set<number>();
    for (const waiter of [...reconcileWaiters]) {
      if (result.trigger !== 'operator' || Date.parse(result.startedAt) < waiter.requestedAt - 1_000)
        continue;
      if (!answered.has(waiter.chatId))
        await tellChat(waiter.chatId, `reconcile:${result.runId}`, reconciliationReply(result, clock()));
      answered.add(waiter.chatId);
      // Only once the answer is queued: if that failed, the redelivered result finds the waiter again.
      clearTimeout(waiter.timer);
      reconcileWaiters.delete(waiter);
    }
    if (!result.ok) {
      const text = reconciliationNotice(result, clock());
      const rows = await router.notify(
        'reconciliation',
        result.runId,
        { type: 'text', text },
        {
          ...(answered.size === 1 ? { toldDirectly: [...answered][0]! } : {}),
        },
      );
      log.info(
        { runId: result.runId, mismatches: result.mismatches.length, notifications: rows },
        'reconciliation mismatch told',
      );
    }
  }

  async function watchTradingState(bus: Bus, store: OutboxStore, router: NotificationRouter): Promise<void> {
    const kv = await tradingStateKv(bus);
    // Tell what changed since the last state told (also while we were down); on a first start, only what
    // changes from now on.
    const threshold = (await store.lastToldTradingStateAt()) ?? nowIso();
    const watcher = await kv.raw.watch({ key: KV_KEYS.tradingState, include: 'history' });
    stopWatching = () => watcher.stop();
    watching = (async () => {
      for await (const entry of watcher) {
        if (entry.operation !== 'PUT' || entry.length === 0) continue;
        const parsed = TradingState.safeParse(entry.json());
        if (!parsed.success) {
          log.warn({ revision: entry.revision }, 'KV trading/state holds an invalid value; not told');
          continue;
        }
        const state = parsed.data;
        if (state.at <= threshold) continue;
        const toldDirectly = setFromChat.get(changeKey(state));
        setFromChat.delete(changeKey(state));
        // Changes are told in order: a later one waits until this one is queued.
        const queued = await retrier.run('trading_state', `the trading state change to ${state.state}`, () =>
          router.notify(
            'trading_state',
            `${state.at}:${state.state}`,
            { type: 'text', text: tradingStateNotice(state, clock()), at: state.at },
            toldDirectly === undefined ? {} : { toldDirectly },
          ),
        );
        if (!queued) return;
      }
    })();
  }

  async function pnl(days: number): Promise<{ text: string; png: Buffer | null }> {
    const q = queries;
    const at = now();
    // The trading day as execution's daily P&L counts it: from the 17:00 New York roll.
    const dayStart = sessionOf(at, 'America/New_York', 17).startMs;
    const [accounts, totals, points] = await Promise.all([
      latestAccountSnapshots(database.db),
      q.fillTotals(new Date(dayStart)),
      q.equityCurve(new Date(at - days * DAY_MS), new Date(at)),
    ]);
    const text = pnlScreen(
      { accounts, ...totals, dayStart: new Date(dayStart).toISOString(), days },
      clock(),
    );
    if (points.length < 2)
      return { text: `${text}\nNo equity curve yet: too few account snapshots.`, png: null };
    const png = equityChartPng({
      points,
      timeZone: config.NOTIFIER_TIME_ZONE,
      title: `Equity (NAV) ${[...new Set(points.map((point) => point.account))].join(', ')}, last ${days === 1 ? '24 hours' : `${days} days`}`,
    });
    return { text, png };
  }

  // Collaborators, built here; start() only loads, subscribes, schedules and listens.
  const db = database.db;
  const store = new OutboxStore(db);
  const queries = new NotifierQueries(db);
  const sender = new OutboxSender({
    store,
    send: (chatId, html, sendOptions) => bot.sendMessage(chatId, html, sendOptions),
    pacer,
    metrics,
    log: log.child({ component: 'outbox' }),
    clock,
    retryBaseMs: config.NOTIFIER_RETRY_BASE_MS,
    giveUpAfterMs: config.NOTIFIER_GIVE_UP_AFTER_MS,
  });
  const router = new NotificationRouter({
    chats: config.TELEGRAM_CHATS,
    defaults: config.TELEGRAM_NOTIFY,
    store,
    metrics,
    queued: () => sender.kick(),
  });
  const bot = new TelegramBot({
    token: config.TELEGRAM_BOT_TOKEN,
    apiRoot: config.TELEGRAM_API_ROOT,
    chats: config.TELEGRAM_CHATS,
    confirmTimeoutMs: config.NOTIFIER_CONFIRM_TIMEOUT_MS,
    pacer,
    metrics,
    log: log.child({ component: 'telegram' }),
    operations: {
      status: async () =>
        statusScreen(
          await gatherStatus({
            db,
            bus: bus,
            httpPortBase: config.STACK_HTTP_PORT_BASE,
            ...(config.STATUS_SERVICES ? { services: config.STATUS_SERVICES } : {}),
          }),
          latestGateway,
          clock(),
        ),
      positions: async () => positionsScreen(await openPositions(db)),
      orders: async () => ordersScreen(await openOrders(db)),
      trades: async (limit) => tradesScreen(await recentFills(db, limit), clock()),
      balance: async () => balanceScreen(await latestAccountSnapshots(db), clock()),
      pnl,
      gateway: async () => {
        const gateway = latestGateway ?? (await readGatewayHealth(bus));
        const status = gateway
          ? null
          : await gatherStatus({
              db,
              bus: bus,
              httpPortBase: config.STACK_HTTP_PORT_BASE,
              ...(config.STATUS_SERVICES ? { services: config.STATUS_SERVICES } : {}),
            });
        return gatewayScreen(gateway, status, clock());
      },
      setTradingState: async (state: TradingStateName, reason: string, actor: string, chatId: number) => {
        const key = changeKey({ state, reason, by: actor });
        setFromChat.set(key, chatId);
        const { value, auditProblems } = await setTradingState(
          { bus, db },
          state,
          reason,
          actor,
          'telegram',
        ).catch((error: unknown) => {
          setFromChat.delete(key);
          throw error;
        });
        log.info({ state, reason, actor, chatId }, 'trading state set from Telegram');
        const text = tradingStateNotice(value, clock());
        return auditProblems.length === 0
          ? text
          : `${text}\n⚠️ The change is made but its audit entry is incomplete:\n${auditProblems.map((p) => `• ${escapeHtml(p)}`).join('\n')}`;
      },
      reconcile: async (actor, chatId) => {
        const requestedAt = Date.now();
        const commandId = await requestReconciliation(bus, actor);
        const waiter = {
          chatId,
          requestedAt,
          timer: setTimeout(() => {
            reconcileWaiters.delete(waiter);
            void retrier.run('reconciliation', 'the /reconcile timeout answer', () =>
              tellChat(
                chatId,
                `reconcile-timeout:${commandId}`,
                `⚠️ No reconciliation result ${Math.round(config.NOTIFIER_RECONCILE_TIMEOUT_MS / 1000)} s after /reconcile: is execution running and holding the lease? (/status)`,
              ),
            );
          }, config.NOTIFIER_RECONCILE_TIMEOUT_MS),
        };
        reconcileWaiters.add(waiter);
        log.info({ actor, chatId, commandId }, 'reconciliation requested from Telegram');
        return 'Reconciliation requested; execution runs it and I send the result here.';
      },
      levels: (chatId) => router.levels(chatId),
      setLevel: (chatId, notification, level, actor) => router.setLevel(chatId, notification, level, actor),
      audit: async (action, actor, detail, auditId) => {
        // A stranger is audited once per chat, however often it writes.
        const id =
          auditId ??
          (action === 'telegram_refused'
            ? deterministicId('telegram_refused', String(detail.chatId))
            : undefined);
        await audit(action, actor, detail, id);
      },
      refusedChats: () => queries.refusedChats(),
    },
  });

  const service: NotifierService = {
    metrics,
    get healthUrl() {
      return health?.url;
    },

    async sendDailySummary() {
      const q = queries;
      const tradingDay = lastTradingDay(now());
      const since = new Date(tradingDay.startMs);
      const until = new Date(tradingDay.endMs);
      const [accounts, opening, fills, totals, positions, reconciliations, failed, tradingState] =
        await Promise.all([
          latestAccountSnapshots(db, until),
          q.netLiquidationAt(since),
          q.fillsByInstrument(since, until),
          q.fillTotals(since, until),
          openPositions(db),
          q.reconciliations(since, until),
          store.failedSince(since),
          (async () => (await (await tradingStateKv(bus)).get(KV_KEYS.tradingState))?.value ?? null)(),
        ]);
      const text = dailySummaryNotice(
        {
          tradingDay,
          timeZone: config.NOTIFIER_TIME_ZONE,
          accounts: accounts.map((account) => ({
            account: account.account,
            currency: account.currency,
            netLiquidation: account.netLiquidation,
            openingNetLiquidation: opening.get(account.account) ?? null,
            dailyPnl: account.dailyPnl,
            drawdownPct: account.drawdownPct,
            at: account.at,
          })),
          fills,
          realizedPnl: totals.realizedPnl,
          positions,
          tradingState,
          gateway: latestGateway,
          reconciliations,
          notificationsFailed: failed,
        },
        clock(),
      );
      // One summary per trading day, however often the schedule (or a retry) asks.
      await router.notify('daily_summary', tradingDay.day, { type: 'text', text });
    },

    async sendReauthReminder() {
      const reauth = upcomingReauth(now(), config.WEEKLY_REAUTH_DEADLINE_HOUR);
      await router.notify('reauth_reminder', new Date(reauth.resetAt).toISOString(), {
        type: 'text',
        text: reauthReminderNotice(latestGateway, reauth, clock()),
      });
    },

    async start() {
      await router.load();
      latestGateway = await readGatewayHealth(bus);

      await bot.start();

      consumers.push(
        await bus.consume(topics.fill, {
          durable: 'notifier-fills',
          deliverFrom: { policy: 'new' },
          maxDeliver: MAX_DELIVER,
          handler: async (fill) => {
            await router.notify('fills', fill.execId, { type: 'fill', fill });
          },
        }),
        await bus.consume(topics.orderEvent, {
          durable: 'notifier-order-events',
          deliverFrom: { policy: 'new' },
          maxDeliver: MAX_DELIVER,
          handler: async (event) => {
            if (!isRejection(event)) return;
            await router.notify('rejections', event.eventId, {
              type: 'text',
              text: rejectionNotice(event, clock()),
            });
          },
        }),
        await bus.consume(topics.reconciliationResult, {
          durable: 'notifier-reconciliation',
          deliverFrom: { policy: 'new' },
          maxDeliver: MAX_DELIVER,
          handler: onReconciliation,
        }),
        await bus.consume(topics.systemEvent, {
          durable: 'notifier-system-events',
          deliverFrom: { policy: 'new' },
          maxDeliver: MAX_DELIVER,
          handler: async (event) => {
            if (event.severity === 'info') return;
            const text = systemNotice(event, clock());
            if (text) await router.notify('system', event.eventId, { type: 'text', text });
          },
        }),
        await bus.consume(topics.gatewayHealth, {
          durable: 'notifier-gateway-health',
          deliverFrom: { policy: 'new' },
          maxDeliver: MAX_DELIVER,
          handler: async (healthMessage) => {
            if (!latestGateway || healthMessage.ts >= latestGateway.ts) latestGateway = healthMessage;
            const notice = gatewayNotice(healthMessage, clock());
            if (notice) await router.notify('gateway', notice.key, { type: 'text', text: notice.text });
          },
        }),
      );
      await watchTradingState(bus, store, router);
      sender.start();

      const schedule = (pattern: string | null, timezone: string, run: () => Promise<unknown>) => {
        if (!pattern) return;
        jobs.push(
          new Cron(pattern, { timezone, protect: true }, async () => {
            await run();
          }),
        );
      };
      schedule(config.DAILY_SUMMARY_CRON, config.NOTIFIER_TIME_ZONE, () =>
        retrier.run('daily_summary', 'the daily summary', () => service.sendDailySummary()),
      );
      // Unset, the reminder follows the re-authentication deadline, which is New York time.
      schedule(
        config.REAUTH_REMINDER_CRON === undefined
          ? reauthReminderCron(config.WEEKLY_REAUTH_DEADLINE_HOUR)
          : config.REAUTH_REMINDER_CRON,
        config.REAUTH_REMINDER_CRON === undefined ? NEW_YORK : config.NOTIFIER_TIME_ZONE,
        () =>
          retrier.run('reauth_reminder', 'the re-authentication reminder', () =>
            service.sendReauthReminder(),
          ),
      );
      const prune = setInterval(() => {
        store
          .prune(new Date(Date.now() - OUTBOX_RETENTION_MS))
          .catch((error: unknown) => log.warn({ err: error }, 'could not prune the outbox'));
      }, 3_600_000);
      prune.unref();
      timers.add(prune);

      if (deps.http ?? true) {
        health = await startHealthServer({
          port: config.HTTP_PORT,
          registry,
          checks: [
            { name: 'nats', check: () => bus.isConnected() },
            { name: 'postgres', check: () => database.ping() },
            { name: 'telegram', check: () => bot.isPolling() },
          ],
        });
      }
      log.info(
        { chats: config.TELEGRAM_CHATS.length, health: health?.url, timeZone: config.NOTIFIER_TIME_ZONE },
        'notifier started',
      );
    },

    async stop() {
      retrier.stop();
      for (const job of jobs.splice(0)) job.stop();
      for (const timer of timers) clearInterval(timer);
      for (const waiter of reconcileWaiters) clearTimeout(waiter.timer);
      reconcileWaiters.clear();
      await bot.stop();
      await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
      stopWatching?.();
      await watching;
      await sender.stop();
      await health?.close();
    },
  };
  return service;
}
