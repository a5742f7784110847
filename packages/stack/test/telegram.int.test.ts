/**
 * The promise, through `npm start`: a user adds the bot token and chat id; from their phone they
 * see fills as they happen, ask /pnl, halt and resume trading; a stranger who finds the bot gets nothing
 * but one refusal. Telegram is a local fake; everything else is the real stack against the gateway-sim.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Bus } from '@ibstack/bus';
import { KV_KEYS, TradingState } from '@ibstack/contracts';
import { createRegistry } from '@ibstack/observability';
import {
  dropDatabase,
  eventually,
  FAKE_TELEGRAM_TOKEN,
  type FakeTelegram,
  freePort,
  freePortRange,
  silentLogger,
  spawnTs,
  type SpawnedProcess,
  startFakeTelegram,
  testEnvironment,
  uniqueSuffix,
} from '@ibstack/test-kit';

const START = join(__dirname, '..', 'src', 'cli', 'start.ts');
const ALICE = { id: 424_242, username: 'alice' };
const STRANGER = { id: 666, username: 'stranger' };

describe('the Telegram bot under npm start', () => {
  const databaseName = `ibstack_test_${uniqueSuffix()}`;
  const namespace = `t${uniqueSuffix()}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'ibstack-telegram-'));
  let telegram: FakeTelegram;
  let runner: SpawnedProcess | undefined;
  let bus: Bus | undefined;
  let databaseUrl: string;

  beforeAll(async () => {
    telegram = await startFakeTelegram({ token: FAKE_TELEGRAM_TOKEN });
    writeFileSync(join(stateDir, 'telegram_bot_token'), `${FAKE_TELEGRAM_TOKEN}\n`, { mode: 0o600 });
    const base = new URL(testEnvironment().databaseUrl);
    base.pathname = `/${databaseName}`;
    databaseUrl = base.toString();
  });

  afterAll(async () => {
    await runner?.kill('SIGTERM');
    await bus?.destroyNamespace().catch(() => undefined);
    await bus?.close();
    await telegram.close();
    await dropDatabase(databaseUrl, databaseName).catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  });

  const texts = () => telegram.textsTo(ALICE.id);

  it('tells fills, answers /pnl, halts and resumes from the phone, and refuses a stranger once', async () => {
    const httpBase = await freePortRange(7);
    runner = spawnTs(START, [], {
      DATABASE_URL: databaseUrl,
      NATS_URL: testEnvironment().natsUrl,
      BUS_NAMESPACE: namespace,
      IB_PORT: String(await freePort()),
      STACK_HTTP_PORT_BASE: String(httpBase),
      STACK_STATE_DIR: stateDir,
      SIM_SPEED: '30',
      BACKFILL_DAYS: '0.05',
      LOG_LEVEL: 'info',
      NO_COLOR: '1',
      TELEGRAM_BOT_TOKEN_FILE: join(stateDir, 'telegram_bot_token'),
      TELEGRAM_CHATS: `${ALICE.id}:operator`,
      TELEGRAM_API_ROOT: telegram.url,
    });
    await runner.waitForLine('all services ready', 180_000);
    expect(
      runner.lines.some((line) => line.includes(`notifier ready (http://127.0.0.1:${httpBase + 5})`)),
    ).toBe(true);
    bus = await Bus.connect({
      url: testEnvironment().natsUrl,
      name: 'telegram-e2e',
      namespace,
      logger: silentLogger(),
      registry: createRegistry('e2e', { defaultMetrics: false }),
    });

    // The demo sleeve trades; its fills reach the phone.
    await eventually(
      () => expect(texts().some((text) => /Filled<\/b>|\d+ fills<\/b>/.test(text))).toBe(true),
      {
        timeoutMs: 120_000,
        intervalMs: 500,
      },
    );

    telegram.sendText({ id: ALICE.id }, ALICE, '/pnl');
    await eventually(() => expect(texts().some((text) => text.includes('<b>P&amp;L today</b>'))).toBe(true), {
      timeoutMs: 20_000,
    });

    const kv = await bus.kv('trading', TradingState, { history: 10 });
    for (const [command, state] of [
      ['halt', 'HALTED'],
      ['resume', 'RUNNING'],
    ] as const) {
      const asked = telegram.callsOf('sendMessage', ALICE.id).length;
      telegram.sendText({ id: ALICE.id }, ALICE, `/${command} e2e from the phone`);
      const question = await eventually(() => {
        const call = telegram
          .callsOf('sendMessage', ALICE.id)
          .slice(asked)
          .find((c) => c.params.reply_markup);
        if (!call) throw new Error('no confirmation question yet');
        return call;
      });
      const [confirm] = (
        question.params.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> }
      ).inline_keyboard[0]!;
      telegram.pressButton({ id: ALICE.id }, ALICE, 9, confirm!.callback_data);
      await eventually(async () =>
        expect((await kv.get(KV_KEYS.tradingState))?.value).toMatchObject({
          state,
          by: `telegram:@alice (${ALICE.id})`,
        }),
      );
    }

    telegram.sendText({ id: STRANGER.id }, STRANGER, '/halt');
    telegram.sendText({ id: STRANGER.id }, STRANGER, '/status');
    telegram.sendText({ id: ALICE.id }, ALICE, '/help');
    await eventually(() => expect(texts().some((text) => text.includes('ibstack bot'))).toBe(true));
    expect(telegram.messagesTo(STRANGER.id)).toHaveLength(1);
    expect((await kv.get(KV_KEYS.tradingState))?.value.state).toBe('RUNNING');
  }, 300_000);
});
