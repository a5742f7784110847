import { ordersFromDecisions, orderToTarget, targetQuantity } from '@ibstack/strategy';
import { exactTargetQuantity, fastTargetSteps } from '../../src/domain/sizing';
import { fxRatesFromLastPrices } from '@ibstack/risk';
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

  it('sizes a USD-based pair (USD.JPY) at its USD capital, not a step short', () => {
    // The JPY rate comes from the USD.JPY price itself: 1 USD of capital is 1 unit of USD.JPY.
    for (const price of ['150', '100.013', '157.333']) {
      const jpy = fxRatesFromLastPrices({ USDJPY: price });
      const args = { capitalUsd: '25000', price, currency: 'JPY', rates: jpy, quantityStep: '1000' };
      expect([price, targetQuantity({ ...args, weight: 1 }).toFixed()]).toEqual([price, '25000']);
      expect([price, targetQuantity({ ...args, weight: -1 }).toFixed()]).toEqual([price, '-25000']);
    }
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

  it.each([
    // weight as the strategy computed it, → quantity ordered (10 000 USD of AAPL at 50 USD in steps of 10)
    ['0.3 - 0.1', 0.3 - 0.1, '40'], // 0.19999999999999998: truncated, it lost a step (30)
    ['0.7 * 3 / 7', (0.7 * 3) / 7, '60'], // 0.29999999999999993
    ['1 - 0.9', 1 - 0.9, '20'], // 0.09999999999999998
    ['0.1 + 0.2', 0.1 + 0.2, '60'], // 0.30000000000000004: never rounded up past the weight either
    ['1 / 3', 1 / 3, '60'],
    ['0.123456789012345', 0.123456789012345, '20'],
  ])('sizes a float weight of %s as the decimal it stands for', (_name, weight, quantity) => {
    const { orders } = ordersFromDecisions(
      [{ type: 'target', instrument: 'AAPL', weight }],
      {
        capitalUsd: '10000',
        sizing: { quantityStep: '10', minQuantity: '10' },
        currencyOf: () => 'USD',
        priceOf: () => '50',
        exposureOf: () => new Decimal(0),
      },
      rates,
    );
    expect(orders.map((order) => order.quantity)).toEqual([quantity]);
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

describe('targetQuantity in floating point', () => {
  // Seeded, so a failure names an input that fails again.
  let state = 99;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;

  it('gives the decimal result for random prices, weights, capitals, rates and steps', () => {
    let fast = 0;
    for (let i = 0; i < 20_000; i++) {
      const input = {
        weight: pick([1, -1, 0, 0.5, -0.25, '0.3', '-0.75', random() * 2 - 1]),
        capitalUsd: pick(['23000', '25000', '1000000', '50000.5', String(Math.round(random() * 1e7) / 100)]),
        price: (random() * pick([2, 200, 20_000])).toFixed(pick([0, 2, 4, 5])),
        currency: pick(['CAD', 'USD', 'EUR', 'JPY']),
        rates: { USD: '1', CAD: '0.72', EUR: '1.0834', JPY: '0.0067' },
        quantityStep: pick(['1000', '1', '100', '0.01', '0.5', '25000']),
      };
      if (Number(input.price) === 0) continue;
      if (fastTargetSteps(input) !== undefined) fast += 1;
      expect(targetQuantity(input).toFixed()).toBe(exactTargetQuantity(input).toFixed());
      expect(targetQuantity(input).isNeg()).toBe(exactTargetQuantity(input).isNeg());
    }
    // Nearly all take the fast path.
    expect(fast).toBeGreaterThan(19_000);
  });

  it('takes the decimal path on a whole number of steps and near one, and for inputs Number() reads differently', () => {
    const base = { currency: 'CAD', rates: { USD: '1', CAD: '0.8' }, quantityStep: '1000' };
    // 24 000 / (1.5 × 0.8) = 20 000: exactly 20 steps.
    const exact = { ...base, weight: 1, capitalUsd: '24000', price: '1.5' };
    expect(fastTargetSteps(exact)).toBeUndefined();
    expect(targetQuantity(exact).toFixed()).toBe('20000');
    expect(targetQuantity({ ...exact, weight: -1 }).toFixed()).toBe('-20000');
    // A hair under 20 steps: truncates to 19 in decimal, and so here.
    const under = { ...exact, capitalUsd: '23999.99999999999999' };
    expect(fastTargetSteps(under)).toBeUndefined();
    expect(targetQuantity(under).toFixed()).toBe(exactTargetQuantity(under).toFixed());
    expect(targetQuantity(under).toFixed()).toBe('19000');
    // Forms decimal.js and Number() read differently, and a missing rate, take the decimal path.
    expect(fastTargetSteps({ ...exact, price: ' 1.5' })).toBeUndefined();
    expect(() => targetQuantity({ ...exact, price: ' 1.5' })).toThrow();
    expect(fastTargetSteps({ ...exact, weight: '0x1' })).toBeUndefined();
    expect(() => targetQuantity({ ...exact, currency: 'CHF' })).toThrow(/no FX rate from CHF/);
  });
});
