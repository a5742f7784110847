import { type Contract, EventName, type Execution, OrderAction, OrderType } from '@stoqey/ib';
import { eventually } from '@ibstack/test-kit';

import type { GatewaySim, GatewaySimOptions } from '../../src';
import { connectClient, forex, type RecordingClient, startTestSim } from '../support/harness';

/** Monday 2 March 2026, 23:50 New York (Tuesday 04:50 UTC): ten minutes before the gateway's midnight. */
const BEFORE_NEW_YORK_MIDNIGHT = '2026-03-03T04:50:00.000Z';

describe("IB's execution window: reqExecutions reports only what happened since the gateway's midnight", () => {
  let sim: GatewaySim | undefined;
  let connected: RecordingClient | undefined;
  afterEach(async () => {
    connected?.disconnect();
    await sim?.close();
  });

  async function start(options: GatewaySimOptions) {
    sim = await startTestSim({ startTime: BEFORE_NEW_YORK_MIDNIGHT, transmitMode: 'lenient', ...options });
    connected = await connectClient(sim, 1);
    return { sim, client: connected };
  }

  async function reqExecutions(client: RecordingClient, reqId: number): Promise<string[]> {
    const ids: string[] = [];
    let ended = false;
    const onDetails = (id: number, _contract: Contract, execution: Execution) => {
      if (id === reqId) ids.push(execution.execId!);
    };
    const onEnd = (id: number) => {
      if (id === reqId) ended = true;
    };
    client.api.on(EventName.execDetails, onDetails);
    client.api.on(EventName.execDetailsEnd, onEnd);
    client.api.reqExecutions(reqId, {});
    await eventually(() => expect(ended).toBe(true));
    client.api.off(EventName.execDetails, onDetails);
    client.api.off(EventName.execDetailsEnd, onEnd);
    return ids;
  }

  async function buy(gateway: GatewaySim, client: RecordingClient, orderId: number) {
    const before = gateway.account.executions().length;
    client.api.placeOrder(orderId, forex('EUR.CAD'), {
      action: OrderAction.BUY,
      orderType: OrderType.MKT,
      totalQuantity: 10_000,
    });
    await eventually(() => expect(gateway.account.executions()).toHaveLength(before + 1));
    return gateway.account.executions()[before]!.execId;
  }

  it('drops an execution from reqExecutions once the clock passes midnight in the gateway zone', async () => {
    const { sim: gateway, client } = await start({ timeZone: 'America/New_York' });
    const beforeMidnight = await buy(gateway, client, 1);
    expect(await reqExecutions(client, 11)).toEqual([beforeMidnight]);

    gateway.faults.advanceClock(20 * 60_000);
    expect(gateway.now()).toBeGreaterThan(Date.parse('2026-03-03T05:00:00.000Z'));
    const afterMidnight = await buy(gateway, client, 2);
    expect(await reqExecutions(client, 12)).toEqual([afterMidnight]);
    // The broker still has it: only the API no longer reports it.
    expect(gateway.account.executions().map((execution) => execution.execId)).toEqual([
      beforeMidnight,
      afterMidnight,
    ]);
  });

  it("uses the gateway's zone: 23:50 New York is already past midnight UTC", async () => {
    const { sim: gateway, client } = await start({ timeZone: 'UTC' });
    const first = await buy(gateway, client, 1);
    gateway.faults.advanceClock(20 * 60_000);
    expect(await reqExecutions(client, 21)).toEqual([first]);
  });

  it('keeps every execution with executionWindow unlimited (a TWS with a 7-day trade log)', async () => {
    const { sim: gateway, client } = await start({
      timeZone: 'America/New_York',
      executionWindow: 'unlimited',
    });
    const first = await buy(gateway, client, 1);
    gateway.faults.advanceClock(20 * 60_000);
    const second = await buy(gateway, client, 2);
    expect(await reqExecutions(client, 31)).toEqual([first, second]);
  });

  it('refuses an unknown time zone by name', async () => {
    await expect(startTestSim({ timeZone: 'Mars/Olympus' })).rejects.toThrow('timeZone');
  });
});
