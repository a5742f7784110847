/**
 * Notifications end to end: events published on NATS → the notifier's durable consumers → the outbox in
 * Postgres → paced sends to a fake Telegram. Covers 429, a flood of fills, failures that are given up
 * loudly, restarts, and each kind of notice.
 */
import { type GatewayHealth, nowIso, type ReconciliationResult, topics } from '@ibstack/contracts';
import { type Database, type Kysely, sql } from '@ibstack/db';
import { setTradingState } from '@ibstack/operator';
import { eventually, makeFill, runningClockFrom } from '@ibstack/test-kit';

import { lastTradingDay } from '../../src/domain/trading-calendar';
import { ALICE, BOB, metricValue, type NotifierHarness, startNotifier } from './harness';

/**
 * Makes every insert into the outbox fail, as it does while Postgres is down for the notifier; returns the
 * function that lets them through again.
 */
async function blockOutbox(db: Kysely<Database>): Promise<() => Promise<void>> {
  await sql`create function notifier_test_block() returns trigger language plpgsql as $$
    begin raise exception 'the outbox is unavailable (test)'; end $$`.execute(db);
  await sql`create trigger notifier_test_block before insert on notifier_outbox
    for each statement execute function notifier_test_block()`.execute(db);
  return async () => {
    await sql`drop trigger notifier_test_block on notifier_outbox`.execute(db);
    await sql`drop function notifier_test_block()`.execute(db);
  };
}

