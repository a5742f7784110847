import {
  type BrokerOpenIdentity,
  isOpenAtBroker,
  type RecordedIdentity,
  type Settlement,
  type SettlementInput,
  settleMissingOrder,
} from '../../src/domain/settlement';

const ours: RecordedIdentity = { clientId: 10, brokerOrderId: 7, permId: '900' };

describe('recovery: is an order of ours still open at the broker', () => {
  it.each<[string, RecordedIdentity, BrokerOpenIdentity[], boolean]>([
    ['listed under our client and order id', ours, [{ clientId: 10, orderId: 7, permId: 0 }], true],
    [
      'listed under its perm id only (another client id)',
      ours,
      [{ clientId: 0, orderId: 0, permId: 900 }],
      true,
    ],
    [
      'the same order id under another client is not ours',
      ours,
      [{ clientId: 11, orderId: 7, permId: 0 }],
      false,
    ],
    ['not listed at all', ours, [], false],
    [
      'never sent (no broker order id, no perm id)',
      { clientId: 10, brokerOrderId: null, permId: null },
      [{ clientId: 10, orderId: 7, permId: 0 }],
      false,
    ],
    [
      'a perm id of 0 at the broker matches nothing',
      { clientId: 10, brokerOrderId: null, permId: '0' },
      [{ clientId: 10, orderId: 8, permId: 0 }],
      false,
    ],
  ])('%s', (_name, order, brokerOpen, expected) => {
    expect(isOpenAtBroker(order, brokerOpen)).toBe(expected);
  });
});

describe('recovery: settling an order the broker no longer lists', () => {
  const working: SettlementInput = {
    status: 'submitted',
    quantity: '20000',
    hasBrokerOrderId: true,
    executedQuantity: '0',
    policy: 'resend',
  };

  it.each<[string, Partial<SettlementInput>, Settlement]>([
    [
      'stored fills cover it: filled',
      { executedQuantity: '20000' },
      { kind: 'filled', filledQuantity: '20000' },
    ],
    [
      'stored fills more than cover it: filled with what was executed',
      { executedQuantity: '20000.00' },
      { kind: 'filled', filledQuantity: '20000' },
    ],
    [
      'partly filled, then gone: cancelled with the rest',
      { status: 'partially_filled', executedQuantity: '5000' },
      { kind: 'cancelled', filledQuantity: '5000', remainingQuantity: '15000' },
    ],
    [
      'working, never filled, gone: cancelled',
      {},
      { kind: 'cancelled', filledQuantity: '0', remainingQuantity: '20000' },
    ],
    ['pending, policy resend: sent again under its own id', { status: 'pending' }, { kind: 'resend' }],
    [
      'pending, policy fail: not sent',
      { status: 'pending', policy: 'fail' },
      { kind: 'not_sent', reason: 'recorded but never seen by the broker (recovery policy fail)' },
    ],
    [
      'pending without a broker order id: not sent, whatever the policy',
      { status: 'pending', hasBrokerOrderId: false },
      { kind: 'not_sent', reason: 'recorded but never seen by the broker (recovery policy fail)' },
    ],
    [
      'pending but its fills cover it (sent, filled, crashed before the status): filled',
      { status: 'pending', executedQuantity: '20000' },
      { kind: 'filled', filledQuantity: '20000' },
    ],
  ])('%s', (_name, overrides, expected) => {
    expect(settleMissingOrder({ ...working, ...overrides })).toEqual(expected);
  });
});
