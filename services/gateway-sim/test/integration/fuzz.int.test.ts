import { setTimeout as delay } from 'node:timers/promises';

import { BarSizeSetting, EventName, OrderAction, OrderType, SecType } from '@stoqey/ib';
import { createRegistry, type Registry } from '@ibstack/observability';
import { eventually } from '@ibstack/test-kit';

import type { GatewaySim } from '../../src';
import { encodeWithClient } from '../support/client-encoder';
import { connectClient, forex, startTestSim } from '../support/harness';
import { helloBytes, RawClient } from '../support/raw-client';

/** mulberry32: a small seeded generator, so a failing run can be replayed with the same seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const SEED = Number(process.env.FUZZ_SEED ?? 20260303);
const EUR_CAD = { symbol: 'EUR', secType: SecType.CASH, currency: 'CAD', exchange: 'IDEALPRO' };

/** Valid frames of every request the simulator serves, as @stoqey/ib encodes them: the material to mutate. */
function validFrames(serverVersion: number): string[][] {
  return encodeWithClient(serverVersion, (encoder) => {
    encoder.reqMktData(1, EUR_CAD, '', false, false);
    encoder.cancelMktData(1);
    encoder.placeOrder(2, EUR_CAD, {
      action: OrderAction.BUY,
      orderType: OrderType.LMT,
      lmtPrice: 1.4,
      totalQuantity: 1000,
    });
    encoder.cancelOrder(2, { manualOrderCancelTime: '' });
    encoder.reqOpenOrders();
    encoder.reqAllOpenOrders();
    encoder.reqAccountUpdates(true, 'DU1234567');
    encoder.reqExecutions(3, {});
    encoder.reqIds(1);
    encoder.reqContractDetails(4, EUR_CAD);
    encoder.reqHistoricalData(
      5,
      EUR_CAD,
      '',
      '3600 S',
      BarSizeSetting.MINUTES_FIVE,
      'MIDPOINT',
      0,
      1,
      false,
      [],
    );
    encoder.cancelHistoricalData(5);
    encoder.reqCurrentTime();
    encoder.reqRealTimeBars(6, EUR_CAD, 5, 'MIDPOINT', false, []);
    encoder.cancelRealTimeBars(6);
    encoder.reqPositions();
    encoder.cancelPositions();
    encoder.reqAccountSummary(7, 'All', 'NetLiquidation');
    encoder.cancelAccountSummary(7);
    encoder.reqManagedAccts();
    encoder.reqMarketDataType(1);
  });
}

function frame(fields: readonly string[], dropTerminator: boolean): Buffer {
  const text = fields.join('\0') + (dropTerminator ? '' : '\0');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(Buffer.byteLength(text));
  return Buffer.concat([length, Buffer.from(text)]);
}

describe('fuzzing the API port', () => {
  let sim: GatewaySim;
  let registry: Registry;

  beforeEach(async () => {
    registry = createRegistry('test', { defaultMetrics: false });
    sim = await startTestSim({ speed: 60, pacing: false, registry });
  });

  async function total(name: string): Promise<number> {
    const metric = await registry.getSingleMetric(name)!.get();
    return metric.values.reduce((sum, value) => sum + value.value, 0);
  }
  afterEach(async () => {
    await sim.close();
  });

  it(`survives thousands of random and mutated frames (seed ${SEED}) and still serves a normal client`, async () => {
    const next = random(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const randomText = () => {
      const kinds = [
        '',
        '0',
        '-1',
        '2147483647',
        '1.7976931348623157E308',
        'NaN',
        'Infinity',
        '1e400',
        '-99999999999',
        'abc',
        '\u00ff\u2603',
        'EUR',
        'BUY',
        'LMT',
        '5 mins',
        '1 D',
      ];
      return next() < 0.7 ? pick(kinds) : Math.floor(next() * 10 ** Math.floor(next() * 12)).toString();
    };
    const material = validFrames(176);
    const mutate = (fields: string[]) => {
      const mutations = 1 + Math.floor(next() * 3);
      for (let m = 0; m < mutations; m++) {
        const what = next();
        const at = Math.floor(next() * fields.length);
        if (what < 0.3) fields[at] = randomText();
        else if (what < 0.45) fields.splice(at, 1);
        else if (what < 0.6) fields.splice(at, 0, randomText());
        else if (what < 0.7) fields.length = Math.max(1, at);
        else if (what < 0.8) fields[0] = String(Math.floor(next() * 120));
        else if (what < 0.9) fields.push(...Array.from({ length: Math.floor(next() * 20) }, randomText));
      }
      return fields;
    };

    // Well-framed requests with mutated content: each must be read and answered (or ignored), none may
    // end the session.
    let mutated = 0;
    for (let connection = 0; mutated < 3_000; connection++) {
      const raw = await RawClient.open(sim.port);
      raw.write(helloBytes());
      raw.send([71, 2, 1000 + connection, '']);
      for (let i = 0; i < 250; i++, mutated++) raw.write(frame(mutate([...pick(material)]), next() < 0.05));
      await eventually(() => expect(raw.frames.length).toBeGreaterThan(0));
      await delay(20);
      expect(raw.closed).toBe(false);
      raw.destroy();
    }
    await eventually(async () =>
      expect(await total('gateway_sim_messages_received_total')).toBeGreaterThanOrEqual(3_000),
    );

    // Broken framing: garbage, an oversized length, a wrong hello, a disconnect in the middle of a message.
    for (let connection = 0; connection < 200; connection++) {
      const raw = await RawClient.open(sim.port);
      const attack = next();
      if (attack < 0.2) {
        raw.write(
          Buffer.from(Array.from({ length: 1 + Math.floor(next() * 64) }, () => Math.floor(next() * 256))),
        );
      } else if (attack < 0.4) {
        raw.write(helloBytes(pick(['v', 'v1..', 'x100..193', 'v999999', ''])));
      } else {
        raw.write(helloBytes());
        raw.send([71, 2, 5000 + connection, '']);
        if (attack < 0.6) {
          const huge = Buffer.alloc(4);
          huge.writeUInt32BE(0x7fffffff);
          raw.write(huge);
        } else if (attack < 0.8) {
          raw.write(
            Buffer.from(Array.from({ length: 1 + Math.floor(next() * 64) }, () => Math.floor(next() * 256))),
          );
        } else {
          const bytes = frame(mutate([...pick(material)]), false);
          raw.write(bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2))));
        }
      }
      await delay(1);
      raw.destroy();
    }
    expect(await total('gateway_sim_protocol_errors_total')).toBeGreaterThan(0);

    // The simulator still serves an ordinary client in full.
    const client = await connectClient(sim, 1);
    try {
      const times: number[] = [];
      client.api.on(EventName.currentTime, (time: number) => times.push(time));
      client.api.reqCurrentTime();
      client.api.placeOrder(client.nextValidId, forex('EUR.USD'), {
        action: OrderAction.BUY,
        orderType: OrderType.MKT,
        totalQuantity: 10_000,
        transmit: true,
      });
      await eventually(() => expect(times).toHaveLength(1));
      await eventually(() =>
        expect(
          sim.account.orders().find((order) => order.clientId === 1 && order.instrument === 'EURUSD')?.status,
        ).toBe('Filled'),
      );
      expect(client.decodingErrors()).toEqual([]);
    } finally {
      client.disconnect();
    }
  });
});
