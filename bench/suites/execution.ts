/**
 * Execution: intent → order at the gateway and intent → Filled, sequential (latency) and in a burst
 * (orders per second), beside two floors measured in the same run against the same simulated gateway:
 * raw `@stoqey/ib` placeOrder → Filled (no NATS, no database), and the same plus the one durable Postgres
 * write per order that exactly-once requires (the broker order id must be durable before the send, because
 * re-sending the same IB order id after a crash modifies that order instead of creating a second one).
 * Then reconciliation of 1,000 positions and 10,000 executions beside a bare query-and-compare.
 */
import { performance } from 'node:perf_hooks';

import { EventName, IBApi, OrderAction, OrderType, SecType, TimeInForce } from '@stoqey/ib';
import {
  deriveIntentId,
  nowIso,
  type OrderEvent,
  OrderEvent as OrderEventSchema,
  subjects,
  topics,
} from '@ibstack/contracts';
import { startGatewaySim } from '@ibstack/gateway-sim';
import { createRegistry } from '@ibstack/observability';
import {
  createTestBus,
  createTestDatabase,
  eventually,
  publishQuoteTicks,
  silentLogger,
  testEnvironment,
} from '@ibstack/test-kit';

import { ExecutionStore } from '../../services/execution/src/adapters/pg-store';
import { executionEnv } from '../../services/execution/src/config';
import { reconcile } from '../../services/execution/src/domain/reconcile';
import { connectExecution } from '../../services/execution/src/adapters/connect';
import { createExecutionService } from '../../services/execution/src/service';
import type { Figure, Suite } from '../lib/report';
import { percentile } from '../lib/stats';

const now = () => performance.timeOrigin + performance.now();
const EURCAD = { symbol: 'EUR', secType: SecType.CASH, exchange: 'IDEALPRO', currency: 'CAD' };
/** IB accepts about 50 messages a second from a client; both our client and the floor pace at 40. */
const REQUESTS_PER_SECOND = 40;
/**
 * Latency samples are spaced so the client's 40/s pacing never holds one back: `@stoqey/ib` paces in
 * 100 ms slices of 4 requests, and a sample that waits for the next slice measures the pacing, not us.
 */
const SAMPLE_SPACING_MS = 30;
const pause = () => new Promise((resolve) => setTimeout(resolve, SAMPLE_SPACING_MS));

