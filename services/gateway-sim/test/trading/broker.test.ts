import { ManualClock } from '@ibstack/test-kit';

import type { ContractQuery } from '../../src/market/instruments';
import { InstrumentTable } from '../../src/market/instruments';
import { QuoteBook } from '../../src/market/quotes';
import { MarketSchedule } from '../../src/market/trading-hours';
import {
  Broker,
  type BrokerEvent,
  type BrokerState,
  type OrderRequest,
  type TransmitMode,
} from '../../src/trading/broker';

const table = new InstrumentTable();
const book = new QuoteBook(table, 42);
const EUR_CAD: ContractQuery = {
  symbol: 'EUR',
  secType: 'CASH',
  currency: 'CAD',
  exchange: 'IDEALPRO',
  primaryExchange: '',
  localSymbol: '',
  tradingClass: '',
};
const EUR_USD: ContractQuery = { ...EUR_CAD, currency: 'USD' };
const TUESDAY = '2026-03-03T15:00:00.000Z';

function setup(
  options: { start?: string; marketHours?: 'forex' | 'always-open'; transmitMode?: TransmitMode } = {},
) {
  const clock = new ManualClock(Date.parse(options.start ?? TUESDAY));
  const broker = new Broker({
    account: 'DU1234567',
    initialCash: 1_000_000,
    seed: 42,
    transmitMode: options.transmitMode ?? 'lenient',
    instruments: table,
    book,
    schedule: new MarketSchedule(options.marketHours ?? 'always-open'),
    now: clock.now,
  });
  /** Applies every decided fill at once (no gate), returning all events. */
  const run = (events: BrokerEvent[]): BrokerEvent[] => {
    const all = [...events];
    for (const event of events) if (event.type === 'fillDecided') all.push(...broker.applyFill(event.fill));
    return all;
  };
  return { clock, broker, run };
}

function order(overrides: Partial<OrderRequest> = {}): OrderRequest {
  return {
    orderId: 1,
    contract: EUR_CAD,
    action: 'BUY',
    totalQuantity: 20_000,
    orderType: 'MKT',
    lmtPrice: undefined,
    auxPrice: undefined,
    tif: 'DAY',
    account: '',
    orderRef: 'intent-1',
    transmit: true,
    parentId: 0,
    outsideRth: false,
    ...overrides,
  };
}

const errorsOf = (events: BrokerEvent[]) =>
  events.flatMap((event) =>
    event.type === 'orderError' ? [{ code: event.code, message: event.message }] : [],
  );

