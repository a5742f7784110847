import { fillCommission, orderCommissionTotal } from '../../src/trading/commission';

describe('commissions', () => {
  it('charges forex 0.2 basis points of the USD value with a USD 2 minimum per order', () => {
    expect(orderCommissionTotal('CASH', 20_000, 21_700)).toBe(2);
    expect(orderCommissionTotal('CASH', 10_000_000, 10_850_000)).toBeCloseTo(217, 6);
  });

  it('charges the order minimum once across partial fills', () => {
    const first = fillCommission({
      secType: 'CASH',
      cumulativeQuantity: 10_000,
      cumulativeValueUsd: 10_850,
      alreadyCharged: 0,
    });
    const second = fillCommission({
      secType: 'CASH',
      cumulativeQuantity: 20_000,
      cumulativeValueUsd: 21_700,
      alreadyCharged: first,
    });
    expect([first, second]).toEqual([2, 0]);
    const big = fillCommission({
      secType: 'CASH',
      cumulativeQuantity: 5_000_000,
      cumulativeValueUsd: 5_425_000,
      alreadyCharged: 2,
    });
    expect(big).toBeCloseTo(106.5, 2);
  });

  it('charges stocks USD 0.005 a share, at least USD 1 and at most 1% of the value', () => {
    expect(orderCommissionTotal('STK', 100, 19_000)).toBe(1);
    expect(orderCommissionTotal('STK', 1_000, 190_000)).toBe(5);
    expect(orderCommissionTotal('STK', 1_000, 300)).toBe(3);
  });
});
