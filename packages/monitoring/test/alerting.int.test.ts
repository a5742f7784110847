/**
 * End to end with the real binaries: the stack (runner of `npm start`, gateway-sim) → Debian's
 * Prometheus 2.42 with the production rules → Debian's Alertmanager 0.25 with the production routes,
 * inhibitions and message (started through its container entrypoint) → a fake Telegram Bot API.
 * Faults injected through the gateway-sim's admin API make the expected alerts arrive with the expected
 * text and then resolve; an alert that is inhibited while its cause fires never arrives.
 *
 * Short intervals: scrapes and evaluations every second, every rule's `for` and every route timing at
 * a tenth of production, the ingestor's staleness threshold at 3 s and reconciliation every 3 s.
 * IBKR's reset windows are emptied: IBGatewayDown is silent inside them by design, and this test must
 * not depend on the hour it runs at (a CI run between 00:15 and 01:45 New York once saw no alert).
 */
import { join } from 'node:path';

import {
  eventually,
  type FakeTelegram,
  spawnTs,
  startFakeTelegram,
  telegramHtmlProblem,
  testEnvironment,
  type TelegramMessage,
} from '@ibstack/test-kit';

import {
  type LocalAlertmanager,
  type LocalPrometheus,
  type LocalStack,
  REPO_ROOT,
  simFault,
  startAlertmanager,
  startLocalStack,
  startPrometheus,
} from '../src';

const BOT_TOKEN = '424242:e2e-token';
const CHAT_ID = -1001234567890;
const SCALE = 0.1;
/** A case waits for several alerts in turn (27 s on an idle machine for the stall): room for a loaded one. */
const CASE_TIMEOUT_MS = 240_000;