describe('simulated broker', () => {
  it('fills a market buy at the ask with an IB-style exec id and a USD 2 minimum commission', () => {
    const { broker, run, clock } = setup();
    const quote = book.at(table.get('EURCAD'), clock.now());
    const events = run(broker.placeOrder(7, order()));
    const execution = events.find((event) => event.type === 'execution');
    expect(execution).toMatchObject({
      order: {
        status: 'Filled',
        filled: 20_000,
        remaining: 0,
        avgFillPrice: quote.ask,
        orderRef: 'intent-1',
      },
      execution: {
        side: 'BOT',
        shares: 20_000,
        price: quote.ask,
        commission: 2,
        commissionCurrency: 'USD',
        orderRef: 'intent-1',
      },
    });
    expect(execution?.type === 'execution' && execution.execution.execId).toMatch(
      /^[0-9a-f]{8}\.[0-9a-f]{8}\.01\.01$/,
    );
    expect(broker.positionOf('EURCAD')).toEqual({ quantity: 20_000, averageCost: quote.ask });
  });

  it('fills an order larger than the top of book in parts, one book per second, charging the minimum once', () => {
    const { broker, run, clock } = setup();
    const events = run(broker.placeOrder(7, order({ totalQuantity: 12_000_000 })));
    const firstAsk = book.at(table.get('EURCAD'), clock.now());
    const first = events.filter((event) => event.type === 'execution');
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({
      order: { status: 'Submitted', filled: firstAsk.askSize, remaining: 12_000_000 - firstAsk.askSize },
    });
    for (let i = 0; i < 30 && broker.allOrders()[0]!.status !== 'Filled'; i++) {
      clock.advance(1_000);
      run(broker.evaluate());
    }
    const executions = broker.executions();
    expect(broker.allOrders()[0]).toMatchObject({ status: 'Filled', filled: 12_000_000 });
    expect(executions.length).toBeGreaterThan(2);
    expect(executions.reduce((sum, e) => sum + e.shares, 0)).toBe(12_000_000);
    expect(new Set(executions.map((e) => e.execId)).size).toBe(executions.length);
    const totalValueUsd = executions.reduce(
      (sum, e) => sum + e.shares * e.price * broker.toUsd('CAD', e.time),
      0,
    );
    const charged = executions.reduce((sum, e) => sum + e.commission, 0);
    expect(charged).toBeCloseTo(Math.max(2, totalValueUsd * 0.00002), 1);
  });

  it('rests a limit order until the ask reaches the limit and fills at that ask', () => {
    const { broker, run, clock } = setup();
    const instrument = table.get('EURCAD');
    const start = Math.floor(clock.now() / 1000);
    const asks = Array.from({ length: 1800 }, (_, i) => book.atSecond(instrument, start + i).ask);
    const limit = Math.min(...asks);
    const crossing = asks.findIndex((ask) => ask <= limit);
    const placed = run(broker.placeOrder(7, order({ orderType: 'LMT', lmtPrice: limit, tif: 'GTC' })));
    expect(placed.some((event) => event.type === 'execution')).toBe(crossing === 0);
    clock.advance(1_800_000);
    const events = run(broker.evaluate());
    const execution = events.find((event) => event.type === 'execution');
    expect(execution).toMatchObject({
      execution: { price: asks[crossing], time: (start + crossing) * 1000 },
    });
  });

  it('holds a stop order as PreSubmitted and turns it into a market order when the bid touches the stop', () => {
    const { broker, run, clock } = setup();
    const instrument = table.get('EURCAD');
    const start = Math.floor(clock.now() / 1000);
    const bids = Array.from({ length: 1800 }, (_, i) => book.atSecond(instrument, start + i).bid);
    const stop = Math.min(...bids.slice(1));
    const trigger = bids.findIndex((bid, i) => i > 0 && bid <= stop);
    const placed = run(
      broker.placeOrder(7, order({ action: 'SELL', orderType: 'STP', auxPrice: stop, tif: 'GTC' })),
    );
    expect(placed[0]).toMatchObject({ type: 'order', order: { status: 'PreSubmitted' } });
    clock.advance(1_800_000);
    const events = run(broker.evaluate());
    const statuses = events.flatMap((event) =>
      event.type === 'order' || event.type === 'execution' ? [event.order.status] : [],
    );
    expect(statuses).toEqual(['Submitted', 'Filled']);
    expect(events.find((event) => event.type === 'execution')).toMatchObject({
      execution: { side: 'SLD', price: bids[trigger] },
    });
  });

  it('holds a forex order placed on Saturday as PreSubmitted and fills it when the market opens on Sunday 17:00', () => {
    const { broker, run, clock } = setup({ start: '2026-03-07T15:00:00Z', marketHours: 'forex' });
    const placed = run(broker.placeOrder(7, order({ tif: 'GTC' })));
    expect(placed).toHaveLength(1);
    expect(placed).toMatchObject([{ type: 'order', order: { status: 'PreSubmitted' } }]);
    clock.set('2026-03-08T21:00:00.500Z');
    const events = run(broker.evaluate());
    expect(events.find((event) => event.type === 'execution')).toMatchObject({
      execution: { time: Date.parse('2026-03-08T21:00:00Z') },
    });
  });

  it('expires a DAY order at the end of the forex session and keeps a GTC one', () => {
    const { broker, run, clock } = setup({ marketHours: 'forex' });
    const far = book.at(table.get('EURCAD'), clock.now()).bid * 0.5;
    const limit = Math.round(far / 0.00005) * 0.00005;
    run(
      broker.placeOrder(
        7,
        order({ orderId: 1, orderType: 'LMT', lmtPrice: Number(limit.toFixed(5)), tif: 'DAY' }),
      ),
    );
    run(
      broker.placeOrder(
        7,
        order({ orderId: 2, orderType: 'LMT', lmtPrice: Number(limit.toFixed(5)), tif: 'GTC' }),
      ),
    );
    clock.set('2026-03-03T22:00:01Z'); // Tuesday 17:00:01 New York
    run(broker.evaluate());
    expect(broker.allOrders().map((o) => [o.orderId, o.status])).toEqual([
      [1, 'Cancelled'],
      [2, 'Submitted'],
    ]);
  });

  it('rejects invalid orders with IB codes and keeps nothing of them', () => {
    const { broker } = setup();
    expect(errorsOf(broker.placeOrder(7, order({ totalQuantity: 0 })))).toEqual([
      { code: 434, message: 'The order size cannot be zero.' },
    ]);
    const [missingLimit] = errorsOf(broker.placeOrder(7, order({ orderType: 'LMT' })));
    expect(missingLimit?.code).toBe(201);
    expect(missingLimit?.message).toMatch(/^Order rejected - reason:/);
    expect(errorsOf(broker.placeOrder(7, order({ orderType: 'LMT', lmtPrice: 1.450001 })))[0]?.code).toBe(
      110,
    );
    expect(errorsOf(broker.placeOrder(7, order({ orderType: 'TRAIL' })))[0]?.code).toBe(387);
    expect(errorsOf(broker.placeOrder(7, order({ contract: { ...EUR_CAD, currency: 'XYZ' } })))[0]).toEqual({
      code: 200,
      message: 'No security definition has been found for the request',
    });
    expect(errorsOf(broker.placeOrder(7, order({ contract: { ...EUR_CAD, exchange: '' } })))[0]?.code).toBe(
      321,
    );
    expect(errorsOf(broker.placeOrder(7, order({ totalQuantity: 1.5 })))[0]?.code).toBe(201);
    expect(broker.allOrders()).toEqual([]);
  });

  it('answers a reused order id with 103 and cancels with 202, 10147 and 10148 as IB does', () => {
    const { broker, run, clock } = setup();
    run(broker.placeOrder(7, order({ orderId: 1 })));
    expect(errorsOf(broker.placeOrder(7, order({ orderId: 1 })))).toEqual([
      { code: 103, message: 'Duplicate order id' },
    ]);
    expect(errorsOf(broker.cancelOrder(7, 1))).toEqual([
      { code: 10148, message: 'OrderId 1 that needs to be cancelled cannot be cancelled, state: Filled.' },
    ]);
    expect(errorsOf(broker.cancelOrder(7, 99))).toEqual([
      { code: 10147, message: 'OrderId 99 that needs to be cancelled is not found.' },
    ]);
    const limit = Number(
      (Math.round((book.at(table.get('EURCAD'), clock.now()).bid * 0.9) / 0.00005) * 0.00005).toFixed(5),
    );
    run(broker.placeOrder(7, order({ orderId: 2, orderType: 'LMT', lmtPrice: limit })));
    const cancelled = broker.cancelOrder(7, 2);
    expect(cancelled[0]).toMatchObject({ type: 'order', order: { status: 'Cancelled' } });
    expect(errorsOf(cancelled)).toEqual([{ code: 202, message: 'Order Canceled - reason:' }]);
    expect(broker.nextOrderId()).toBe(3);
  });

  it('ends a fully matched IOC order as Filled, never Cancelled, even when its fill is booked later', () => {
    const { broker } = setup();
    const placed = broker.placeOrder(7, order({ tif: 'IOC', totalQuantity: 10_000 }));
    expect(placed.map((event) => event.type)).toEqual(['order', 'fillDecided']);
    const fill = placed.find((event) => event.type === 'fillDecided')!;
    const booked = fill.type === 'fillDecided' ? broker.applyFill(fill.fill) : [];
    expect(booked.find((event) => event.type === 'execution')).toMatchObject({
      order: { status: 'Filled', filled: 10_000, remaining: 0 },
    });
    expect(errorsOf(booked)).toEqual([]);
    expect(broker.allOrders()[0]).toMatchObject({ status: 'Filled', filled: 10_000, remaining: 0 });
  });

  it('cancels only the unmatched rest of an IOC order, after its fill is booked, and matches nothing more', () => {
    const { broker, clock } = setup();
    const placed = broker.placeOrder(7, order({ tif: 'IOC', totalQuantity: 12_000_000 }));
    expect(errorsOf(placed)).toEqual([]);
    const fill = placed.find((event) => event.type === 'fillDecided')!;
    if (fill.type !== 'fillDecided') throw new Error('no fill');
    const matched = fill.fill.quantity;
    expect(matched).toBeLessThan(12_000_000);
    // While the fill waits in the gate, later seconds must not match the order again.
    clock.advance(2_000);
    expect(broker.evaluate()).toEqual([]);
    const booked = broker.applyFill(fill.fill);
    expect(booked.map((event) => (event.type === 'order' ? event.order.status : event.type))).toEqual([
      'execution',
      'position',
      'account',
      'Cancelled',
      'orderError',
    ]);
    expect(booked.find((event) => event.type === 'execution')).toMatchObject({
      order: { status: 'Submitted', filled: matched, remaining: 12_000_000 - matched },
    });
    expect(booked.find((event) => event.type === 'order')).toMatchObject({
      order: { status: 'Cancelled', filled: matched, remaining: 12_000_000 - matched },
    });
    expect(errorsOf(booked)).toEqual([{ code: 202, message: 'Order Canceled - reason:' }]);
  });

  it('cancels an IOC order that matched nothing at once', () => {
    const { broker, clock } = setup();
    const bid = book.at(table.get('EURCAD'), clock.now()).bid;
    const low = Number((Math.round((bid * 0.9) / 0.00005) * 0.00005).toFixed(5));
    const placed = broker.placeOrder(7, order({ tif: 'IOC', orderType: 'LMT', lmtPrice: low }));
    expect(placed.map((event) => (event.type === 'order' ? event.order.status : event.type))).toEqual([
      'Submitted',
      'Cancelled',
      'orderError',
    ]);
  });

  it('answers a new order with an id below one the client already used with 103, but not for another client', () => {
    const { broker, run } = setup();
    run(broker.placeOrder(7, order({ orderId: 10 })));
    expect(errorsOf(broker.placeOrder(7, order({ orderId: 9 })))).toEqual([
      { code: 103, message: 'Duplicate order id' },
    ]);
    expect(errorsOf(run(broker.placeOrder(8, order({ orderId: 9 }))))).toEqual([]);
    expect(broker.nextOrderId()).toBe(11);
  });

  it('modifies a working order placed again under the same id', () => {
    const { broker, run, clock } = setup();
    const bid = book.at(table.get('EURCAD'), clock.now()).bid;
    const low = Number((Math.round((bid * 0.9) / 0.00005) * 0.00005).toFixed(5));
    run(broker.placeOrder(7, order({ orderType: 'LMT', lmtPrice: low, tif: 'GTC' })));
    const modified = run(
      broker.placeOrder(
        7,
        order({
          orderType: 'LMT',
          lmtPrice: Number((low + 0.00005).toFixed(5)),
          totalQuantity: 30_000,
          tif: 'GTC',
        }),
      ),
    );
    expect(modified[0]).toMatchObject({
      type: 'order',
      order: { totalQuantity: 30_000, remaining: 30_000, status: 'Submitted' },
    });
    const marketable = run(
      broker.placeOrder(7, order({ orderType: 'MKT', totalQuantity: 30_000, tif: 'GTC' })),
    );
    expect(marketable.find((event) => event.type === 'execution')).toBeDefined();
    expect(broker.allOrders()).toHaveLength(1);
  });

  it('refuses a modify down to exactly the filled quantity, as IB does, and keeps the order working', () => {
    const { broker } = setup();
    const placed = broker.placeOrder(7, order({ totalQuantity: 12_000_000, tif: 'GTC' }));
    const fill = placed.find((event) => event.type === 'fillDecided')!;
    if (fill.type !== 'fillDecided') throw new Error('no fill');
    broker.applyFill(fill.fill);
    const refused = broker.placeOrder(7, order({ totalQuantity: fill.fill.quantity, tif: 'GTC' }));
    expect(errorsOf(refused)).toEqual([
      {
        code: 201,
        message: 'Order rejected - reason:The order size must be above the quantity already filled',
      },
    ]);
    expect(broker.allOrders()[0]).toMatchObject({ status: 'Submitted', totalQuantity: 12_000_000 });
  });

  it('holds an order without transmit in strict mode until it is transmitted', () => {
    const { broker, run } = setup({ transmitMode: 'strict' });
    const held = run(broker.placeOrder(7, order({ transmit: undefined })));
    expect(held).toHaveLength(1);
    expect(held).toMatchObject([{ type: 'order', order: { status: 'PendingSubmit', transmit: false } }]);
    expect(run(broker.evaluate())).toEqual([]);
    const sent = run(broker.placeOrder(7, order({ transmit: true })));
    expect(sent.find((event) => event.type === 'execution')).toBeDefined();
  });

  it('keeps a transmitted order working in strict mode when a modify leaves transmit unset', () => {
    const { broker, run, clock } = setup({ transmitMode: 'strict' });
    const bid = book.at(table.get('EURCAD'), clock.now()).bid;
    const low = Number((Math.round((bid * 0.9) / 0.00005) * 0.00005).toFixed(5));
    run(broker.placeOrder(7, order({ orderType: 'LMT', lmtPrice: low, tif: 'GTC', transmit: true })));
    const modified = run(broker.placeOrder(7, order({ orderType: 'MKT', tif: 'GTC', transmit: undefined })));
    expect(modified[0]).toMatchObject({ type: 'order', order: { status: 'Submitted', transmit: true } });
    expect(modified.find((event) => event.type === 'execution')).toMatchObject({
      order: { status: 'Filled' },
    });
  });

  it('treats an unset transmit as transmit in lenient mode', () => {
    const { broker, run } = setup({ transmitMode: 'lenient' });
    expect(
      run(broker.placeOrder(7, order({ transmit: undefined }))).find((event) => event.type === 'execution'),
    ).toBeDefined();
  });

  it('rejects the next order with the injected reason and code, then accepts again', () => {
    const { broker, run } = setup();
    broker.rejectNextOrder('Simulated rejection');
    const rejected = run(broker.placeOrder(7, order({ orderId: 1 })));
    expect(errorsOf(rejected)).toEqual([
      { code: 201, message: 'Order rejected - reason:Simulated rejection' },
    ]);
    // The reason first, then the order as Inactive, as IB sends them.
    expect(rejected.map((event) => event.type)).toEqual(['orderError', 'order']);
    expect(rejected[1]).toMatchObject({ type: 'order', order: { orderId: 1, status: 'Inactive' } });
    expect(broker.allOrders()[0]).toMatchObject({
      status: 'Inactive',
      rejectReason: 'Order rejected - reason:Simulated rejection',
    });
    expect(
      run(broker.placeOrder(7, order({ orderId: 2 }))).find((event) => event.type === 'execution'),
    ).toBeDefined();
  });

  it('refuses an order whose initial margin would exceed the equity', () => {
    const { broker } = setup();
    const events = broker.placeOrder(7, order({ contract: EUR_USD, totalQuantity: 50_000_000 }));
    const [error] = errorsOf(events);
    expect(error?.code).toBe(201);
    expect(error?.message).toContain('YOUR ORDER IS NOT ACCEPTED');
    expect(events.map((event) => event.type)).toEqual(['orderError', 'order']);
    expect(events[1]).toMatchObject({ type: 'order', order: { status: 'Inactive', filled: 0 } });
  });

  it('books realized P&L net of commissions and keeps net liquidation = cash at market', () => {
    const { broker, run, clock } = setup();
    run(broker.placeOrder(7, order({ orderId: 1, contract: EUR_USD, totalQuantity: 100_000 })));
    clock.advance(3_600_000);
    run(
      broker.placeOrder(7, order({ orderId: 2, contract: EUR_USD, action: 'SELL', totalQuantity: 100_000 })),
    );
    const [buy, sell] = broker.executions();
    const expectedRealized = (sell!.price - buy!.price) * 100_000 - buy!.commission - sell!.commission;
    const figures = broker.figures();
    expect(figures.realizedPnl).toBeCloseTo(expectedRealized, 6);
    expect(sell!.realizedPnl).toBeCloseTo((sell!.price - buy!.price) * 100_000 - sell!.commission, 2);
    expect(buy!.realizedPnl).toBeUndefined();
    expect(figures.netLiquidation).toBeCloseTo(1_000_000 + expectedRealized, 6);
    expect(figures.unrealizedPnl).toBeCloseTo(0, 6);
    expect(broker.positionOf('EURUSD')).toEqual({ quantity: 0, averageCost: 0 });
  });

  it("reports a position's market value, unrealized and realized P&L all in the contract's currency", () => {
    const { broker, run, clock } = setup();
    run(broker.placeOrder(7, order({ orderId: 1, totalQuantity: 100_000 })));
    clock.advance(3_600_000);
    run(broker.placeOrder(7, order({ orderId: 2, action: 'SELL', totalQuantity: 50_000 })));
    const [buy, sell] = broker.executions();
    const cadToUsd = (time: number) => broker.toUsd('CAD', time);
    const expectedCad =
      (sell!.price - buy!.price) * 50_000 -
      buy!.commission / cadToUsd(buy!.time) -
      sell!.commission / cadToUsd(sell!.time);
    const position = broker.figures().positions.find((entry) => entry.instrument === 'EURCAD')!;
    expect(position.realizedPnl).toBeCloseTo(expectedCad, 6);
    expect(position.marketValue).toBeCloseTo(50_000 * position.marketPrice, 6);
    expect(position.unrealizedPnl).toBeCloseTo((position.marketPrice - buy!.price) * 50_000, 6);
    // The snapshot keeps it in CAD across a restart.
    const restored = new Broker({
      account: 'DU1234567',
      initialCash: 1_000_000,
      seed: 42,
      transmitMode: 'lenient',
      instruments: table,
      book,
      schedule: new MarketSchedule('always-open'),
      now: clock.now,
      state: broker.snapshot(),
    });
    expect(
      restored.figures().positions.find((entry) => entry.instrument === 'EURCAD')!.realizedPnl,
    ).toBeCloseTo(expectedCad, 6);
  });

  it('restores from a snapshot with the same orders, positions and id counters', () => {
    const { broker, run } = setup();
    run(broker.placeOrder(7, order({ orderId: 41 })));
    const state = JSON.parse(JSON.stringify(broker.snapshot())) as ReturnType<Broker['snapshot']>;
    const restored = new Broker({
      account: 'DU1234567',
      initialCash: 1_000_000,
      seed: 42,
      transmitMode: 'lenient',
      instruments: table,
      book,
      schedule: new MarketSchedule('always-open'),
      now: () => Date.parse(TUESDAY) + 60_000,
      state,
    });
    expect(restored.nextOrderId()).toBe(42);
    expect(restored.positionOf('EURCAD')).toEqual(broker.positionOf('EURCAD'));
    const events = restored.placeOrder(7, order({ orderId: 42 }));
    const placed = events.find((event) => event.type === 'order');
    expect(placed?.type === 'order' && placed.order.permId).toBeGreaterThan(broker.allOrders()[0]!.permId);
    const fill = events.find((event) => event.type === 'fillDecided');
    const execution = fill?.type === 'fillDecided' ? restored.applyFill(fill.fill)[0] : undefined;
    expect(execution?.type === 'execution' && execution.execution.execId).not.toBe(
      broker.executions()[0]!.execId,
    );
  });

  it('prunes finished orders and executions after seven days, keeping working orders and used ids', () => {
    const { broker, run, clock } = setup();
    run(broker.placeOrder(7, order({ orderId: 5 })));
    const bid = book.at(table.get('EURCAD'), clock.now()).bid;
    const low = Number((Math.round((bid * 0.5) / 0.00005) * 0.00005).toFixed(5));
    run(broker.placeOrder(7, order({ orderId: 6, orderType: 'LMT', lmtPrice: low, tif: 'GTC' })));
    // A whole sped-up run (hours, past the 17:00 New York day end) keeps everything.
    clock.advance(8 * 3_600_000);
    broker.prune();
    expect(broker.allOrders().map((entry) => entry.orderId)).toEqual([5, 6]);
    expect(broker.executions()).toHaveLength(1);
    clock.advance(7 * 86_400_000);
    expect(broker.prune()).toBe(true);
    expect(broker.allOrders().map((entry) => entry.orderId)).toEqual([6]);
    expect(broker.executions()).toHaveLength(0);
    // The pruned order's id, and ids below this client's highest, stay used; also after a restart.
    expect(errorsOf(broker.placeOrder(7, order({ orderId: 5 })))).toEqual([
      { code: 103, message: 'Duplicate order id' },
    ]);
    const restored = new Broker({
      account: 'DU1234567',
      initialCash: 1_000_000,
      seed: 42,
      transmitMode: 'lenient',
      instruments: table,
      book,
      schedule: new MarketSchedule('always-open'),
      now: clock.now,
      state: JSON.parse(JSON.stringify(broker.snapshot())) as BrokerState,
    });
    expect(errorsOf(restored.placeOrder(7, order({ orderId: 4 })))).toEqual([
      { code: 103, message: 'Duplicate order id' },
    ]);
    expect(errorsOf(restored.placeOrder(8, order({ orderId: 4 })))).toEqual([]);
    expect(restored.nextOrderId()).toBe(7);
    expect(restored.snapshot().orders.map((entry) => entry.orderId)).toEqual([6, 4]);
  });

  it('moves a position without an order when it drifts, leaving net liquidation unchanged', () => {
    const { broker } = setup();
    const before = broker.figures().netLiquidation;
    broker.drift(table.get('EURCAD'), 10_000);
    expect(broker.positionOf('EURCAD')?.quantity).toBe(10_000);
    expect(broker.executions()).toEqual([]);
    // Within the rounding of the cross's quote to its tick.
    expect(Math.abs(broker.figures().netLiquidation - before)).toBeLessThan(1);
  });
});
