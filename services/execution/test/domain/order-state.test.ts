import { applyBrokerUpdate, type OrderStateSnapshot } from '../../src/domain/order-state';

const pending: OrderStateSnapshot = {
  status: 'pending',
  brokerStatus: null,
  quantity: '100000',
  filledQuantity: '0',
  remainingQuantity: '100000',
  averageFillPrice: null,
  errorCode: null,
  reason: null,
};

const status = (brokerStatus: string, filled: string, avg: string | null = null) =>
  ({
    kind: 'status',
    brokerStatus,
    filledQuantity: filled,
    remainingQuantity: '0',
    averageFillPrice: avg,
  }) as const;

function run(...updates: Parameters<typeof applyBrokerUpdate>[1][]): OrderStateSnapshot {
  return updates.reduce((state, update) => applyBrokerUpdate(state, update).next, pending);
}

describe('order state machine', () => {
  it.each([
    ['PreSubmitted', 'submitted'],
    ['Submitted', 'submitted'],
    ['PendingSubmit', 'submitted'],
    ['Cancelled', 'cancelled'],
    ['ApiCancelled', 'cancelled'],
    ['Inactive', 'inactive'],
  ])('moves a pending order to %s → %s', (brokerStatus, expected) => {
    expect(run(status(brokerStatus, '0')).status).toBe(expected);
  });

  it('goes pending → submitted → partially filled → filled', () => {
    const states = [
      status('Submitted', '0'),
      status('Submitted', '40000', '1.4823'),
      status('Filled', '100000', '1.4824'),
    ];
    let state = pending;
    const seen: string[] = [];
    for (const update of states) {
      state = applyBrokerUpdate(state, update).next;
      seen.push(state.status);
    }
    expect(seen).toEqual(['submitted', 'partially_filled', 'filled']);
    expect(state).toMatchObject({
      filledQuantity: '100000',
      remainingQuantity: '0',
      averageFillPrice: '1.4824',
    });
  });

  it('never lowers the filled quantity when IB repeats an older status', () => {
    const state = run(status('Submitted', '60000', '1.48'), status('Submitted', '20000', '1.47'));
    expect(state).toMatchObject({
      filledQuantity: '60000',
      remainingQuantity: '40000',
      averageFillPrice: '1.48',
    });
  });

  it('keeps a terminal order terminal', () => {
    expect(run(status('Cancelled', '0'), status('Submitted', '0')).status).toBe('cancelled');
    expect(run(status('Filled', '100000', '1.5'), status('Submitted', '0')).status).toBe('filled');
    expect(run({ kind: 'rejected', errorCode: 201, reason: 'no' }, status('Submitted', '0')).status).toBe(
      'rejected',
    );
  });

  it('turns a cancel into a fill when a racing fill completes the order', () => {
    expect(run(status('Cancelled', '40000'), status('Filled', '100000', '1.5')).status).toBe('filled');
  });

  it('records a definitive reject with its code; after fills it is a cancel of the rest', () => {
    expect(run({ kind: 'rejected', errorCode: 201, reason: 'margin' })).toMatchObject({
      status: 'rejected',
      errorCode: 201,
    });
    expect(
      run(status('Submitted', '10000', '1.5'), { kind: 'rejected', errorCode: 201, reason: 'x' }).status,
    ).toBe('cancelled');
  });

  it('takes an error right after an unexplained Inactive as the rejection, in either order', () => {
    const reject = { kind: 'rejected', errorCode: 201, reason: 'margin' } as const;
    expect(run(status('Inactive', '0'), reject)).toMatchObject({ status: 'rejected', errorCode: 201 });
    expect(run(reject, status('Inactive', '0'))).toMatchObject({ status: 'rejected', errorCode: 201 });
    // An Inactive that already carries its reason is final.
    expect(
      run(status('Inactive', '0'), reject, { kind: 'rejected', errorCode: 202, reason: 'later' }),
    ).toMatchObject({ errorCode: 201 });
  });

  it('reports no change when the broker repeats itself', () => {
    const once = run(status('Submitted', '0'));
    expect(applyBrokerUpdate(once, status('Submitted', '0')).changed).toBe(false);
  });
});
