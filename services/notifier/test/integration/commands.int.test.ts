/**
 * The bot's commands end to end: fake Telegram → grammY long polling → the chat gate and roles → the
 * operator control path → NATS KV and the audit log, with the real Postgres and NATS.
 */
import { writeFileSync } from 'node:fs';

import { ControlCommand, KV_KEYS, nowIso, subjects, topics, TradingState } from '@ibstack/contracts';
import { setTradingState } from '@ibstack/operator';
import { eventually } from '@ibstack/test-kit';

import {
  ALICE,
  BOB,
  MALLORY,
  metricValue,
  type NotifierHarness,
  OPERATOR_CHAT,
  startNotifier,
  STRANGER_CHAT,
  VIEWER_CHAT,
} from './harness';

const GROUP_CHAT = { id: -1_001_234_567_890, type: 'supergroup' as const };

describe('notifier commands', () => {
  let h: NotifierHarness;

  beforeEach(async () => {
    h = await startNotifier();
  });

  afterEach(async () => {
    await h.close();
  });

  const tradingState = async () =>
    (await (await h.testBus.bus.kv('trading', TradingState, { history: 10 })).get(KV_KEYS.tradingState))
      ?.value ?? null;

  const auditRows = (action: string) =>
    h.database.db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();

  /** Waits for a text to `chatId` matching `pattern` and returns it. */
  const textTo = (chatId: number, pattern: RegExp) =>
    eventually(() => {
      const text = h.telegram.textsTo(chatId).find((candidate) => pattern.test(candidate));
      if (!text)
        throw new Error(
          `no text matching ${String(pattern)} to ${chatId}; got ${JSON.stringify(h.telegram.textsTo(chatId))}`,
        );
      return text;
    });

  it('answers /status in a configured chat with the compact status screen', async () => {
    h.telegram.sendText(OPERATOR_CHAT, ALICE, '/status');
    const text = await textTo(ALICE.id, /ibstack/);
    // A new database holds RUNNING (migration 0011), which the screen shows with its origin.
    expect(text).toMatch(/Trading: ✅ <b>RUNNING<\/b> · new database/);
    expect(text).toContain('Services: gateway-sim');
    expect(text).toContain('Reconciliation: none yet');
    const call = h.telegram.callsOf('sendMessage', ALICE.id).at(-1)!;
    expect(call.params.parse_mode).toBe('HTML');
  });

  it('refuses a stranger once, audits it once, and then ignores the chat', async () => {
    h.telegram.sendText(STRANGER_CHAT, MALLORY, '/status');
    h.telegram.sendText(STRANGER_CHAT, MALLORY, '/halt let me in');
    h.telegram.sendText(STRANGER_CHAT, MALLORY, 'hello?');
    // Updates are handled in order: once the viewer's later /help is answered, the stranger's three are done.
    h.telegram.sendText(VIEWER_CHAT, BOB, '/help');
    await textTo(BOB.id, /ibstack bot/);

    const toStranger = h.telegram.messagesTo(MALLORY.id);
    expect(toStranger).toHaveLength(1);
    expect(toStranger[0]!.params.text).toContain(`this chat (id ${MALLORY.id}) is not one it serves`);
    const refused = await auditRows('telegram_refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ actor: `telegram:@mallory (${MALLORY.id})` });
    expect(refused[0]!.detail).toMatchObject({ chatId: MALLORY.id, via: 'telegram' });
    expect(await metricValue(h.registry, 'notifier_refused_updates_total')).toBe(3);
    expect(await tradingState()).toBeNull();
  });

  it('still refuses no stranger twice after a restart', async () => {
    h.telegram.sendText(STRANGER_CHAT, MALLORY, '/status');
    await eventually(() => expect(h.telegram.messagesTo(MALLORY.id)).toHaveLength(1));
    await h.restart();
    h.telegram.sendText(STRANGER_CHAT, MALLORY, '/status');
    h.telegram.sendText(VIEWER_CHAT, BOB, '/help');
    await eventually(() =>
      expect(h.telegram.textsTo(BOB.id).some((text) => text.includes('ibstack bot'))).toBe(true),
    );
    expect(h.telegram.messagesTo(MALLORY.id)).toHaveLength(1);
    expect(await auditRows('telegram_refused')).toHaveLength(1);
  });

  it('denies /halt to a viewer chat, changes nothing and audits the attempt', async () => {
    h.telegram.sendText(VIEWER_CHAT, BOB, '/halt I want to stop it');
    const text = await textTo(BOB.id, /needs an operator chat/);
    expect(text).toContain('Nothing was changed');
    expect(
      h.telegram.callsOf('sendMessage', BOB.id).every((call) => call.params.reply_markup === undefined),
    ).toBe(true);
    expect(await tradingState()).toBeNull();
    const denied = await auditRows('telegram_denied');
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ actor: `telegram:@bob (${BOB.id})` });
    expect(denied[0]!.detail).toMatchObject({ command: 'halt', role: 'viewer' });
    expect(
      await metricValue(h.registry, 'notifier_commands_total', { command: 'halt', outcome: 'denied' }),
    ).toBe(1);
  });

  /** Sends `/<command> <reason>` as alice and presses the Confirm button; returns the edited text. */
  async function confirmed(command: 'halt' | 'resume', reason: string): Promise<string> {
    const before = h.telegram.callsOf('sendMessage', ALICE.id).length;
    h.telegram.sendText(OPERATOR_CHAT, ALICE, `/${command} ${reason}`);
    const question = await eventually(() => {
      const call = h.telegram.callsOf('sendMessage', ALICE.id)[before];
      if (!call) throw new Error('no confirmation question yet');
      return call;
    });
    const keyboard = (
      question.params.reply_markup as {
        inline_keyboard: Array<Array<{ text: string; callback_data: string }>>;
      }
    ).inline_keyboard[0]!;
    expect(keyboard.map((button) => button.text)).toEqual([
      command === 'halt' ? '🛑 Confirm halt' : '✅ Confirm resume',
      'Cancel',
    ]);
    const editsBefore = h.telegram.callsOf('editMessageText', ALICE.id).length;
    h.telegram.pressButton(OPERATOR_CHAT, ALICE, 77, keyboard[0]!.callback_data);
    const edit = await eventually(() => {
      const call = h.telegram.callsOf('editMessageText', ALICE.id)[editsBefore];
      if (!call) throw new Error('confirmation not answered yet');
      return call;
    });
    expect(edit.params.message_id).toBe(77);
    return String(edit.params.text);
  }

  it('halts and resumes from an operator chat with a confirm button, through the control path, audited', async () => {
    // Asking alone changes nothing.
    h.telegram.sendText(OPERATOR_CHAT, ALICE, '/halt');
    await textTo(ALICE.id, /Give a reason/);

    const halted = await confirmed('halt', 'broker maintenance tonight');
    expect(halted).toContain('Trading HALTED');
    expect(halted).toContain('broker maintenance tonight');
    expect(await tradingState()).toMatchObject({
      state: 'HALTED',
      reason: 'broker maintenance tonight',
      by: `telegram:@alice (${ALICE.id})`,
    });
    // The other chats are told; the chat that halted saw it in its confirmation.
    const told = await textTo(BOB.id, /Trading HALTED/);
    expect(told).toContain(`by telegram:@alice (${ALICE.id})`);

    const resumed = await confirmed('resume', 'maintenance over');
    expect(resumed).toContain('Trading RUNNING');
    expect(await tradingState()).toMatchObject({ state: 'RUNNING', reason: 'maintenance over' });
    await textTo(BOB.id, /Trading RUNNING/);

    const audit = await h.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', 'in', ['halt', 'resume'])
      .orderBy('at')
      .execute();
    expect(
      audit.map((row) => [
        row.action,
        row.actor,
        (row.detail as { reason: string }).reason,
        (row.detail as { via: string }).via,
      ]),
    ).toEqual([
      ['halt', `telegram:@alice (${ALICE.id})`, 'broker maintenance tonight', 'telegram'],
      ['resume', `telegram:@alice (${ALICE.id})`, 'maintenance over', 'telegram'],
    ]);
    // No trading-state notification went back to the chat that made the change.
    expect(
      h.telegram.textsTo(ALICE.id).filter((text) => text.startsWith('🛑 <b>Trading HALTED')),
    ).toHaveLength(1);
  });

  it('lets only the person who asked confirm, and Cancel changes nothing', async () => {
    h.telegram.sendText(OPERATOR_CHAT, ALICE, '/halt testing');
    const question = await eventually(() => {
      const call = h.telegram
        .callsOf('sendMessage', ALICE.id)
        .find((candidate) => candidate.params.reply_markup);
      if (!call) throw new Error('no question');
      return call;
    });
    const [confirm, cancel] = (
      question.params.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> }
    ).inline_keyboard[0]!;
    h.telegram.pressButton(OPERATOR_CHAT, BOB, 5, confirm!.callback_data);
    await eventually(() =>
      expect(h.telegram.callsOf('answerCallbackQuery').map((call) => call.params.text)).toContain(
        'Only the person who sent the command can confirm it.',
      ),
    );
    h.telegram.pressButton(OPERATOR_CHAT, ALICE, 5, cancel!.callback_data);
    await eventually(() =>
      expect(h.telegram.callsOf('editMessageText', ALICE.id).map((call) => call.params.text)).toContain(
        'Cancelled: nothing was changed (/halt).',
      ),
    );
    // The used confirmation is gone: pressing Confirm now is too late.
    h.telegram.pressButton(OPERATOR_CHAT, ALICE, 5, confirm!.callback_data);
    await eventually(() =>
      expect(h.telegram.callsOf('answerCallbackQuery').map((call) => call.params.text)).toContain(
        'This confirmation has expired; send the command again.',
      ),
    );
    expect(await tradingState()).toBeNull();
  });

  it('ignores a confirmation pressed from another chat or by a stranger, and odd updates crash nothing', async () => {
    h.telegram.sendText(OPERATOR_CHAT, ALICE, '/halt guarded');
    const question = await eventually(() => {
      const call = h.telegram.callsOf('sendMessage', ALICE.id).find((c) => c.params.reply_markup);
      if (!call) throw new Error('no question');
      return call;
    });
    const [confirm] = (
      question.params.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> }
    ).inline_keyboard[0]!;
    // The same callback data from the viewer's own chat, and from a stranger's.
    h.telegram.pressButton(VIEWER_CHAT, BOB, 3, confirm!.callback_data);
    h.telegram.pressButton(STRANGER_CHAT, MALLORY, 4, confirm!.callback_data);
    // Forged data, a button under no message, a message without a sender or text, a huge command.
    h.telegram.pressButton(OPERATOR_CHAT, ALICE, 5, 'c:zzzz');
    h.telegram.pressButton(OPERATOR_CHAT, ALICE, 6, `x:${'f'.repeat(200)}`);
    h.telegram.sendUpdate({
      callback_query: {
        id: 'inline',
        from: { id: ALICE.id, is_bot: false, first_name: 'A' },
        chat_instance: 'i',
        data: confirm!.callback_data,
      },
    });
    h.telegram.sendUpdate({
      message: {
        message_id: 900,
        date: Math.floor(Date.now() / 1000),
        chat: { id: ALICE.id, type: 'private' },
      },
    });
    h.telegram.sendText(OPERATOR_CHAT, ALICE, `/notify ${'x'.repeat(4_000)}`);
    h.telegram.sendText(OPERATOR_CHAT, ALICE, '/help');
    await textTo(ALICE.id, /ibstack bot/);

    const answers = h.telegram.callsOf('answerCallbackQuery').map((call) => call.params.text);
    expect(answers).toEqual([
      'This confirmation has expired; send the command again.',
      'This button has expired.',
      'This button has expired.',
    ]);
    expect(h.telegram.messagesTo(MALLORY.id)).toHaveLength(1); // the refusal, nothing else
    expect(h.telegram.textsTo(ALICE.id).some((text) => text.startsWith('Usage: /notify'))).toBe(true);
    expect(await tradingState()).toBeNull();
    // The real asker can still confirm: the forged presses did not use the confirmation up.
    h.telegram.pressButton(OPERATOR_CHAT, ALICE, 7, confirm!.callback_data);
    await eventually(async () => expect((await tradingState())?.state).toBe('HALTED'));
  });

  it("answers /pnl with today's figures and the equity curve as a PNG", async () => {
    const now = Date.now();
    await h.database.db
      .insertInto('account_snapshots')
      .values(
        Array.from({ length: 300 }, (_, i) => {
          const nav = (100_000 + Math.sin(i / 25) * 400 + i * 2).toFixed(2);
          return {
            account: 'DU1234567',
            currency: 'USD',
            ts: new Date(now - (300 - i) * 4 * 60_000),
            net_liquidation: nav,
            cash: '50000',
            realized_pnl: '120.5',
            unrealized_pnl: '-20.25',
            daily_pnl: '234.10',
            daily_return_pct: '0.2341',
            high_water_mark: '101000',
            drawdown_pct: '0.35',
          };
        }),
      )
      .execute();
    h.telegram.sendText(OPERATOR_CHAT, ALICE, '/pnl');
    const photo = await eventually(() => {
      const call = h.telegram.callsOf('sendPhoto', ALICE.id)[0];
      if (!call) throw new Error(`no photo yet: ${JSON.stringify(h.telegram.textsTo(ALICE.id))}`);
      return call;
    });
    expect(String(photo.params.caption)).toContain('<b>P&amp;L today</b>');
    expect(String(photo.params.caption)).toContain('DU1234567: +234.10 USD (0.23%) · NAV');
    expect(photo.params.parse_mode).toBe('HTML');
    const [file] = Object.values(photo.files);
    // To look at it: NOTIFIER_TEST_SAVE_CHART=/tmp/equity.png npx jest … -t pnl
    if (process.env.NOTIFIER_TEST_SAVE_CHART)
      writeFileSync(process.env.NOTIFIER_TEST_SAVE_CHART, file!.bytes);
    expect(file!.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    // IHDR: width and height, big-endian, at bytes 16 and 20.
    expect(file!.bytes.readUInt32BE(16)).toBe(900);
    expect(file!.bytes.readUInt32BE(20)).toBe(450);

    h.telegram.sendText(OPERATOR_CHAT, ALICE, '/balance');
    const balance = await textTo(ALICE.id, /High-water mark/);
    expect(balance).toContain('NAV ');
    expect(balance).toContain('drawdown 0.35%');
  });

  it('asks execution to reconcile for an operator and brings the result back to that chat only', async () => {
    h.telegram.sendText(VIEWER_CHAT, BOB, '/reconcile');
    await textTo(BOB.id, /\/reconcile needs an operator chat/);

    const requestedAt = nowIso();
    h.telegram.sendText(OPERATOR_CHAT, ALICE, '/reconcile');
    await textTo(ALICE.id, /Reconciliation requested/);
    // The request is the CLI's: a control command on sys.control.reconcile, by the Telegram user.
    const command = await eventually(async () => {
      const message = await h.testBus.bus.jsm.streams.getMessage(h.testBus.bus.namespace.stream('SYS'), {
        last_by_subj: h.testBus.bus.namespace.subject(subjects.control('reconcile')),
      });
      return ControlCommand.parse(message!.json());
    });
    expect(command).toMatchObject({ command: 'reconcile', by: `telegram:@alice (${ALICE.id})` });

    // Execution answers with a run that found a mismatch.
    await h.testBus.bus.publish(topics.reconciliationResult, {
      v: 1,
      runId: 'operator-run',
      trigger: 'operator',
      ok: false,
      mismatches: [
        { kind: 'position_quantity', instrument: 'EURCAD', local: '1', broker: '0', detail: 'drift' },
      ],
      positionsChecked: 1,
      openOrdersChecked: 0,
      executionsChecked: 2,
      startedAt: requestedAt,
      finishedAt: nowIso(),
    });
    const answer = await textTo(ALICE.id, /Reconciliation: 1 mismatch/);
    expect(answer).toContain('position_quantity EURCAD (ours 1, broker 0): drift');
    // The viewer is told of the mismatch as any notification; the asker once, as the answer.
    await textTo(BOB.id, /Reconciliation: 1 mismatch/);
    expect(
      h.telegram.textsTo(ALICE.id).filter((text) => text.includes('Reconciliation: 1 mismatch')),
    ).toHaveLength(1);
  });

  it('answers an unknown command by its name, and stays quiet in a group unless addressed', async () => {
    h.telegram.sendText(OPERATOR_CHAT, ALICE, '/frobnicate now');
    const text = await textTo(ALICE.id, /frobnicate/);
    expect(text).toContain('Unknown command /frobnicate');
    expect(text).toContain('/help');

    await h.restart({ TELEGRAM_CHATS: `${ALICE.id}:operator,${GROUP_CHAT.id}:viewer` });
    // Members talking among themselves, a command for another bot, a member joining: none is for us.
    h.telegram.sendText(GROUP_CHAT, BOB, 'good morning all');
    h.telegram.sendText(GROUP_CHAT, BOB, '/status@some_other_bot');
    h.telegram.sendText(GROUP_CHAT, BOB, '/frobnicate@ibstack_test_bot');
    h.telegram.sendText(GROUP_CHAT, BOB, '/help');
    // Updates are handled in order: once /help is answered, the three before it are done.
    await textTo(GROUP_CHAT.id, /ibstack bot/);
    const texts = h.telegram.textsTo(GROUP_CHAT.id);
    expect(texts).toHaveLength(2);
    expect(texts[0]).toContain('Unknown command /frobnicate');
  });

  it('refuses an overlong /halt reason before asking, and tells a long reason set elsewhere in full length limits', async () => {
    h.telegram.sendText(OPERATOR_CHAT, ALICE, `/halt ${'<&>'.repeat(400)}`);
    const text = await textTo(ALICE.id, /reason is/);
    expect(text).toMatch(/reason is 1200 characters; keep it to 300/);
    expect(h.telegram.callsOf('sendMessage', ALICE.id).every((call) => !call.params.reply_markup)).toBe(true);
    expect(await tradingState()).toBeNull();

    // The CLI takes any reason: the notice still reaches the chats, shortened.
    await setTradingState(
      { bus: h.testBus.bus, db: h.database.db },
      'HALTED',
      `broker said ${'no '.repeat(2_000)}`,
      'cli:ops',
    );
    const notice = await textTo(BOB.id, /Trading HALTED/);
    expect(notice.length).toBeLessThan(4096);
    expect(notice).toContain('reason: broker said no no');
    expect(notice).toContain('…');
    expect(await metricValue(h.registry, 'notifier_notifications_failed_total')).toBe(0);
  });

  it('does not say "nothing was changed" when the halt is made but its confirmation cannot be shown', async () => {
    h.telegram.sendText(OPERATOR_CHAT, ALICE, '/halt edit will fail');
    const question = await eventually(() => {
      const call = h.telegram.callsOf('sendMessage', ALICE.id).find((c) => c.params.reply_markup);
      if (!call) throw new Error('no question');
      return call;
    });
    const [confirm] = (
      question.params.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> }
    ).inline_keyboard[0]!;
    h.telegram.failNext('editMessageText', { status: 502, description: 'Bad Gateway' });
    h.telegram.pressButton(OPERATOR_CHAT, ALICE, 12, confirm!.callback_data);
    // The outcome reaches the asker anyway, as a message of its own.
    const told = await textTo(ALICE.id, /Trading HALTED/);
    expect(told).toContain('edit will fail');
    expect(await tradingState()).toMatchObject({ state: 'HALTED', reason: 'edit will fail' });
    h.telegram.sendText(OPERATOR_CHAT, ALICE, '/help');
    await textTo(ALICE.id, /ibstack bot/);
    expect(h.telegram.textsTo(ALICE.id).filter((t) => t.includes('nothing was changed'))).toEqual([]);
  });

  it('lets a confirmation expire after NOTIFIER_CONFIRM_TIMEOUT_MS', async () => {
    await h.restart({ NOTIFIER_CONFIRM_TIMEOUT_MS: '1000' });
    h.telegram.sendText(OPERATOR_CHAT, ALICE, '/halt too slow');
    const question = await eventually(() => {
      const call = h.telegram.callsOf('sendMessage', ALICE.id).find((c) => c.params.reply_markup);
      if (!call) throw new Error('no question');
      return call;
    });
    const [confirm] = (
      question.params.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> }
    ).inline_keyboard[0]!;
    // Expiry is a matter of time: wait until the deadline has passed, then press.
    await eventually(() => expect(Date.now()).toBeGreaterThan(question.at + 1_100), { timeoutMs: 5_000 });
    h.telegram.pressButton(OPERATOR_CHAT, ALICE, 13, confirm!.callback_data);
    await eventually(() =>
      expect(h.telegram.callsOf('answerCallbackQuery').map((call) => call.params.text)).toContain(
        'This confirmation has expired; send the command again.',
      ),
    );
    expect(await tradingState()).toBeNull();
  });

  it('shows its command menu only in the chats it serves, each with the commands of its role', () => {
    const scoped = h.telegram.callsOf('setMyCommands').map((call) => ({
      scope: call.params.scope as { type: string; chat_id?: number } | undefined,
      commands: (call.params.commands as Array<{ command: string }>).map((c) => c.command),
    }));
    expect(scoped.find((call) => call.scope?.type !== 'chat')).toBeUndefined();
    const forChat = (id: number) => scoped.find((call) => call.scope?.chat_id === id)?.commands;
    expect(forChat(ALICE.id)).toEqual(expect.arrayContaining(['status', 'halt', 'resume', 'reconcile']));
    expect(forChat(BOB.id)).toContain('status');
    expect(forChat(BOB.id)).not.toContain('halt');
    // A stranger opening the bot sees no menu: the default one is removed.
    expect(h.telegram.callsOf('deleteMyCommands').some((call) => call.params.scope === undefined)).toBe(true);
  });

  it('does not tell again after a restart the state change a chat made itself', async () => {
    await h.restart({ TELEGRAM_CHATS: `${ALICE.id}:operator` });
    // A change told before, so the restart below is not the notifier's first.
    await setTradingState({ bus: h.testBus.bus, db: h.database.db }, 'REDUCING', 'earlier', 'cli:ops');
    await textTo(ALICE.id, /Trading REDUCING/);
    await confirmed('halt', 'before the restart');
    await h.restart();
    // A later change made elsewhere is told; reaching alice, it proves the earlier one was looked at.
    await setTradingState({ bus: h.testBus.bus, db: h.database.db }, 'RUNNING', 'from the cli', 'cli:ops');
    await textTo(ALICE.id, /Trading RUNNING/);
    expect(
      h.telegram
        .callsOf('sendMessage', ALICE.id)
        .filter((call) => /Trading HALTED/.test(String(call.params.text))),
    ).toEqual([]);
  });

  it('shows and changes its own notification levels with /notify, audited', async () => {
    h.telegram.sendText(VIEWER_CHAT, BOB, '/notify fills silent');
    const text = await textTo(BOB.id, /fills: silent/);
    expect(text).toContain('daily_summary: silent');
    const rows = await h.database.db.selectFrom('notifier_chat_settings').selectAll().execute();
    expect(rows).toEqual([
      expect.objectContaining({ chat_id: BOB.id, notification: 'fills', level: 'silent' }),
    ]);
    expect(await auditRows('telegram_notify')).toHaveLength(1);
    h.telegram.sendText(VIEWER_CHAT, BOB, '/notify fills loud');
    await textTo(BOB.id, /Usage: \/notify/);
  });
});