describe('alerts end to end: gateway-sim faults → Prometheus → Alertmanager → Telegram', () => {
  let telegram: FakeTelegram;
  let stack: LocalStack | undefined;
  let alertmanager: LocalAlertmanager | undefined;
  let prometheus: LocalPrometheus | undefined;

  const firing = (name: string) => (message: TelegramMessage) =>
    message.text.startsWith('🔴 <b>FIRING</b>') && message.text.includes(`<b>${name}</b>`);
  const resolved = (name: string) => (message: TelegramMessage) =>
    message.text.startsWith('✅ <b>RESOLVED</b>') && message.text.includes(`<b>${name}</b>`);
  const waitFor = async (match: (message: TelegramMessage) => boolean, what: string, timeoutMs = 90_000) =>
    eventually(
      () => {
        const found = telegram.messages.find(match);
        if (!found)
          throw new Error(
            `no Telegram message: ${what}; got:\n${telegram.messages.map((m) => m.text.split('\n').slice(0, 3).join(' | ')).join('\n')}`,
          );
        return found;
      },
      { timeoutMs, intervalMs: 200 },
    );
  const prometheusAlert = async (name: string) =>
    (await prometheus!.alerts()).find((alert) => alert.labels.alertname === name && alert.state === 'firing');

  beforeAll(async () => {
    telegram = await startFakeTelegram({ token: BOT_TOKEN });
    stack = await startLocalStack({
      speed: 30,
      env: {
        STALE_AFTER_MS: '3000',
        RECONCILE_INTERVAL_MS: '3000',
        RESET_WINDOWS_JSON: JSON.stringify({ north_america: [], europe: [], asia: [] }),
      },
    });
    alertmanager = await startAlertmanager({
      telegramApiUrl: telegram.url,
      botToken: BOT_TOKEN,
      chatId: CHAT_ID,
      timeScale: SCALE,
    });
    prometheus = await startPrometheus({
      targets: stack.targets,
      alertmanager: alertmanager.address,
      scrapeInterval: '1s',
      evaluationInterval: '1s',
      forScale: SCALE,
      resendDelay: '1s',
    });
    // Every service scraped, and the market data flowing, before any fault.
    await eventually(
      async () => {
        const up = await prometheus!.query('up');
        expect(up.map((sample) => [sample.metric.job, sample.value]).sort()).toEqual(
          stack!.services.map((service) => [service.name, 1]).sort(),
        );
        expect(await prometheus!.query('md_last_tick_unix > time() - 3')).not.toHaveLength(0);
        // Outside any reset window, whatever the hour: a gateway that stops is an alert.
        expect(
          (await prometheus!.query('max(gateway_in_reset_window)')).map((sample) => sample.value),
        ).toEqual([0]);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  }, 300_000);

  let stallOn = false;
  afterEach(async () => {
    if (stallOn) {
      await simFault(stack!.simUrl, 'stall', { on: false });
      stallOn = false;
    }
  });

  afterAll(async () => {
    await prometheus?.stop();
    await alertmanager?.stop();
    await stack?.stop();
    await telegram?.close();
  });

  it(
    'a stalled gateway: "gateway down" arrives, then resolves; stale market data is inhibited and never arrives',
    async () => {
      await simFault(stack!.simUrl, 'stall', { on: true });
      // Whatever fails below, the gateway comes back for the next case.
      stallOn = true;

      const down = await waitFor(firing('IBGatewayDown'), 'IBGatewayDown firing');
      expect(down.chatId).toBe(String(CHAT_ID));
      expect(down.parseMode).toBe('HTML');
      expect(telegramHtmlProblem(down.text)).toBeUndefined();
      expect(down.text).toContain('<b>IBGatewayDown</b> · critical');
      // Every service holding a session counts: the ingestor, execution (while it holds the lease) and
      // the gateway supervisor's probe. Whichever crosses the 30 s first is the one in the first message.
      expect(down.text).toMatch(/(ingestor|execution|gateway-supervisor) has no session with the IB gateway/);
      expect(down.text).toContain('Runbook: infra/runbooks/alerts.md#ibgatewaydown');

      // Market data goes stale too, and Prometheus fires it, but Alertmanager holds it back.
      await eventually(
        async () => {
          expect(await prometheusAlert('MarketDataStale')).toBeDefined();
          const held = (await alertmanager!.alerts()).find(
            (alert) => alert.labels.alertname === 'MarketDataStale',
          );
          expect(held?.status.state).toBe('suppressed');
          expect(held?.status.inhibitedBy.length).toBeGreaterThan(0);
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );

      await simFault(stack!.simUrl, 'stall', { on: false });
      stallOn = false;
      const back = await waitFor(resolved('IBGatewayDown'), 'IBGatewayDown resolved');
      expect(back.text).not.toContain('FIRING');
      expect(telegramHtmlProblem(back.text)).toBeUndefined();
      // The resolved gateway alert came after market data had recovered (it keeps firing a while for
      // that), so the silenced alert had no moment to slip through.
      expect(await prometheusAlert('MarketDataStale')).toBeUndefined();
      expect(telegram.messages.filter((message) => message.text.includes('MarketDataStale'))).toEqual([]);
    },
    CASE_TIMEOUT_MS,
  );

  it(
    'drift at the broker: the mismatch and the halt arrive with the reason, then resolve after the fix and a resume',
    async () => {
      await simFault(stack!.simUrl, 'drift-position', { instrument: 'EUR.CAD', quantity: 5000 });

      const halted = await waitFor(firing('TradingHalted'), 'TradingHalted firing');
      expect(halted.text).toMatch(/Trading is halted: reconciliation mismatch \(\d+\): .*EURCAD/);
      expect(halted.text).toContain('halted by execution');
      expect(telegramHtmlProblem(halted.text)).toBeUndefined();
      const mismatch = await waitFor(firing('ReconciliationMismatch'), 'ReconciliationMismatch firing');
      // Which position kind depends on what the demo sleeve holds in EURCAD at that moment (none, or some);
      // a drift moves the broker's cash as a trade would, so cash_balance may come along in the same message.
      expect(mismatch.text).toMatch(
        /Our books disagree with the broker: 1 × position_(quantity|unknown_locally|unknown_at_broker)\n/,
      );

      // The operator puts the position back and resumes.
      await simFault(stack!.simUrl, 'drift-position', { instrument: 'EUR.CAD', quantity: -5000 });
      await waitFor(resolved('ReconciliationMismatch'), 'ReconciliationMismatch resolved');
      const cli = spawnTs(
        join(REPO_ROOT, 'packages', 'stack', 'src', 'cli', 'ibstack.ts'),
        ['resume', 'e2e: drift put back'],
        {
          DATABASE_URL: stack!.database.url,
          NATS_URL: testEnvironment().natsUrl,
          BUS_NAMESPACE: stack!.bus.namespace,
          IBSTACK_OPERATOR: 'e2e-test',
          NO_COLOR: '1',
        },
      );
      expect((await cli.exited).code).toBe(0);
      await waitFor(resolved('TradingHalted'), 'TradingHalted resolved');
    },
    CASE_TIMEOUT_MS,
  );

  it('sent nothing but these alerts, all to the configured chat with the configured token', () => {
    const names = new Set(
      telegram.messages.flatMap((message) =>
        [...message.text.matchAll(/^<b>(\w+)<\/b> · /gm)].map((found) => found[1]),
      ),
    );
    expect([...names].sort()).toEqual(['IBGatewayDown', 'ReconciliationMismatch', 'TradingHalted']);
    expect(telegram.messages.every((message) => message.chatId === String(CHAT_ID))).toBe(true);
    expect(telegram.calls.every((call) => call.token === BOT_TOKEN && call.method === 'sendMessage')).toBe(
      true,
    );
  });
});
