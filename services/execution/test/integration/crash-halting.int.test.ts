/**
 * SIGKILL inside halting, and a hand-over with an order in flight. Part of the crash proof
 * (crash.int.test.ts kills the order flow itself):
 * - killed just before the halt is written, or just after it but before its cause is marked reported,
 *   the restarted execution halts again for the same trade: the halt is never lost, and the trade is
 *   marked reported exactly once the halt is in both places;
 * - an instance killed with an order recorded (or sent) and not acknowledged hands over to a standby
 *   with another identity, which settles the order: one broker order per intent, no more, no less.
 */
import { DurableTradingState } from '@ibstack/operator';
import { eventually, type SpawnedProcess } from '@ibstack/test-kit';

import { type Harness, intent, ordersOf, publishIntent, startHarness, startProcess } from './harness';

describe('execution killed inside halting and during a hand-over', () => {
  let harness: Harness | undefined;
  const children: SpawnedProcess[] = [];

  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => child.kill('SIGKILL')));
    await harness?.close();
    harness = undefined;
  });

  it.each(['before_halt_written', 'after_halt_written'])(
    'killed at %s, the restarted instance halts for the same trade and marks it reported once halted',
    async (point) => {
      harness = await startHarness({}, { RECONCILE_INTERVAL_MS: '2000' });
      const h = harness;
      const first = await startProcess(h, { IBSTACK_CRASH_AT: `${point}:1` });
      children.push(first);
      await eventually(
        async () =>
          expect(
            (await h.database.db.selectFrom('reconciliation_runs').select('run_id').execute()).length,
          ).toBeGreaterThan(0),
        { timeoutMs: 30_000 },
      );
      // A trade no intent explains: the next periodic run halts, and dies at the point.
      h.sim.faults.placeManualOrder({ orderRef: 'tws', instrument: 'EUR.CAD', side: 'BUY', quantity: 5_000 });
      const { signal } = await first.exited;
      expect(signal).toBe('SIGKILL');
      expect(first.lines.join('\n')).toContain(`crash point ${point} reached`);
      const flagged = () => h.database.db.selectFrom('executions').select('flagged_at').execute();
      // Killed before the cause was marked: nothing says it was reported.
      expect((await flagged()).every((row) => row.flagged_at === null)).toBe(true);

      children.push(await startProcess(h));
      await eventually(
        async () => {
          const reading = await new DurableTradingState({ bus: h.bus, db: h.database.db }).read();
          expect(reading.nats?.value.state).toBe('HALTED');
          expect(reading.postgres?.state).toBe('HALTED');
          expect(reading.effective.reason).toMatch(/matches no intent/);
          const rows = await flagged();
          expect(rows).toHaveLength(1);
          expect(rows[0]!.flagged_at).not.toBeNull();
        },
        { timeoutMs: 45_000 },
      );
    },
    120_000,
  );

  it.each(['after_db_write', 'after_send'])(
    'hands an order in flight (killed %s) over to a standby that settles it: one broker order per intent',
    async (point) => {
      harness = await startHarness({}, { LEASE_TTL_MS: '1500', INTENT_ACK_WAIT_MS: '1000' });
      const h = harness;
      const active = await startProcess(h, { INSTANCE_ID: 'active', IBSTACK_CRASH_AT: `${point}:1` });
      children.push(active);
      await eventually(
        async () =>
          expect(
            (await h.database.db.selectFrom('reconciliation_runs').select('run_id').execute()).length,
          ).toBeGreaterThan(0),
        { timeoutMs: 30_000 },
      );
      const standby = await startProcess(h, { INSTANCE_ID: 'standby' });
      children.push(standby);

      const inFlight = intent();
      await publishIntent(h.bus, inFlight);
      await active.exited;
      const later = intent({ side: 'SELL' });
      await publishIntent(h.bus, later);

      await eventually(
        async () => {
          const orders = await ordersOf(h);
          expect(orders.map((order) => [order.intent_id, order.status])).toEqual([
            [inFlight.intentId, 'filled'],
            [later.intentId, 'filled'],
          ]);
        },
        { timeoutMs: 60_000 },
      );
      const refs = h.sim.account.orders().map((order) => order.orderRef);
      expect(refs.sort()).toEqual([inFlight.intentId, later.intentId].sort());
      const epochs = (await ordersOf(h)).map((order) => Number(order.leader_epoch));
      expect(epochs[1]).toBeGreaterThan(epochs[0]!);
    },
    120_000,
  );
});
