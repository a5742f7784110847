import { ordersFromDecisions, orderToTarget, targetQuantity } from '@ibstack/strategy';
import Decimal from 'decimal.js';

const rates = { USD: '1', CAD: '0.72' };

describe('sizing', () => {
  it('sizes a full-weight target from capital, price and FX, rounded toward zero to the step', () => {
    // 25 000 USD / (1.5 CAD × 0.72 USD/CAD) = 23 148.1 EUR → 23 000 in steps of 1 000.
    const args = { capitalUsd: '25000', price: '1.5', currency: 'CAD', rates, quantityStep: '1000' };
    expect(targetQuantity({ ...args, weight: 1 }).toFixed()).toBe('23000');
    expect(targetQuantity({ ...args, weight: -1 }).toFixed()).toBe('-23000');
    expect(targetQuantity({ ...args, weight: '0.5' }).toFixed()).toBe('11000');
    expect(targetQuantity({ ...args, weight: 0 }).toFixed()).toBe('0');
  });

  it('orders the difference to the target and skips differences below the minimum', () => {
    const rules = { quantityStep: '1000', minQuantity: '1000' };
    expect(orderToTarget(new Decimal(23000), new Decimal(5000), rules)).toEqual({
      side: 'BUY',
      quantity: new Decimal(18000),
    });
    expect(orderToTarget(new Decimal(-23000), new Decimal(23000), rules)?.quantity.toFixed()).toBe('46000');
    expect(orderToTarget(new Decimal(0), new Decimal(500), rules)).toBeNull();
    expect(orderToTarget(new Decimal(0), new Decimal(0), rules)).toBeNull();
  });

  it('lets decisions of one batch see each other, so a repeated target orders once', () => {
    const view = {
      capitalUsd: '25000',
      sizing: { quantityStep: '1000', minQuantity: '1000' },
      currencyOf: () => 'CAD',
      priceOf: () => '1.5',
      exposureOf: () => new Decimal(-3000),
    };
    const { orders, notes } = ordersFromDecisions(
      [
        { type: 'target', instrument: 'EURCAD', weight: 1 },
        { type: 'target', instrument: 'EURCAD', weight: 1 },
        {
          type: 'order',
          instrument: 'EURCAD',
          side: 'SELL',
          quantity: '500',
          orderType: 'LMT',
          limitPrice: '1.6',
        },
      ],
      view,
      rates,
    );
    expect(notes).toEqual([]);
    expect(orders).toEqual([
      {
        instrument: 'EURCAD',
        currency: 'CAD',
        side: 'BUY',
        quantity: '26000',
        orderType: 'MKT',
        referencePrice: '1.5',
      },
      {
        instrument: 'EURCAD',
        currency: 'CAD',
        side: 'SELL',
        quantity: '500',
        orderType: 'LMT',
        limitPrice: '1.6',
        referencePrice: '1.5',
      },
    ]);
  });

  it('ignores a decision on an instrument without a price yet, and says so', () => {
    const { orders, notes } = ordersFromDecisions(
      [{ type: 'target', instrument: 'EURCAD', weight: 1 }],
      {
        capitalUsd: '1000',
        sizing: { quantityStep: '1', minQuantity: '1' },
        currencyOf: () => 'CAD',
        priceOf: () => undefined,
        exposureOf: () => new Decimal(0),
      },
      rates,
    );
    expect(orders).toEqual([]);
    expect(notes).toEqual(['no price for EURCAD yet; decision ignored']);
  });
});
