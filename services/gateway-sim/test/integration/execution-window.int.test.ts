import {
  type Contract,
  EventName,
  type Execution,
  type Order,
  OrderAction,
  type OrderState,
  OrderType,
} from '@stoqey/ib';
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

  it.each([176, 193] as const)(
    'still reports a fill past the cut-off through reqCompletedOrders: filled quantity, perm id, orderRef (server version %i)',
    async (serverVersion) => {
      const { sim: gateway, client } = await start({ timeZone: 'America/New_York', serverVersion });
      await buy(gateway, client, 1);
      client.api.placeOrder(2, forex('EUR.CAD'), {
        action: OrderAction.SELL,
        orderType: OrderType.LMT,
        lmtPrice: 9,
        totalQuantity: 20_000,
        orderRef: 'resting',
      });
      await eventually(() => expect(gateway.account.orders()).toHaveLength(2));
      client.api.cancelOrder(2, { manualOrderCancelTime: '' });
      await eventually(() =>
        expect(gateway.account.orders().map((order) => order.status)).toEqual(['Filled', 'Cancelled']),
      );
      gateway.faults.advanceClock(20 * 60_000);
      expect(await reqExecutions(client, 41)).toEqual([]);

      const completed: Array<{ order: Order; state: OrderState; contract: Contract }> = [];
      let ended = false;
      client.api.on(EventName.completedOrder, (contract: Contract, order: Order, state: OrderState) =>
        completed.push({ contract, order, state }),
      );
      client.api.on(EventName.completedOrdersEnd, () => (ended = true));
      client.api.reqCompletedOrders(true);
      await eventually(() => expect(ended).toBe(true));
      const [filled, cancelled] = gateway.account.orders();
      expect(completed).toHaveLength(2);
      expect(completed[0]).toMatchObject({
        contract: { localSymbol: 'EUR.CAD', secType: 'CASH' },
        order: {
          action: 'BUY',
          totalQuantity: 10_000,
          filledQuantity: 10_000,
          permId: filled!.permId,
          orderRef: filled!.orderRef,
          account: filled!.account,
        },
        state: { status: 'Filled', completedStatus: 'Filled' },
      });
      expect(completed[1]).toMatchObject({
        order: {
          action: 'SELL',
          filledQuantity: 0,
          permId: cancelled!.permId,
          orderRef: 'resting',
          lmtPrice: 9,
        },
        state: { status: 'Cancelled' },
      });
      expect(completed[0]!.state.completedTime).toMatch(/^\d{8} \d{2}:\d{2}:\d{2} America\/New_York$/);
      expect(client.decodingErrors()).toEqual([]);
    },
  );

  it('refuses an unknown time zone by name', async () => {
    await expect(startTestSim({ timeZone: 'Mars/Olympus' })).rejects.toThrow('timeZone');
  });
});