export const executionSuite: Suite = {
  name: 'execution',
  description:
    'intent → order → Filled through execution vs raw @stoqey/ib (± one durable write); reconciliation',
  async run({ scale, log }) {
    const samples = Math.max(30, Math.round(150 * scale));
    const burst = Math.max(40, Math.round(200 * scale));
    const sim = await startGatewaySim({
      port: 0,
      marketHours: 'always-open',
      initialCash: 1e12,
      logger: silentLogger('gateway-sim'),
      registry: createRegistry('bench-sim', { defaultMetrics: false }),
    });
    const database = await createTestDatabase();
    const testBus = await createTestBus();
    const { bus } = testBus;
    const figures: Figure[] = [];
    // The ingestor's part: execution prices orders from the ticks on NATS.
    const stopTicks = publishQuoteTicks(bus, sim);
    try {
      // --- ours ---
      const config = executionEnv.parse({
        DATABASE_URL: database.url,
        NATS_URL: testEnvironment().natsUrl,
        BUS_NAMESPACE: testBus.namespace,
        IB_PORT: String(sim.port),
        HTTP_PORT: '0',
        RISK_LIMITS_JSON: JSON.stringify({
          maxOrderNotionalUsd: 1e12,
          maxPositionUsd: 1e15,
          maxOrdersPerMinute: 1e6,
        }),
      });
      const logger = silentLogger('execution');
      const registry = createRegistry('bench-execution', { defaultMetrics: false });
      const connections = await connectExecution(config, { logger, registry });
      const service = createExecutionService(config, { ...connections, logger, registry, http: false });
      await service.start();
      await eventually(
        async () =>
          (await database.db.selectFrom('reconciliation_runs').select('run_id').execute()).length > 0,
        {
          timeoutMs: 20_000,
        },
      );

      const filled = new Map<string, (at: number) => void>();
      const subscription = bus.nc.subscribe(bus.namespace.subject(subjects.orderEvent('EURCAD')), {
        callback: (_error, message) => {
          const parsed = OrderEventSchema.safeParse(message.json());
          if (!parsed.success) return;
          const event: OrderEvent = parsed.data;
          if (event.status === 'filled' && event.intentId) filled.get(event.intentId)?.(now());
        },
      });
      let sequence = 0;
      const intent = (side: 'BUY' | 'SELL') => {
        const barTs = new Date(Date.UTC(2030, 0, 1) + sequence++ * 60_000).toISOString();
        return {
          v: 1 as const,
          intentId: deriveIntentId({ sleeve: 'bench', instrument: 'EURCAD', barTs, sequence: 0 }),
          sleeve: 'bench',
          instrument: 'EURCAD',
          side,
          quantity: '10000',
          orderType: 'MKT' as const,
          timeInForce: 'DAY' as const,
          barTs,
          timeframe: '1m' as const,
          sequence: 0,
          referencePrice: '1.45',
          createdAt: nowIso(),
        };
      };
      const sentAt = (orderRef: string) =>
        sim.timeline().orders.find((order) => order.orderRef === orderRef)?.receivedAt;

      log(`execution: ${samples} intents one at a time`);
      const oursSent: number[] = [];
      const oursFilled: number[] = [];
      for (let i = 0; i < samples; i++) {
        const value = intent(i % 2 === 0 ? 'BUY' : 'SELL');
        const done = new Promise<number>((resolve) => filled.set(value.intentId, resolve));
        const start = now();
        await bus.publish(topics.orderIntent, value);
        const end = await done;
        oursFilled.push(end - start);
        oursSent.push(sentAt(value.intentId)! - start);
        await pause();
      }

      log(`execution: burst of ${burst} intents`);
      const burstStart = now();
      const burstDone = [];
      for (let i = 0; i < burst; i++) {
        const value = intent(i % 2 === 0 ? 'BUY' : 'SELL');
        burstDone.push(new Promise<number>((resolve) => filled.set(value.intentId, resolve)));
        await bus.publish(topics.orderIntent, value);
      }
      await Promise.all(burstDone);
      const oursRate = burst / ((now() - burstStart) / 1000);
      subscription.unsubscribe();
      await service.stop();
      await connections.close();

      // --- floors: raw @stoqey/ib, without and with one durable write per order ---
      const api = new IBApi({ host: '127.0.0.1', port: sim.port, maxReqPerSec: REQUESTS_PER_SECOND });
      let nextId = 0;
      const ready = new Promise<void>((resolve) =>
        api.once(EventName.nextValidId, (id: number) => ((nextId = id), resolve())),
      );
      api.connect(91);
      await ready;
      const rawFilled = new Map<number, (at: number) => void>();
      api.on(EventName.orderStatus, (orderId: number, status: string, _filled: number, remaining: number) => {
        if (status === 'Filled' && remaining === 0) rawFilled.get(orderId)?.(now());
      });
      await database.pool.query(
        'create table bench_orders (order_id integer primary key, order_ref text not null, created_at timestamptz not null default now())',
      );
      const place = async (write: boolean, side: OrderAction) => {
        const orderId = nextId++;
        const orderRef = `raw-${orderId}`;
        const done = new Promise<number>((resolve) => rawFilled.set(orderId, resolve));
        const start = now();
        if (write)
          await database.pool.query('insert into bench_orders (order_id, order_ref) values ($1, $2)', [
            orderId,
            orderRef,
          ]);
        api.placeOrder(orderId, EURCAD, {
          action: side,
          orderType: OrderType.MKT,
          totalQuantity: 10_000,
          tif: TimeInForce.DAY,
          orderRef,
          transmit: true,
        });
        return { orderRef, start, done };
      };
      const floors: Record<'raw' | 'write', { sent: number[]; filled: number[]; rate: number }> = {
        raw: { sent: [], filled: [], rate: 0 },
        write: { sent: [], filled: [], rate: 0 },
      };
      for (const kind of ['raw', 'write'] as const) {
        log(
          `floor (${kind === 'raw' ? 'raw @stoqey/ib' : 'raw + one Postgres write'}): ${samples} orders one at a time, burst of ${burst}`,
        );
        for (let i = 0; i < samples; i++) {
          const { orderRef, start, done } = await place(
            kind === 'write',
            i % 2 === 0 ? OrderAction.BUY : OrderAction.SELL,
          );
          floors[kind].filled.push((await done) - start);
          floors[kind].sent.push(sentAt(orderRef)! - start);
          await pause();
        }
        const start = now();
        const pending = [];
        for (let i = 0; i < burst; i++)
          pending.push(
            (await place(kind === 'write', i % 2 === 0 ? OrderAction.BUY : OrderAction.SELL)).done,
          );
        await Promise.all(pending);
        floors[kind].rate = burst / ((now() - start) / 1000);
      }
      api.disconnect();

      for (const [stage, ours, key] of [
        ['sent', oursSent, 'sent'],
        ['filled', oursFilled, 'filled'],
      ] as const) {
        for (const p of [50, 99]) {
          figures.push(
            {
              name: `execution.intent_to_${stage}.p${p}`,
              value: percentile(ours, p),
              unit: 'ms',
              baselineName: 'raw @stoqey/ib',
              baseline: percentile(floors.raw[key], p),
              better: 'lower',
            },
            {
              name: `execution.intent_to_${stage}.p${p}`,
              value: percentile(ours, p),
              unit: 'ms',
              baselineName: 'raw + 1 durable write',
              baseline: percentile(floors.write[key], p),
              better: 'lower',
            },
          );
        }
      }
      figures.push(
        {
          name: 'execution.sustained_orders',
          value: oursRate,
          unit: 'orders/s',
          baselineName: 'raw @stoqey/ib',
          baseline: floors.raw.rate,
          better: 'higher',
        },
        {
          name: 'execution.sustained_orders',
          value: oursRate,
          unit: 'orders/s',
          baselineName: 'raw + 1 durable write',
          baseline: floors.write.rate,
          better: 'higher',
        },
      );

      // --- reconciliation at size ---
      log('reconciliation: 1,000 positions and 10,000 executions');
      const positions = Array.from({ length: 1_000 }, (_, i) => ({
        account: 'DU1234567',
        instrument: `I${String(i).padStart(4, '0')}`,
        quantity: String(1_000 + i),
      }));
      const since = Date.UTC(2030, 0, 1);
      await database.db.deleteFrom('positions').execute();
      await database.db
        .insertInto('positions')
        .values(positions.map((p) => ({ ...p, average_cost: '1', cost_basis: p.quantity })))
        .execute();
      const executions = Array.from({ length: 10_000 }, (_, i) => ({
        exec_id: `bench.${i}.01`,
        broker_order_id: i + 1_000_000,
        perm_id: i + 1,
        account: 'DU1234567',
        instrument: positions[i % 1_000]!.instrument,
        side: 'BUY' as const,
        quantity: '1',
        price: '1',
        executed_at: new Date(since + i * 1_000),
      }));
      for (let i = 0; i < executions.length; i += 2_000)
        await database.db
          .insertInto('executions')
          .values(executions.slice(i, i + 2_000))
          .execute();
      const brokerView = {
        positions: positions.map(({ instrument, quantity }) => ({ instrument, quantity })),
        openOrders: [],
        executions: executions.map((e) => ({
          execId: e.exec_id,
          instrument: e.instrument,
          time: e.executed_at.getTime(),
        })),
        executionsSince: since,
      };
      const store = new ExecutionStore(database.db);
      const oursRecon: number[] = [];
      const bareRecon: number[] = [];
      for (let round = 0; round < 5; round++) {
        let start = now();
        const mismatches = reconcile(
          {
            positions: await store.positions.positions(),
            openOrders: [],
            executions: await store.executions.executionsSince(new Date(since)),
          },
          brokerView,
        );
        oursRecon.push(now() - start);
        if (mismatches.length > 0) throw new Error(`benchmark books disagree: ${mismatches[0]!.detail}`);
        start = now();
        const localPositions = await database.pool.query<{ instrument: string; quantity: string }>(
          'select instrument, quantity from positions',
        );
        const localExecutions = await database.pool.query<{ exec_id: string }>(
          'select exec_id from executions where executed_at >= $1',
          [new Date(since)],
        );
        const quantities = new Map(localPositions.rows.map((row) => [row.instrument, Number(row.quantity)]));
        const ids = new Set(localExecutions.rows.map((row) => row.exec_id));
        let differences = 0;
        for (const p of brokerView.positions)
          if (quantities.get(p.instrument) !== Number(p.quantity)) differences++;
        for (const e of brokerView.executions) if (!ids.has(e.execId)) differences++;
        bareRecon.push(now() - start);
        if (differences > 0) throw new Error('bare comparison found differences');
      }
      figures.push({
        name: 'execution.reconcile_1k_positions_10k_executions',
        value: percentile(oursRecon, 50),
        unit: 'ms',
        baselineName: 'bare query + Set compare',
        baseline: percentile(bareRecon, 50),
        better: 'lower',
      });
      return figures;
    } finally {
      stopTicks();
      await sim.close();
      await testBus.destroy();
      await database.drop();
    }
  },
};
