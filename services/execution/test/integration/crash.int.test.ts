/**
 * Kill-and-restart proof of exactly-once: execution is SIGKILLed at every point of the order flow (and
 * inside recovery and reconciliation), over and over, while intents keep arriving and a limit order rests
 * at the broker throughout; afterwards the broker's orders equal the intents one-to-one, the resting
 * order is still one working order, and every broker fill is stored exactly once.
 */
import type { OrderIntent } from '@ibstack/contracts';
import { eventually, type SpawnedProcess } from '@ibstack/test-kit';

import { CRASH_POINTS } from '../../src/crash-points';
import { type Harness, intent, publishIntent, startHarness, startProcess } from './harness';

const KILLS = Number(process.env.CRASH_TEST_KILLS ?? 50);
const GENEROUS_LIMITS = JSON.stringify({
  maxOrderNotionalUsd: 1e12,
  maxPositionUsd: 1e13,
  maxOrdersPerMinute: 100000,
});

describe('execution under repeated SIGKILL', () => {
  let harness: Harness;
  let child: SpawnedProcess | undefined;

  afterAll(async () => {
    await child?.kill('SIGKILL');
    await harness?.close();
  });

  it(`never duplicates or loses an order or a fill across ${KILLS} kills`, async () => {
    harness = await startHarness({ speed: 120, initialCash: 1_000_000_000 });
    const env = {
      RISK_LIMITS_JSON: GENEROUS_LIMITS,
      INTENT_MAX_AGE_MS: '900000',
      LEASE_TTL_MS: '1000',
      INTENT_ACK_WAIT_MS: '1000',
    };
    const topSize = harness.sim.quote('EUR.CAD')?.askSize ?? 1_000_000;
    const intents: OrderIntent[] = [];
    const crashes: string[] = [];
    // A GTC buy limit far below the market rests through every kill: it must stay one working order,
    // never re-sent as a second, never settled as cancelled by a recovery.
    const quote = harness.sim.quote('EUR.CAD')!;
    const resting = intent({
      sleeve: 'crash',
      orderType: 'LMT',
      limitPrice: (Math.round((quote.bid * 0.8) / 0.00005) * 0.00005).toFixed(5),
      timeInForce: 'GTC',
      quantity: '25000',
    });
    await publishIntent(harness.bus, resting);

    for (let kill = 0; kill < KILLS; kill++) {
      const point = CRASH_POINTS[kill % CRASH_POINTS.length]!;
      const nth = 1 + (Math.floor(kill / CRASH_POINTS.length) % 2);
      child = await startProcess(harness, { ...env, IBSTACK_CRASH_AT: `${point}:${nth}` });
      // Every fourth order is larger than the top of book, so it fills in parts and a kill can land between them.
      for (let i = 0; i < 2; i++) {
        const large = (kill + i) % 4 === 0;
        const value = intent({
          sleeve: 'crash',
          side: (kill + i) % 2 === 0 ? 'BUY' : 'SELL',
          quantity: String(large ? Math.round(topSize * 2.5) : 10_000 + 1_000 * ((kill + i) % 7)),
        });
        intents.push(value);
        await publishIntent(harness.bus, value);
      }
      let timer: NodeJS.Timeout | undefined;
      const exited = await Promise.race([
        child.exited.then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 8_000))),
      ]);
      clearTimeout(timer);
      if (!exited) await child.kill('SIGKILL'); // the point was not reached in time: kill it wherever it is
      crashes.push(exited ? point : 'external');
      if (process.env.CRASH_TEST_DEBUG)
        process.stderr.write(
          `kill ${kill}: ${point}:${nth} -> ${exited ? 'crashed' : 'external'}\n${child.lines.slice(-15).join('\n')}\n`,
        );
      child = undefined;
    }

    child = await startProcess(harness, env);
    const expectedRefs = [...intents, resting].map((value) => value.intentId).sort();
    await eventually(
      async () => {
        const orders = await harness.database.db
          .selectFrom('orders')
          .select(['intent_id', 'broker_order_id', 'status', 'error_code', 'error_text'])
          .execute();
        expect(
          orders.filter((order) => order.intent_id !== resting.intentId && order.status !== 'filled'),
        ).toEqual([]);
        expect(orders.find((order) => order.intent_id === resting.intentId)?.status).toBe('submitted');
        expect(orders).toHaveLength(intents.length + 1);
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );

    // One broker order per intent, no more, no less.
    const simOrders = harness.sim.account.orders();
    expect(simOrders.map((order) => order.orderRef).sort()).toEqual(expectedRefs);
    const storedOrders = await harness.database.db
      .selectFrom('orders')
      .select(['intent_id', 'broker_order_id'])
      .execute();
    const simIdByRef = new Map(simOrders.map((order) => [order.orderRef, order.orderId]));
    for (const order of storedOrders) expect(order.broker_order_id).toBe(simIdByRef.get(order.intent_id!));

    const restingAtBroker = simOrders.filter((order) => order.orderRef === resting.intentId);
    expect(restingAtBroker.map((order) => order.status)).toEqual(['Submitted']);

    // Every broker fill stored exactly once.
    await eventually(async () => {
      const stored = await harness.database.db
        .selectFrom('executions')
        .select('exec_id')
        .where('superseded_by', 'is', null)
        .execute();
      expect(stored.map((row) => row.exec_id).sort()).toEqual(
        harness.sim.account
          .executions()
          .map((execution) => execution.execId)
          .sort(),
      );
    });
    const position = await harness.database.db
      .selectFrom('positions')
      .select('quantity')
      .where('instrument', '=', 'EURCAD')
      .executeTakeFirst();
    const simPosition = harness.sim.account
      .positions()
      .find((p) => p.instrument === 'EURCAD' || p.instrument === 'EUR.CAD');
    expect(Number(position?.quantity ?? 0)).toBe(simPosition?.quantity ?? 0);

    // The kills really happened at the named points, not only from outside.
    expect(new Set(crashes.filter((crash) => crash !== 'external')).size).toBeGreaterThanOrEqual(
      CRASH_POINTS.length - 1,
    );
  }, 600_000);
});
