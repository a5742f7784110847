import { deriveIntentId, subjects, SystemEvent, topics, AuditEntry } from '@ibstack/contracts';
import { DURABLES, type SleeveStatus } from '@ibstack/strategy';
import { eventually, makeFill, makeTick } from '@ibstack/test-kit';

import { flatBars } from '../bars';
import { openWorld, sleevesFile, T0, type World } from './world';

// EUR.CAD at 1.5 with CAD at 0.72 USD: one unit is 1.08 USD, so 10 000 USD of capital holds 9 000 (steps
// of 1 000, rounded toward zero).
const bars = flatBars(['1.5', '1.5', '1.5', '1.5', '1.5', '1.5'], T0);
const ts = (n: number) => bars[n - 1]!.ts;
const progressOf = (status: SleeveStatus[], sleeve: string) =>
  status.find((s) => s.name === sleeve)?.progress.EURCAD;
const statusOf = (status: SleeveStatus[], sleeve: string) => status.find((s) => s.name === sleeve)!;

describe('strategy engine', () => {
  let world: World;
  beforeEach(async () => {
    world = await openWorld();
  });
  afterEach(() => world.close());

  it('stores an intent with a deterministic id, then publishes it with that id as Nats-Msg-Id', async () => {
    const { service } = await world.start(
      sleevesFile([{ name: 'alpha', strategy: 'scripted', parameters: { targets: { [ts(2)]: 1 } } }]),
    );
    await world.publishBars(bars.slice(0, 3));
    await eventually(() => expect(progressOf(service.status(), 'alpha')).toBe(ts(3)));

    const intentId = deriveIntentId({ sleeve: 'alpha', instrument: 'EURCAD', barTs: ts(2), sequence: 0 });
    await eventually(async () =>
      expect(await world.intents('alpha')).toEqual([
        expect.objectContaining({
          intentId,
          side: 'BUY',
          quantity: '9000',
          status: 'accepted',
          published: true,
        }),
      ]),
    );
    const messages = await world.streamMessages('ORDERS', subjects.orderIntent('alpha'));
    expect(messages).toHaveLength(1);
    expect(messages[0]!.msgId).toBe(intentId);
    expect(messages[0]!.data).toMatchObject({
      intentId,
      sleeve: 'alpha',
      instrument: 'EURCAD',
      side: 'BUY',
      quantity: '9000',
      orderType: 'MKT',
      barTs: ts(2),
      timeframe: '1m',
      sequence: 0,
      referencePrice: '1.5',
    });
    // In flight until execution reports on it.
    expect(statusOf(service.status(), 'alpha').pending).toEqual({ EURCAD: '9000' });
  });

  it('acknowledges and skips a bar at or before the progress of the sleeve', async () => {
    const { service, registry } = await world.start(sleevesFile([{ name: 'beta', strategy: 'scripted' }]));
    await world.publishBars(bars.slice(0, 3));
    await eventually(() => expect(progressOf(service.status(), 'beta')).toBe(ts(3)));
    // A revised bar for a time already processed gets past JetStream's de-duplication, but not the engine.
    await world.bus.publish(topics.bar, { ...bars[1]!, close: '1.6', high: '1.6' });
    await world.publishBars([bars[3]!]);
    await eventually(() => expect(progressOf(service.status(), 'beta')).toBe(ts(4)));
    expect(statusOf(service.status(), 'beta').state).toEqual({ seen: [ts(1), ts(2), ts(3), ts(4)] });
    expect(await world.metric(registry, 'strategy_bars_skipped_total', { sleeve: 'beta' })).toBe(1);
  });

  it('records an intent blocked while HALTED with its reason, an audit entry and a metric, and sends nothing', async () => {
    await world.setTradingState('HALTED');
    const { service, registry } = await world.start(
      sleevesFile([{ name: 'gamma', strategy: 'scripted', parameters: { targets: { [ts(1)]: 1 } } }]),
    );
    await world.publishBars(bars.slice(0, 2));
    await eventually(() => expect(progressOf(service.status(), 'gamma')).toBe(ts(2)));

    const [row] = await world.intents('gamma');
    expect(row).toMatchObject({
      status: 'blocked',
      riskReason: 'trading_halted',
      published: false,
      side: 'BUY',
    });
    const audit = await world.db.db.selectFrom('audit_log').selectAll().executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ actor: 'strategy:risk', action: 'order_blocked' });
    expect(audit.detail).toMatchObject({
      intentId: row!.intentId,
      reason: 'trading_halted',
      sleeve: 'gamma',
    });
    const audits = await eventually(async () => {
      const found = await world.streamMessages('SYS', subjects.audit());
      expect(found).toHaveLength(1);
      return found;
    });
    expect(AuditEntry.parse(audits[0]!.data).detail).toMatchObject({ reason: 'trading_halted' });
    expect(await world.publishedIntents('gamma')).toEqual([]);
    expect(
      await world.metric(registry, 'risk_blocked_total', { sleeve: 'gamma', reason: 'trading_halted' }),
    ).toBe(1);
  });

  it('under REDUCING cuts a flip down to a close and blocks what would open a position', async () => {
    // A long of 9 000 from stored executions; a corrected (superseded) execution does not count.
    const heldId = deriveIntentId({
      sleeve: 'delta',
      instrument: 'EURCAD',
      barTs: '2026-11-24T14:00:00.000Z',
      sequence: 0,
    });
    await world.db.db
      .insertInto('order_intents')
      .values({
        intent_id: heldId,
        sleeve: 'delta',
        instrument: 'EURCAD',
        side: 'BUY',
        quantity: '9000',
        order_type: 'MKT',
        time_in_force: 'DAY',
        bar_ts: '2026-11-24T14:00:00.000Z',
        timeframe: '1m',
        sequence: 0,
        reference_price: '1.5',
        status: 'accepted',
        created_at: '2026-11-24T14:59:00.000Z',
        published_at: '2026-11-24T14:59:00.000Z',
      })
      .execute();
    const execution = {
      broker_order_id: 7,
      perm_id: 70,
      intent_id: heldId,
      account: 'DU1234567',
      instrument: 'EURCAD',
      side: 'BUY' as const,
      price: '1.5',
      executed_at: '2026-11-24T14:59:01.000Z',
    };
    await world.db.db
      .insertInto('executions')
      .values([
        { ...execution, exec_id: '0001.aa.01.01', quantity: '5000', superseded_by: '0001.aa.01.02' },
        { ...execution, exec_id: '0001.aa.01.02', quantity: '9000' },
      ])
      .execute();
    await world.setTradingState('REDUCING');
    const { service } = await world.start(
      sleevesFile([
        { name: 'delta', strategy: 'scripted', parameters: { targets: { [ts(1)]: -1, [ts(2)]: 1 } } },
      ]),
    );
    expect(statusOf(service.status(), 'delta')).toMatchObject({ positions: { EURCAD: '9000' }, pending: {} });

    await world.publishBars(bars.slice(0, 2));
    await eventually(() => expect(progressOf(service.status(), 'delta')).toBe(ts(2)));
    const [, close, open] = await world.intents('delta');
    // Target −1 from +9 000 wants SELL 18 000; REDUCING lets the closing 9 000 through.
    expect(close).toMatchObject({ barTs: ts(1), side: 'SELL', quantity: '9000', status: 'accepted' });
    expect(close!.reason).toMatch(/cut to a close under REDUCING/);
    // Target +1 with the close in flight is a BUY from flat: not a reduction.
    expect(open).toMatchObject({
      barTs: ts(2),
      side: 'BUY',
      quantity: '9000',
      status: 'blocked',
      riskReason: 'reducing_only',
    });
  });

  it('pauses a throwing sleeve, says so, and keeps the other sleeves trading', async () => {
    const { service, registry } = await world.start(
      sleevesFile([
        { name: 'fragile', strategy: 'scripted', parameters: { throwAt: [ts(2)], targets: { [ts(3)]: 1 } } },
        { name: 'sturdy', strategy: 'scripted', parameters: { targets: { [ts(3)]: 1 } } },
      ]),
    );
    await world.publishBars(bars.slice(0, 4));
    await eventually(() => expect(progressOf(service.status(), 'sturdy')).toBe(ts(4)));

    expect(statusOf(service.status(), 'fragile').paused).toMatch(/strategy failed in bar: boom at/);
    expect(statusOf(service.status(), 'sturdy')).toMatchObject({
      paused: null,
      state: { seen: bars.slice(0, 4).map((b) => b.ts) },
    });
    expect(await world.intents('fragile')).toEqual([]);
    expect(await world.intents('sturdy')).toEqual([
      expect.objectContaining({ barTs: ts(3), status: 'accepted' }),
    ]);
    expect(await world.metric(registry, 'strategy_sleeve_paused', { sleeve: 'fragile' })).toBe(1);
    expect(await world.metric(registry, 'strategy_sleeve_paused', { sleeve: 'sturdy' })).toBe(0);
    const events = await eventually(async () => {
      const found = await world.streamMessages('SYS', subjects.systemEvent('strategy'));
      expect(found).toHaveLength(1);
      return found;
    });
    expect(SystemEvent.parse(events[0]!.data)).toMatchObject({
      service: 'strategy',
      severity: 'critical',
      code: 'sleeve_paused',
      detail: { sleeve: 'fragile', phase: 'bar' },
    });
  });

  it('does not order again while an intent is in flight, and sizes from fills once they arrive', async () => {
    const { service, registry } = await world.start(
      sleevesFile([
        {
          name: 'epsilon',
          strategy: 'scripted',
          parameters: { targets: { [ts(1)]: 1, [ts(2)]: 1, [ts(4)]: 0 } },
        },
      ]),
    );
    await world.publishBars(bars.slice(0, 2));
    await eventually(() => expect(progressOf(service.status(), 'epsilon')).toBe(ts(2)));
    const [buy] = await world.intents('epsilon');
    expect(await world.intents('epsilon')).toHaveLength(1); // the repeated target found 9 000 in flight

    await world.bus.publish(topics.orderEvent, {
      v: 1,
      eventId: 'ev-1',
      intentId: buy!.intentId as never,
      brokerOrderId: 1,
      sleeve: 'epsilon',
      instrument: 'EURCAD',
      side: 'BUY',
      status: 'submitted',
      quantity: '9000',
      filledQuantity: '0',
      remainingQuantity: '9000',
      ts: T0,
    });
    await world.bus.publish(
      topics.fill,
      makeFill({
        intentId: buy!.intentId as never,
        sleeve: 'epsilon',
        quantity: '9000',
        price: '1.5',
        execId: 'x.1.01',
      }),
    );
    await eventually(() =>
      expect(statusOf(service.status(), 'epsilon')).toMatchObject({
        positions: { EURCAD: '9000' },
        pending: {},
      }),
    );
    // 9 000 × 1.5 CAD × 0.72 = 9 720 USD of 10 000: 97.2 %.
    expect(await world.metric(registry, 'sleeve_exposure_pct', { sleeve: 'epsilon' })).toBeCloseTo(97.2, 6);
    expect(await world.metric(registry, 'sleeve_pnl_usd', { sleeve: 'epsilon' })).toBe(0);
    expect(await world.metric(registry, 'portfolio_gross_exposure_usd')).toBeCloseTo(9720, 6);
    expect(await world.metric(registry, 'portfolio_net_exposure_usd')).toBeCloseTo(9720, 6);

    await world.publishBars(bars.slice(2, 4));
    await eventually(() => expect(progressOf(service.status(), 'epsilon')).toBe(ts(4)));
    expect((await world.intents('epsilon')).map((i) => [i.barTs, i.side, i.quantity])).toEqual([
      [ts(1), 'BUY', '9000'],
      [ts(4), 'SELL', '9000'],
    ]);
  });

  it('stops counting an intent execution never acknowledged once its TTL has passed, gauge included', async () => {
    const { service, registry } = await world.start(
      sleevesFile([{ name: 'eta', strategy: 'scripted', parameters: { targets: { [ts(1)]: 1 } } }]),
      { pendingTtlMs: 5_000, outboxIntervalMs: 100 },
    );
    await world.publishBars(bars.slice(0, 1));
    await eventually(() => expect(statusOf(service.status(), 'eta').pending).toEqual({ EURCAD: '9000' }));
    expect(await world.metric(registry, 'strategy_pending_intents', { sleeve: 'eta' })).toBe(1);

    world.clock.advance(6_000);
    await eventually(() => expect(statusOf(service.status(), 'eta').pending).toEqual({}));
    await eventually(async () =>
      expect(await world.metric(registry, 'strategy_pending_intents', { sleeve: 'eta' })).toBe(0),
    );
  });

  it('sends an invalid bar to the dead-letter subject; no strategy sees it and the engine keeps going', async () => {
    const file = JSON.parse(
      sleevesFile([{ name: 'zeta', strategy: 'scripted', instruments: ['EUR.CAD', 'EUR.USD'] }]),
    ) as { instruments: string[] };
    file.instruments.push('EUR.USD');
    const { service } = await world.start(JSON.stringify(file));
    await world.bus.js.publish(
      world.bus.namespace.subject(subjects.bar('EURCAD', '1m')),
      JSON.stringify({ ...bars[0], high: '1.0' }),
    );
    // Known issue, packages/bus: on NATS 2.9 `term(reason)` is ignored, so the dead-lettered message stays
    // pending on its one-in-flight EURCAD consumer. The valid bar therefore goes to another instrument.
    const valid = flatBars(['1.1'], T0, 'EURUSD')[0]!;
    await world.publishBars([valid]);
    await eventually(() => expect(service.status()[0]!.progress).toEqual({ EURUSD: valid.ts }));
    expect(statusOf(service.status(), 'zeta').state).toEqual({ seen: [valid.ts] });
    const letters = await eventually(async () => {
      const found = await world.streamMessages('SYS', 'sys.deadletter.');
      expect(found.length).toBeGreaterThanOrEqual(1);
      return found;
    });
    expect(letters[0]!.subject).toBe(subjects.deadLetter('MD', DURABLES.bars('EURCAD', '1m')));
  });

  it('updates a sleeve but sends no order for a bar processed long after its close', async () => {
    world.clock.set(Date.parse(ts(1)) + 60 * 60_000);
    const { service, registry } = await world.start(
      sleevesFile([{ name: 'eta', strategy: 'scripted', parameters: { targets: { [ts(1)]: 1 } } }]),
    );
    await world.publishBars([bars[0]!]);
    await eventually(() => expect(progressOf(service.status(), 'eta')).toBe(ts(1)));
    expect(await world.intents('eta')).toEqual([]);
    expect(await world.metric(registry, 'strategy_stale_bar_decisions_total', { sleeve: 'eta' })).toBe(1);
  });

  it('trades on ticks for strategies that handle them, with ids apart from bar intents', async () => {
    const tickTs = '2026-11-24T15:00:30.000Z';
    const { service } = await world.start(
      sleevesFile([{ name: 'theta', strategy: 'scripted', parameters: { tickTargets: { [tickTs]: -1 } } }]),
    );
    await world.bus.publish(
      topics.tick,
      makeTick({ ts: tickTs, receivedAt: tickTs, bid: '1.4999', ask: '1.5001' }),
    );
    await eventually(async () =>
      expect(await world.intents('theta')).toEqual([
        expect.objectContaining({
          intentId: deriveIntentId({
            sleeve: 'theta',
            instrument: 'EURCAD',
            barTs: tickTs,
            sequence: 1_000_000,
          }),
          side: 'SELL',
          quantity: '9000',
          status: 'accepted',
        }),
      ]),
    );
    expect(statusOf(service.status(), 'theta').pending).toEqual({ EURCAD: '-9000' });
  });

  it('publishes on start what a crash left stored but unpublished, and expires what is too old to send', async () => {
    const row = (sleeve: string, minutesAgo: number) => ({
      intent_id: deriveIntentId({ sleeve, instrument: 'EURCAD', barTs: T0, sequence: 0 }),
      sleeve,
      instrument: 'EURCAD',
      side: 'BUY' as const,
      quantity: '1000',
      order_type: 'MKT' as const,
      time_in_force: 'DAY' as const,
      bar_ts: T0,
      timeframe: '1m' as const,
      sequence: 0,
      reference_price: '1.5',
      status: 'accepted',
      created_at: new Date(Date.parse(T0) - minutesAgo * 60_000).toISOString(),
    });
    const fresh = row('iota', 0.5);
    const old = row('kappa', 10);
    await world.db.db.insertInto('order_intents').values([fresh, old]).execute();
    const { service } = await world.start(
      sleevesFile([
        { name: 'iota', strategy: 'scripted' },
        { name: 'kappa', strategy: 'scripted' },
      ]),
    );
    expect((await world.publishedIntents('iota')).map((i) => i.intentId)).toEqual([fresh.intent_id]);
    expect(await world.intents('iota')).toEqual([
      expect.objectContaining({ status: 'accepted', published: true }),
    ]);
    expect(statusOf(service.status(), 'iota').pending).toEqual({ EURCAD: '1000' });

    expect(await world.publishedIntents('kappa')).toEqual([]);
    expect(await world.intents('kappa')).toEqual([
      expect.objectContaining({ status: 'expired', published: false }),
    ]);
    const audit = await world.db.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'intent_expired')
      .executeTakeFirst();
    expect(audit?.detail).toMatchObject({ intentId: old.intent_id, sleeve: 'kappa' });
    expect(statusOf(service.status(), 'kappa').pending).toEqual({});
    // Nothing left for the periodic sweep.
    expect(await service.sweepOutbox()).toEqual({ published: 0, expired: 0 });
  });
});
