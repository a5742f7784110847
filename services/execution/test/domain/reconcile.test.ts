import { type BrokerView, type LocalView, reconcile } from '../../src/domain/reconcile';

const T = Date.parse('2026-11-24T15:00:00Z');
const empty: LocalView = { positions: [], openOrders: [], executions: [] };
const emptyBroker: BrokerView = {
  positions: [],
  openOrders: [],
  executions: [],
  executionsSince: T - 3_600_000,
};

describe('reconciliation', () => {
  it('finds nothing when the books agree', () => {
    const local: LocalView = {
      positions: [{ instrument: 'EURCAD', quantity: '20000' }],
      openOrders: [{ brokerOrderId: 5, intentId: 'i5', instrument: 'EURCAD', remainingQuantity: '10000' }],
      executions: [{ execId: 'e1', instrument: 'EURCAD', time: T }],
    };
    const broker: BrokerView = {
      ...emptyBroker,
      positions: [{ instrument: 'EURCAD', quantity: '20000.0' }],
      openOrders: [
        {
          brokerOrderId: 5,
          orderRef: 'i5',
          instrument: 'EURCAD',
          brokerStatus: 'Submitted',
          remainingQuantity: '10000',
        },
      ],
      executions: [{ execId: 'e1', instrument: 'EURCAD', time: T }],
    };
    expect(reconcile(local, broker)).toEqual([]);
  });

  it.each<[string, LocalView, BrokerView, string[]]>([
    [
      'drift: the broker holds more than we do',
      { ...empty, positions: [{ instrument: 'EURCAD', quantity: '20000' }] },
      { ...emptyBroker, positions: [{ instrument: 'EURCAD', quantity: '25000' }] },
      ['position_quantity'],
    ],
    [
      'a position only the broker has',
      empty,
      { ...emptyBroker, positions: [{ instrument: 'USDJPY', quantity: '-100' }] },
      ['position_unknown_locally'],
    ],
    [
      'a position only we have',
      { ...empty, positions: [{ instrument: 'EURUSD', quantity: '5' }] },
      emptyBroker,
      ['position_unknown_at_broker'],
    ],
    [
      'a missed fill (broker execution not stored)',
      empty,
      { ...emptyBroker, executions: [{ execId: 'e9', instrument: 'EURCAD', time: T }] },
      ['execution_missing_locally'],
    ],
    [
      'an order at the broker no intent explains',
      empty,
      {
        ...emptyBroker,
        openOrders: [
          {
            brokerOrderId: 77,
            orderRef: '',
            instrument: 'EURCAD',
            brokerStatus: 'Submitted',
            remainingQuantity: '1',
          },
        ],
      },
      ['open_order_unknown_locally'],
    ],
    [
      'an order we think works that the broker no longer has (partial fill then cancel unseen)',
      {
        ...empty,
        openOrders: [{ brokerOrderId: 3, intentId: 'i3', instrument: 'EURCAD', remainingQuantity: '5' }],
      },
      emptyBroker,
      ['open_order_unknown_at_broker'],
    ],
    [
      'a stored execution the broker never made',
      { ...empty, executions: [{ execId: 'ghost', instrument: 'EURCAD', time: T }] },
      emptyBroker,
      ['execution_unknown_at_broker'],
    ],
  ])('reports %s', (_name, local, broker, kinds) => {
    expect(reconcile(local, broker).map((mismatch) => mismatch.kind)).toEqual(kinds);
  });

  it('ignores differences within the tolerance and executions older than the broker window', () => {
    const local: LocalView = {
      positions: [{ instrument: 'EURCAD', quantity: '20000.4' }],
      openOrders: [],
      executions: [{ execId: 'old', instrument: 'EURCAD', time: T - 86_400_000 }],
    };
    const broker = { ...emptyBroker, positions: [{ instrument: 'EURCAD', quantity: '20000' }] };
    expect(reconcile(local, broker, { positionTolerance: '0.5' })).toEqual([]);
    expect(reconcile(local, broker).map((m) => m.kind)).toEqual(['position_quantity']);
  });

  it('treats a flipped position as one quantity mismatch', () => {
    const result = reconcile(
      { ...empty, positions: [{ instrument: 'EURCAD', quantity: '10000' }] },
      { ...emptyBroker, positions: [{ instrument: 'EURCAD', quantity: '-10000' }] },
    );
    expect(result).toEqual([
      expect.objectContaining({ kind: 'position_quantity', local: '10000', broker: '-10000' }),
    ]);
  });

  it('applies a tolerance per instrument, each account on its own', () => {
    const local: LocalView = {
      ...empty,
      positions: [
        { account: 'DU1', instrument: 'EURCAD', quantity: '20000' },
        { account: 'DU1', instrument: 'AAPL', quantity: '10' },
      ],
    };
    const broker: BrokerView = {
      ...emptyBroker,
      positions: [
        { account: 'DU1', instrument: 'EURCAD', quantity: '20900' },
        { account: 'DU1', instrument: 'AAPL', quantity: '11' },
        { account: 'DU2', instrument: 'AAPL', quantity: '10' },
      ],
    };
    const result = reconcile(local, broker, { positionToleranceByInstrument: { EURCAD: '1000' } });
    expect(result.map((m) => [m.kind, m.instrument, m.detail.includes('DU2')])).toEqual([
      ['position_quantity', 'AAPL', false],
      ['position_unknown_locally', 'AAPL', true],
    ]);
  });

  it('compares average costs within a relative tolerance, and open orders by quantity and price', () => {
    const local: LocalView = {
      ...empty,
      positions: [{ instrument: 'EURCAD', quantity: '20000', averageCost: '1.5' }],
      openOrders: [
        {
          brokerOrderId: 5,
          intentId: 'i5',
          instrument: 'EURCAD',
          remainingQuantity: '10000',
          quantity: '10000',
          limitPrice: '1.4',
        },
      ],
    };
    const broker: BrokerView = {
      ...emptyBroker,
      positions: [{ instrument: 'EURCAD', quantity: '20000', averageCost: '1.5006' }],
      openOrders: [
        {
          brokerOrderId: 5,
          orderRef: 'i5',
          instrument: 'EURCAD',
          brokerStatus: 'Submitted',
          remainingQuantity: '12000',
          quantity: '12000',
          limitPrice: '1.40',
        },
      ],
    };
    expect(reconcile(local, broker, { averageCostTolerance: '0.001' }).map((m) => m.kind)).toEqual([
      'open_order_terms',
    ]);
    expect(reconcile(local, broker, { averageCostTolerance: '0.0001' }).map((m) => m.kind)).toEqual([
      'position_average_cost',
      'open_order_terms',
    ]);
  });
});