describe('notifier notifications', () => {
  let h: NotifierHarness | undefined;

  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const outbox = () => h!.database.db.selectFrom('notifier_outbox').selectAll().orderBy('id').execute();
  const texts = (chatId: number) =>
    h!.telegram.callsOf('sendMessage', chatId).map((call) => String(call.params.text));

  let execSequence = 0;
  const fill = (overrides: Parameters<typeof makeFill>[0] = {}) =>
    makeFill({
      execId: `0000e0d5.6745a1b2.${String(++execSequence).padStart(4, '0')}.01`,
      ts: nowIso(),
      receivedAt: nowIso(),
      ...overrides,
    });

  it('tells every chat about a fill, once even when NATS delivers it twice', async () => {
    h = await startNotifier();
    const one = fill({ sleeve: 'demo', commission: '2.1', commissionCurrency: 'USD' });
    await h.testBus.bus.publish(topics.fill, one);
    // A republication under another message id reaches the consumer again: still one notification per chat.
    await h.testBus.bus.publish(topics.fill, one, { msgId: 'again' });
    await eventually(() => {
      expect(texts(ALICE.id)).toHaveLength(1);
      expect(texts(BOB.id)).toHaveLength(1);
    });
    expect(texts(ALICE.id)[0]).toContain('🟢 <b>Filled</b> BUY 20,000 <b>EURCAD</b> @ 1.48250');
    expect(texts(ALICE.id)[0]).toContain('sleeve demo · order 1 · commission 2.10 USD');
    await eventually(async () => expect((await outbox()).every((row) => row.sent_at !== null)).toBe(true));
    expect(await outbox()).toHaveLength(2);
  });

  it('waits out a 429 with its retry_after and then delivers, counted', async () => {
    h = await startNotifier();
    h.telegram.failNext('sendMessage', {
      status: 429,
      description: 'Too Many Requests: retry after 1',
      retryAfter: 1,
    });
    await h.testBus.bus.publish(topics.fill, fill());
    await eventually(
      async () => {
        const rows = await outbox();
        expect(rows).toHaveLength(2);
        expect(rows.every((row) => row.sent_at !== null)).toBe(true);
      },
      { timeoutMs: 15_000 },
    );
    const calls = h.telegram.callsOf('sendMessage');
    expect(calls).toHaveLength(3);
    const refusedChat = Number(calls[0]!.params.chat_id);
    const retry = calls.slice(1).find((call) => Number(call.params.chat_id) === refusedChat)!;
    expect(retry.at - calls[0]!.at).toBeGreaterThanOrEqual(1_000);
    await eventually(async () =>
      expect(await metricValue(h!.registry, 'notifier_telegram_rate_limited_total')).toBe(1),
    );
    await eventually(async () =>
      expect(await metricValue(h!.registry, 'notifier_notifications_failed_total')).toBe(0),
    );
  });

  it('batches a flood of fills into a few messages that account for every fill', async () => {
    h = await startNotifier({ TELEGRAM_CHAT_INTERVAL_MS: '1000', TELEGRAM_CHATS: `${ALICE.id}:operator` });
    const fills = Array.from({ length: 60 }, (_, i) =>
      fill({ side: i % 3 === 0 ? 'SELL' : 'BUY', quantity: '1000', price: i % 2 ? '1.48000' : '1.48100' }),
    );
    // The first message is held at Telegram until every fill is queued: the rest must then go as one.
    const release = h.telegram.holdNext('sendMessage');
    await Promise.all(fills.map((one) => h!.testBus.bus.publish(topics.fill, one)));
    await eventually(async () => expect(await outbox()).toHaveLength(60), { timeoutMs: 20_000 });
    release();
    await eventually(
      async () => expect((await outbox()).filter((row) => row.sent_at !== null)).toHaveLength(60),
      { timeoutMs: 20_000 },
    );
    const messages = texts(ALICE.id);
    expect(messages).toHaveLength(2);
    // Every fill is in exactly one message: counted in the header of a batch, or alone.
    const counted = messages.map((text) => Number(/^<b>(\d+) fills<\/b>/.exec(text)?.[1] ?? 1));
    expect(counted.reduce((sum, n) => sum + n, 0)).toBe(60);
    const batch = messages[counted.indexOf(Math.max(...counted))]!;
    expect(batch).toMatch(/🟢 BUY [\d,]+ <b>EURCAD<\/b> avg 1\.480\d+ \(\d+ fills\)/);
    expect(batch).toMatch(/🔴 SELL [\d,]+ <b>EURCAD<\/b> avg/);
    // One message a second at most.
    const at = h.telegram.callsOf('sendMessage', ALICE.id).map((call) => call.at);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(950);
    await eventually(async () =>
      expect(await metricValue(h!.registry, 'notifier_notifications_sent_total', { kind: 'fills' })).toBe(60),
    );
  });

  it('gives up on a chat that blocked the bot, loudly, and retries a server error until it is delivered', async () => {
    h = await startNotifier();
    h.telegram.failNext('sendMessage', {
      status: 403,
      description: 'Forbidden: bot was blocked by the user',
    });
    await h.testBus.bus.publish(topics.fill, fill());
    await eventually(async () => {
      const rows = await outbox();
      expect(rows.filter((row) => row.failed_at !== null)).toHaveLength(1);
      expect(rows.filter((row) => row.sent_at !== null)).toHaveLength(1);
    });
    const failed = (await outbox()).find((row) => row.failed_at !== null)!;
    expect(failed.last_error).toContain('403 Forbidden: bot was blocked by the user');
    await eventually(async () =>
      expect(
        await metricValue(h!.registry, 'notifier_notifications_failed_total', {
          kind: 'fills',
          reason: 'forbidden',
        }),
      ).toBe(1),
    );

    h.telegram.failNext('sendMessage', { status: 502, description: 'Bad Gateway' }, 2);
    await h.testBus.bus.publish(topics.fill, fill());
    await eventually(async () =>
      expect((await outbox()).filter((row) => row.sent_at !== null)).toHaveLength(3),
    );
    await eventually(async () =>
      expect(
        await metricValue(h!.registry, 'notifier_notification_retries_total', { reason: 'server_error' }),
      ).toBe(2),
    );
    await eventually(async () =>
      expect(await metricValue(h!.registry, 'notifier_notifications_failed_total')).toBe(1),
    );
  });

  it('gives up a notification that stays undeliverable past its age limit, counted as gave_up', async () => {
    h = await startNotifier({ NOTIFIER_GIVE_UP_AFTER_MS: '1000', TELEGRAM_CHATS: `${ALICE.id}:operator` });
    h.telegram.failNext('sendMessage', { status: 500, description: 'Internal Server Error' }, 100);
    await h.testBus.bus.publish(topics.fill, fill());
    await eventually(
      async () => {
        expect((await outbox())[0]?.failed_at).toBeInstanceOf(Date);
        expect(
          await metricValue(h!.registry, 'notifier_notifications_failed_total', { reason: 'gave_up' }),
        ).toBe(1);
      },
      { timeoutMs: 10_000 },
    );
  });

  it('delivers after a restart what Telegram had not taken before it', async () => {
    h = await startNotifier({ TELEGRAM_CHATS: `${ALICE.id}:operator`, NOTIFIER_RETRY_BASE_MS: '60000' });
    h.telegram.failNext('sendMessage', { status: 500, description: 'Internal Server Error' });
    await h.testBus.bus.publish(topics.fill, fill());
    await eventually(async () => expect((await outbox())[0]?.attempts).toBe(1));
    expect(texts(ALICE.id)).toHaveLength(1); // the failed attempt
    // The retry is a minute away; a restart (a deploy, a crash) must not lose it. The new instance's first
    // sweep finds it due once its time has come: make it due now, as if that minute had passed.
    await h.database.db.updateTable('notifier_outbox').set({ next_attempt_at: new Date() }).execute();
    await h.restart({ NOTIFIER_RETRY_BASE_MS: '50' });
    await eventually(async () => expect((await outbox())[0]?.sent_at).toBeInstanceOf(Date));
    expect(texts(ALICE.id)).toHaveLength(2);
  });

  it('tells rejections, reconciliation mismatches and warnings, but not routine events', async () => {
    h = await startNotifier({ TELEGRAM_CHATS: `${ALICE.id}:operator` });
    const bus = h.testBus.bus;
    const base = {
      v: 1 as const,
      brokerOrderId: 42,
      instrument: 'EURCAD',
      side: 'BUY' as const,
      quantity: '20000',
      filledQuantity: '0',
      remainingQuantity: '20000',
      ts: nowIso(),
    };
    await bus.publish(topics.orderEvent, { ...base, eventId: 'submitted-42', status: 'submitted' });
    await bus.publish(topics.orderEvent, {
      ...base,
      eventId: 'rejected-42',
      status: 'rejected',
      errorCode: 201,
      reason: 'Order rejected - reason: <insufficient margin>',
      sleeve: 'demo',
    });
    await bus.publish(topics.systemEvent, {
      v: 1,
      eventId: 'e1',
      service: 'ingestor',
      severity: 'info',
      code: 'market_data_resumed',
      message: 'Ticks flow again',
      ts: nowIso(),
    });
    await bus.publish(topics.systemEvent, {
      v: 1,
      eventId: 'e2',
      service: 'ingestor',
      severity: 'warning',
      code: 'market_data_stale',
      message: 'No tick for EUR.CAD for 75 s while its market is open',
      ts: nowIso(),
    });
    const clean: ReconciliationResult = {
      v: 1,
      runId: 'run-clean',
      trigger: 'periodic',
      ok: true,
      mismatches: [],
      positionsChecked: 1,
      openOrdersChecked: 0,
      executionsChecked: 3,
      startedAt: nowIso(),
      finishedAt: nowIso(),
    };
    await bus.publish(topics.reconciliationResult, clean);
    await bus.publish(topics.reconciliationResult, {
      ...clean,
      runId: 'run-bad',
      ok: false,
      mismatches: [
        {
          kind: 'position_quantity',
          instrument: 'EURCAD',
          local: '20000',
          broker: '0',
          detail: 'broker holds nothing',
        },
      ],
    });
    await eventually(() => expect(texts(ALICE.id)).toHaveLength(3));
    // Each kind comes from its own consumer, so their order is not fixed.
    const find = (start: string) => texts(ALICE.id).find((text) => text.startsWith(start)) ?? '';
    const [rejection, warning, mismatch] = [find('⛔'), find('⚠️ <b>ingestor'), find('⚠️ <b>Reconciliation')];
    expect(rejection).toContain('⛔ <b>Order rejected</b> BUY 20,000 <b>EURCAD</b>');
    expect(rejection).toContain('IB 201: Order rejected - reason: &lt;insufficient margin&gt;');
    expect(warning).toContain('⚠️ <b>ingestor</b>: market data stale');
    expect(mismatch).toContain('Reconciliation: 1 mismatch</b>');
    expect(mismatch).toContain('• position_quantity EURCAD (ours 20000, broker 0): broker holds nothing');
  });

  it('tells a gateway change once (heartbeats repeat it) and its recovery', async () => {
    h = await startNotifier({ TELEGRAM_CHATS: `${ALICE.id}:operator` });
    const since = new Date(Date.now() - 5_000).toISOString();
    const pending: GatewayHealth = {
      v: 1,
      state: 'two_factor_pending',
      since,
      previous: 'logged_out',
      inResetWindow: false,
      ready: false,
      tradingMode: 'paper',
      ts: nowIso(),
    };
    await h.testBus.bus.publish(topics.gatewayHealth, pending);
    await h.testBus.bus.publish(topics.gatewayHealth, {
      ...pending,
      ts: new Date(Date.now() + 1).toISOString(),
    });
    await h.testBus.bus.publish(topics.gatewayHealth, {
      ...pending,
      state: 'logged_in',
      previous: 'two_factor_pending',
      since: nowIso(),
      ready: true,
      lastLoginAt: nowIso(),
      ts: new Date(Date.now() + 2).toISOString(),
    });
    await eventually(() =>
      expect(texts(ALICE.id).some((text) => text.includes('Gateway logged in'))).toBe(true),
    );
    expect(texts(ALICE.id).filter((text) => text.includes('Two-factor approval pending'))).toHaveLength(1);
    expect(texts(ALICE.id)[0]).toContain('approve the IB Gateway login on IBKR Mobile');

    h.telegram.sendText({ id: ALICE.id }, ALICE, '/gateway');
    await eventually(() =>
      expect(texts(ALICE.id).some((text) => text.startsWith('<b>Gateway</b>'))).toBe(true),
    );
    const screen = texts(ALICE.id).find((text) => text.startsWith('<b>Gateway</b>'))!;
    expect(screen).toContain('State: ✅ <b>logged in</b>');
    expect(screen).toContain('Two-factor pending: no');
    expect(screen).toMatch(/Last login: \d\d:\d\d:\d\d/);
  });

  it('sends the daily summary silently by default, and the weekly re-authentication reminder', async () => {
    // Pinned to 17:30 New York, the summary's default time: on the wall clock, a run crossing the 17:00 roll
    // between the day computed here and the one the service computes told a different day.
    const clock = runningClockFrom('2026-11-25T22:30:00.000Z');
    h = await startNotifier({ TELEGRAM_CHATS: `${ALICE.id}:operator` }, { clock });
    // The summary tells the trading day that closed last: its last snapshot, not one of the day now running.
    const day = lastTradingDay(clock());
    expect(day.day).toBe('2026-11-25');
    const snapshot = (ts: number, dailyPnl: string, nav: string) => ({
      account: 'DU1234567',
      currency: 'USD',
      ts: new Date(ts),
      net_liquidation: nav,
      cash: '50000',
      realized_pnl: '0',
      unrealized_pnl: '0',
      daily_pnl: dailyPnl,
      daily_return_pct: '0',
      high_water_mark: '101000',
      drawdown_pct: '0',
    });
    await h.database.db
      .insertInto('account_snapshots')
      .values([
        snapshot(day.startMs + 60_000, '1.00', '100000'),
        snapshot(day.endMs - 60_000, '321.00', '100321'),
        snapshot(day.endMs + 60_000, '5.00', '100326'),
      ])
      .execute();
    await h.service.sendDailySummary();
    await h.service.sendReauthReminder();
    await eventually(() => expect(h!.telegram.callsOf('sendMessage', ALICE.id)).toHaveLength(2));
    const [summary, reminder] = h.telegram.callsOf('sendMessage', ALICE.id);
    expect(summary!.params.text).toContain(`📊 <b>Daily summary</b> · trading day ${day.day}`);
    expect(summary!.params.text).toContain(
      'DU1234567: P&amp;L +321.00 USD · NAV 100,321.00 (+321.00 over the day)',
    );
    expect(summary!.params.disable_notification).toBe(true);
    expect(reminder!.params.text).toContain('🔔 <b>Weekly IBKR re-authentication</b>');
    expect(reminder!.params.disable_notification).toBe(false);
  });

  it('runs the daily summary on its schedule', async () => {
    h = await startNotifier({ TELEGRAM_CHATS: `${ALICE.id}:operator`, DAILY_SUMMARY_CRON: '* * * * * *' });
    await eventually(
      () => expect(texts(ALICE.id).some((text) => text.includes('Daily summary'))).toBe(true),
      {
        timeoutMs: 5_000,
      },
    );
  });

  it('respects a chat that turned fills off', async () => {
    h = await startNotifier();
    h.telegram.sendText({ id: BOB.id }, BOB, '/notify fills off');
    await eventually(() => expect(texts(BOB.id).some((text) => text.includes('fills: off'))).toBe(true));
    await h.testBus.bus.publish(topics.fill, fill());
    await h.testBus.bus.publish(topics.systemEvent, {
      v: 1,
      eventId: 'later',
      service: 'strategy',
      severity: 'critical',
      code: 'sleeve_paused',
      message: 'demo paused',
      ts: nowIso(),
    });
    await eventually(() => expect(texts(BOB.id).some((text) => text.includes('sleeve paused'))).toBe(true));
    // Both chats' rows of one event are written together: alice's fill being sent proves bob's was decided.
    await eventually(() => expect(texts(ALICE.id).some((text) => text.includes('Filled'))).toBe(true));
    expect((await outbox()).filter((row) => row.kind === 'fills').map((row) => Number(row.chat_id))).toEqual([
      ALICE.id,
    ]);
    expect(texts(BOB.id).some((text) => text.includes('Filled'))).toBe(false);
  });

  it('tells a trading state change that could not be queued at first, once the outbox takes it, counted', async () => {
    h = await startNotifier({ TELEGRAM_CHATS: `${ALICE.id}:operator` });
    const unblock = await blockOutbox(h.database.db);
    // The CLI's path: KV first, so the halt holds while the notifier cannot queue its notice.
    await setTradingState({ bus: h.testBus.bus, db: h.database.db }, 'HALTED', 'outbox down', 'cli:ops');
    await eventually(async () =>
      expect(
        await metricValue(h!.registry, 'notifier_enqueue_failures_total', { kind: 'trading_state' }),
      ).toBeGreaterThanOrEqual(1),
    );
    await unblock();
    await eventually(() =>
      expect(texts(ALICE.id).some((text) => text.includes('Trading HALTED'))).toBe(true),
    );
    expect(texts(ALICE.id).filter((text) => text.includes('Trading HALTED'))).toHaveLength(1);
  });

  it('tells a trading state change missed while stopping at the next start', async () => {
    h = await startNotifier({ TELEGRAM_CHATS: `${ALICE.id}:operator` });
    // A change told before, so the restart below is not the notifier's first.
    await setTradingState({ bus: h.testBus.bus, db: h.database.db }, 'REDUCING', 'earlier', 'cli:ops');
    await eventually(() =>
      expect(texts(ALICE.id).some((text) => text.includes('Trading REDUCING'))).toBe(true),
    );
    const unblock = await blockOutbox(h.database.db);
    await setTradingState({ bus: h.testBus.bus, db: h.database.db }, 'HALTED', 'told late', 'cli:ops');
    await eventually(async () =>
      expect(
        await metricValue(h!.registry, 'notifier_enqueue_failures_total', { kind: 'trading_state' }),
      ).toBeGreaterThanOrEqual(1),
    );
    await h.service.stop();
    await unblock();
    await h.restart();
    await eventually(() => expect(texts(ALICE.id).some((text) => text.includes('told late'))).toBe(true));
  });

  it('answers /reconcile even when the result came while the outbox was unavailable', async () => {
    h = await startNotifier({ TELEGRAM_CHATS: `${ALICE.id}:operator` });
    const requestedAt = nowIso();
    h.telegram.sendText({ id: ALICE.id }, ALICE, '/reconcile');
    await eventually(() =>
      expect(texts(ALICE.id).some((text) => text.includes('Reconciliation requested'))).toBe(true),
    );
    const unblock = await blockOutbox(h.database.db);
    await h.testBus.bus.publish(topics.reconciliationResult, {
      v: 1,
      runId: 'asked-run',
      trigger: 'operator',
      ok: true,
      mismatches: [],
      positionsChecked: 2,
      openOrdersChecked: 0,
      executionsChecked: 4,
      startedAt: requestedAt,
      finishedAt: nowIso(),
    });
    await eventually(async () =>
      expect(await metricValue(h!.registry, 'bus_handler_errors_total')).toBeGreaterThanOrEqual(1),
    );
    await unblock();
    await eventually(() =>
      expect(texts(ALICE.id).some((text) => text.includes('Reconciliation clean'))).toBe(true),
    );
  });
});
