import { DeadLetter, subjects, topics } from '@ibstack/contracts';
import { eventually } from '@ibstack/test-kit';

import type {} from '../../src/service';
import {
  intent,
  ordersOf,
  publishedMessages,
  publishIntent,
  reconciliationRuns,
  sendControl,
  setTradingState,
  tradingState,
  inProcessScenario,
} from './harness';

describe('execution against the simulated gateway', () => {
  const scenario = inProcessScenario();

  it('turns an intent into one order carrying the intent id, stores its fills once and moves the position', async () => {
    const harness = await scenario.startHarness();
    await scenario.startService();
    await reconciliationRuns(harness, 1);
    const value = intent({ quantity: '30000' });
    await publishIntent(harness.bus, value);

    const order = await eventually(async () => {
      const [row] = await ordersOf(harness);
      expect(row?.status).toBe('filled');
      return row!;
    });
    expect(order).toMatchObject({
      intent_id: value.intentId,
      filled_quantity: '30000',
      remaining_quantity: '0',
    });
    expect(order.sent_at).toBeInstanceOf(Date);
    expect(order.sent_at!.getTime()).toBeGreaterThanOrEqual(order.created_at.getTime());
    const simOrders = harness.sim.account.orders();
    expect(simOrders).toHaveLength(1);
    expect(simOrders[0]).toMatchObject({ orderId: order.broker_order_id, orderRef: value.intentId });

    const executions = await harness.database.db.selectFrom('executions').selectAll().execute();
    expect(executions.map((e) => e.exec_id).sort()).toEqual(
      harness.sim.account
        .executions()
        .map((e) => e.execId)
        .sort(),
    );
    await eventually(async () => {
      const stored = await harness.database.db.selectFrom('executions').select('commission').execute();
      expect(stored.every((row) => row.commission !== null)).toBe(true);
    });
    const position = await harness.database.db.selectFrom('positions').selectAll().executeTakeFirstOrThrow();
    expect(position).toMatchObject({ instrument: 'EURCAD', quantity: '30000' });
    expect(harness.sim.account.positions()).toEqual([expect.objectContaining({ quantity: 30000 })]);

    // Fills and order events are published for the strategy and the dashboard.
    await eventually(async () => {
      const info = await harness.bus.jsm.streams.info(harness.bus.namespace.stream('ORDERS'), {
        subjects_filter: '>',
      });
      const subjectsSeen = Object.keys(info.state.subjects ?? {}).map((subject) =>
        harness.bus.namespace.baseSubject(subject),
      );
      expect(subjectsSeen).toEqual(
        expect.arrayContaining([subjects.fill('EURCAD'), subjects.orderEvent('EURCAD')]),
      );
    });
  });

  it('places one order for an intent delivered twice', async () => {
    const harness = await scenario.startHarness();
    await scenario.startService();
    await reconciliationRuns(harness, 1);
    const value = intent();
    await publishIntent(harness.bus, value);
    // A second copy under another message id passes JetStream's de-duplication, as a replay would.
    await harness.bus.publish(topics.orderIntent, value, { msgId: `${value.intentId}-again` });
    await eventually(async () => expect((await ordersOf(harness))[0]?.status).toBe('filled'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await ordersOf(harness)).toHaveLength(1);
    expect(harness.sim.account.orders()).toHaveLength(1);
  });

  it('stores a broker reject with its IB code and text and counts it', async () => {
    const harness = await scenario.startHarness();
    const service = await scenario.startService();
    await reconciliationRuns(harness, 1);
    harness.sim.faults.rejectNextOrder('Insufficient margin', 201);
    await publishIntent(harness.bus, intent());
    const order = await eventually(async () => {
      const [row] = await ordersOf(harness);
      expect(row?.status).toBe('rejected');
      return row!;
    });
    expect(order.error_code).toBe(201);
    expect(order.error_text).toMatch(/Insufficient margin/);
    const metric = await service.metrics.ordersRejected.get();
    expect(metric.values).toEqual([
      expect.objectContaining({ labels: { instrument: 'EURCAD', reason: '201' }, value: 1 }),
    ]);
  });

  it('rejects an intent for an unknown instrument before anything is sent', async () => {
    const harness = await scenario.startHarness();
    await scenario.startService();
    await reconciliationRuns(harness, 1);
    await publishIntent(harness.bus, intent({ instrument: 'XAUZZZ' }));
    const order = await eventually(async () => {
      const [row] = await ordersOf(harness);
      expect(row?.status).toBe('rejected');
      return row!;
    });
    expect(order.broker_order_id).toBeNull();
    expect(order.error_text).toMatch(/unknown instrument XAUZZZ/);
    expect(harness.sim.account.orders()).toHaveLength(0);
  });

  it('sends an invalid intent to the dead-letter subject with the reason', async () => {
    const harness = await scenario.startHarness();
    await scenario.startService();
    await reconciliationRuns(harness, 1);
    const { bus } = harness;
    await bus.js.publish(
      bus.namespace.subject(subjects.orderIntent('demo')),
      JSON.stringify({ ...intent(), quantity: '-5' }),
    );
    const letter = await eventually(async () => {
      const message = await bus.jsm.streams.getMessage(bus.namespace.stream('SYS'), {
        last_by_subj: bus.namespace.subject(subjects.deadLetter('ORDERS', 'execution')),
      });
      return DeadLetter.parse(message!.json());
    });
    expect(letter.reason).toMatch(/quantity: must be > 0/);
    expect(harness.sim.account.orders()).toHaveLength(0);
  });

  it('halts on drift within one reconciliation interval, stores and publishes the mismatch, and resumes only by an audited operator command', async () => {
    const harness = await scenario.startHarness();
    const service = await scenario.startService({
      RECONCILE_INTERVAL_MS: '1500',
      // The sim's drift moves cash the other way as well; this test is about the position (cash:
      // cash.int.test.ts), so the cash check is given room.
      RECONCILE_CASH_TOLERANCE: '1000000000',
    });
    await reconciliationRuns(harness, 1);
    await publishIntent(harness.bus, intent());
    await eventually(async () => expect((await ordersOf(harness))[0]?.status).toBe('filled'));

    harness.sim.faults.driftPosition('EUR.CAD', 5000);
    const halted = await eventually(
      async () => {
        const state = await tradingState(harness.bus);
        expect(state?.state).toBe('HALTED');
        return state!;
      },
      { timeoutMs: 10_000 },
    );
    expect(halted.reason).toMatch(/reconciliation mismatch/);
    // The halted alert reads the state and its reason from the metrics.
    await eventually(async () =>
      expect((await service.metrics.tradingStateInfo.get()).values).toEqual([
        expect.objectContaining({
          labels: expect.objectContaining({
            state: 'HALTED',
            reason: halted.reason,
            by: halted.by,
          }) as unknown,
          value: 1,
        }),
      ]),
    );
    const runs = await harness.database.db
      .selectFrom('reconciliation_runs')
      .selectAll()
      .where('ok', '=', false)
      .execute();
    expect(runs[0]!.mismatches).toEqual([
      expect.objectContaining({
        kind: 'position_quantity',
        instrument: 'EURCAD',
        local: '20000',
        broker: '25000',
      }),
    ]);
    const published = await harness.bus.jsm.streams.getMessage(harness.bus.namespace.stream('SYS'), {
      last_by_subj: harness.bus.namespace.subject(subjects.reconciliationResult()),
    });
    expect(published!.json<{ ok: boolean }>().ok).toBe(false);

    // While halted an intent is refused, not traded.
    await publishIntent(harness.bus, intent());
    await eventually(async () => expect((await ordersOf(harness))[1]?.status).toBe('rejected'));
    expect(harness.sim.account.orders()).toHaveLength(1);

    harness.sim.faults.driftPosition('EUR.CAD', -5000);
    await sendControl(harness, { command: 'resume', reason: 'drift explained: manual test trade' });
    await eventually(async () => expect((await tradingState(harness.bus))?.state).toBe('RUNNING'));
    await eventually(async () => {
      const audit = await harness.database.db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'resume')
        .execute();
      expect(audit).toEqual([expect.objectContaining({ actor: 'alice' })]);
    });
  });

  it('trips the API error circuit on too many errors and stays halted after they stop', async () => {
    const harness = await scenario.startHarness();
    await scenario.startService({
      ERROR_CIRCUIT_MAX_ERRORS: '2',
      ERROR_CIRCUIT_WINDOW_MS: '60000',
    });
    await reconciliationRuns(harness, 1);
    for (let i = 0; i < 3; i++) {
      harness.sim.faults.rejectNextOrder(`reject ${i}`, 201);
      await publishIntent(harness.bus, intent());
      await eventually(async () => expect((await ordersOf(harness))[i]?.status).toBe('rejected'));
    }
    const state = await eventually(async () => {
      const value = await tradingState(harness.bus);
      expect(value?.state).toBe('HALTED');
      return value!;
    });
    expect(state.reason).toMatch(/^multiple API errors/);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await tradingState(harness.bus))?.state).toBe('HALTED');
    await publishIntent(harness.bus, intent());
    await eventually(async () => expect((await ordersOf(harness))[3]?.error_text).toMatch(/trading_halted/));
  });

  it('re-arms a tripped error circuit once trading is resumed by writing the trading state directly', async () => {
    const harness = await scenario.startHarness();
    const service = await scenario.startService({
      ERROR_CIRCUIT_MAX_ERRORS: '1',
      ERROR_CIRCUIT_WINDOW_MS: '60000',
    });
    await reconciliationRuns(harness, 1);
    const rejectTwice = async (round: number) => {
      for (let i = 0; i < 2; i++) {
        harness.sim.faults.rejectNextOrder(`reject ${round}.${i}`, 201);
        await publishIntent(harness.bus, intent());
        await eventually(async () =>
          expect((await ordersOf(harness))[round * 2 + i]?.status).toBe('rejected'),
        );
      }
    };
    await rejectTwice(0);
    await eventually(async () => expect((await tradingState(harness.bus))?.state).toBe('HALTED'));

    // The CLI resumes by writing KV (no control command reaches execution) ...
    await setTradingState(harness, 'RUNNING');
    // ... which the trading-state metrics follow by themselves ...
    await eventually(
      async () =>
        expect(
          (await service.metrics.tradingState.get()).values.find((sample) => sample.value === 1)?.labels
            .state,
        ).toBe('RUNNING'),
      { timeoutMs: 10_000 },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    // ... and the next burst of errors halts again.
    await rejectTwice(1);
    await eventually(async () => {
      const state = await tradingState(harness.bus);
      expect(state?.state).toBe('HALTED');
      expect(state?.reason).toMatch(/^multiple API errors/);
    });
  });

  it('recovers fills that happened while the gateway connection was down', async () => {
    const harness = await scenario.startHarness();
    await scenario.startService();
    await reconciliationRuns(harness, 1);
    harness.sim.faults.withholdFills(true);
    await publishIntent(harness.bus, intent({ quantity: '40000' }));
    await eventually(async () => expect((await ordersOf(harness))[0]?.status).toBe('submitted'));
    await harness.sim.faults.fillWhileDisconnected();
    harness.sim.faults.withholdFills(false);
    await eventually(async () => expect((await ordersOf(harness))[0]?.status).toBe('filled'), {
      timeoutMs: 20_000,
    });
    const stored = await harness.database.db.selectFrom('executions').select('exec_id').execute();
    expect(stored.map((row) => row.exec_id).sort()).toEqual(
      harness.sim.account
        .executions()
        .map((e) => e.execId)
        .sort(),
    );
    expect(
      (await harness.database.db.selectFrom('positions').select('quantity').executeTakeFirstOrThrow())
        .quantity,
    ).toBe('40000');
    const runs = await reconciliationRuns(harness, 2);
    expect(runs.at(-1)).toMatchObject({ trigger: 'reconnect', ok: true });
  });

  it('rides through an IB daily reset without a duplicate order', async () => {
    const harness = await scenario.startHarness();
    await scenario.startService();
    await reconciliationRuns(harness, 1);
    const intents = [intent(), intent(), intent()];
    await publishIntent(harness.bus, intents[0]!);
    const reset = harness.sim.faults.dailyReset({ downMs: 1_500 });
    await publishIntent(harness.bus, intents[1]!);
    await reset;
    await publishIntent(harness.bus, intents[2]!);
    await eventually(
      async () => {
        const rows = await ordersOf(harness);
        expect(rows.map((row) => row.status)).toEqual(['filled', 'filled', 'filled']);
      },
      { timeoutMs: 20_000 },
    );
    const refs = harness.sim.account
      .orders()
      .map((order) => order.orderRef)
      .sort();
    expect(refs).toEqual(intents.map((value) => value.intentId).sort());
    expect((await tradingState(harness.bus))?.state ?? 'RUNNING').toBe('RUNNING');
  });

  it('publishes a commission that arrives after its fill was published as a correction of that fill', async () => {
    const harness = await scenario.startHarness();
    await scenario.startService();
    await reconciliationRuns(harness, 1);
    // IB computes some commissions late: here after the outbox has stopped waiting (2 s) for it.
    harness.sim.faults.delayCommissions(3_500);
    await publishIntent(harness.bus, intent({ quantity: '10000' }));
    const [execution] = await eventually(async () => {
      const fills = await publishedMessages(harness, topics.fill);
      expect(fills).toHaveLength(1);
      expect(fills[0]!.commission).toBeUndefined();
      return harness.sim.account.executions();
    });
    const corrected = await eventually(
      async () => {
        const fills = await publishedMessages(harness, topics.fill);
        expect(fills).toHaveLength(2);
        return fills[1]!;
      },
      { timeoutMs: 15_000 },
    );
    expect(corrected).toMatchObject({
      execId: execution!.execId,
      quantity: '10000',
      commission: String(execution!.commission),
      commissionCurrency: 'USD',
    });
    const [row] = await harness.database.db.selectFrom('executions').selectAll().execute();
    expect(row).toMatchObject({ published: true, commission_published: true });
  });
});
