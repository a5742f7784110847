/**
 * A real fill reaches the operator's phone: an order intent → execution (its own process) → the
 * gateway-sim through the real `@stoqey/ib` → a fill on `fill.EURCAD` → the notifier → Telegram.
 */
import { join } from 'node:path';

import { nowIso, topics } from '@ibstack/contracts';
import { type GatewaySim, startGatewaySim } from '@ibstack/gateway-sim';
import {
  eventually,
  makeOrderIntent,
  publishQuoteTicks,
  silentLogger,
  spawnTs,
  type SpawnedProcess,
} from '@ibstack/test-kit';

import { ALICE, BOB, type NotifierHarness, startNotifier } from './harness';

const EXECUTION_MAIN = join(__dirname, '..', '..', '..', 'execution', 'src', 'main.ts');

describe('a fill from the gateway-sim', () => {
  let sim: GatewaySim;
  let h: NotifierHarness;
  let execution: SpawnedProcess;
  let stopTicks: () => void = () => undefined;

  beforeAll(async () => {
    sim = await startGatewaySim({
      port: 0,
      speed: 60,
      marketHours: 'always-open',
      seed: 7,
      logger: silentLogger('gateway-sim'),
    });
    h = await startNotifier();
    // Execution prices orders from ticks on NATS: the ingestor's part.
    stopTicks = publishQuoteTicks(h.testBus.bus, sim);
    execution = spawnTs(EXECUTION_MAIN, [], {
      DATABASE_URL: h.env.DATABASE_URL,
      NATS_URL: h.env.NATS_URL,
      BUS_NAMESPACE: h.env.BUS_NAMESPACE,
      IB_HOST: '127.0.0.1',
      IB_PORT: String(sim.port),
      HTTP_PORT: '0',
      LEASE_TTL_MS: '1500',
      LOG_LEVEL: 'info',
    });
    await execution.waitForLine('execution started', 30_000);
  }, 60_000);

  afterAll(async () => {
    await execution?.kill('SIGTERM');
    stopTicks();
    await h?.close();
    await sim?.close();
  });

  it('is told to every chat with what the broker filled', async () => {
    const intent = makeOrderIntent({
      sleeve: 'demo',
      barTs: nowIso(),
      createdAt: nowIso(),
      quantity: '25000',
    });
    await h.testBus.bus.publish(topics.orderIntent, intent);

    const fillText = await eventually(
      () => {
        const text = h.telegram
          .textsTo(ALICE.id)
          .find((candidate) => candidate.includes('<b>Filled</b>') || candidate.includes(' fills</b>'));
        if (!text) throw new Error('no fill notification yet');
        return text;
      },
      { timeoutMs: 30_000 },
    );
    // What the notice says is what execution stored from the broker's execution report.
    const executions = await h.database.db
      .selectFrom('executions')
      .select(['exec_id', 'quantity', 'price', 'intent_id'])
      .where('intent_id', '=', intent.intentId)
      .execute();
    expect(executions.length).toBeGreaterThan(0);
    if (executions.length === 1) {
      const [execution] = executions;
      expect(fillText).toContain(`BUY 25,000 <b>EURCAD</b> @ ${execution!.price.replace(/0+$/, '')}`);
      expect(fillText).toContain('sleeve demo');
    } else {
      expect(fillText).toContain('BUY 25,000 <b>EURCAD</b> avg');
    }
    await eventually(() =>
      expect(h.telegram.textsTo(BOB.id).some((text) => text.includes('EURCAD'))).toBe(true),
    );
  }, 45_000);
});
