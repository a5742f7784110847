import { parseExecId } from '@ibstack/contracts';

import {
  isReconstructedExecId,
  type ReconstructionInput,
  reconstructedExecId,
  reconstructFill,
} from '../../src/domain/reconstruct';

const base: ReconstructionInput = {
  side: 'BUY',
  orderType: 'MKT',
  limitPrice: null,
  brokerFilledQuantity: '20000',
  storedQuantity: '0',
  storedValue: '0',
  statusFilledQuantity: null,
  statusAverageFillPrice: null,
  position: null,
};

describe('rebuilding a fill IB no longer lists', () => {
  it.each<[string, Partial<ReconstructionInput>, ReturnType<typeof reconstructFill>]>([
    [
      'nothing when we stored every fill',
      { storedQuantity: '20000', storedValue: '29600' },
      { kind: 'nothing_missing' },
    ],
    [
      'nothing when we stored more (an overfill is reconciliation’s)',
      { storedQuantity: '30000' },
      { kind: 'nothing_missing' },
    ],
    [
      'the rest of a partly stored order, priced from its last status',
      {
        storedQuantity: '5000',
        storedValue: '7400',
        statusFilledQuantity: '20000',
        statusAverageFillPrice: '1.49',
      },
      { kind: 'rebuilt', quantity: '15000', price: '1.4933333333', priceSource: 'order_average_fill_price' },
    ],
    [
      'a status that did not see every fill is not used',
      { statusFilledQuantity: '10000', statusAverageFillPrice: '1.49' },
      { kind: 'no_price', quantity: '20000', reason: expect.any(String) as string },
    ],
    [
      'a buy that opened the position: the broker’s average cost',
      {
        position: {
          localQuantity: '0',
          localAverageCost: '0',
          brokerQuantity: '20000',
          brokerAverageCost: '1.4801',
        },
      },
      { kind: 'rebuilt', quantity: '20000', price: '1.4801', priceSource: 'position_average_cost' },
    ],
    [
      'a buy that added to a long: the price that moves the average',
      {
        position: {
          localQuantity: '10000',
          localAverageCost: '1.4',
          brokerQuantity: '30000',
          brokerAverageCost: '1.45',
        },
      },
      { kind: 'rebuilt', quantity: '20000', price: '1.475', priceSource: 'position_average_cost' },
    ],
    [
      'a sell that added to a short',
      {
        side: 'SELL',
        position: {
          localQuantity: '-10000',
          localAverageCost: '1.4',
          brokerQuantity: '-30000',
          brokerAverageCost: '1.45',
        },
      },
      { kind: 'rebuilt', quantity: '20000', price: '1.475', priceSource: 'position_average_cost' },
    ],
    [
      'a fill that reduced the position tells nothing by the average cost: the limit price (a bound)',
      {
        side: 'SELL',
        orderType: 'LMT',
        limitPrice: '1.47',
        position: {
          localQuantity: '30000',
          localAverageCost: '1.4',
          brokerQuantity: '10000',
          brokerAverageCost: '1.4',
        },
      },
      { kind: 'rebuilt', quantity: '20000', price: '1.47', priceSource: 'limit_price' },
    ],
    [
      'a position that moved by more than this fill (something else happened) is not used',
      {
        position: {
          localQuantity: '0',
          localAverageCost: '0',
          brokerQuantity: '25000',
          brokerAverageCost: '1.48',
        },
      },
      { kind: 'no_price', quantity: '20000', reason: expect.any(String) as string },
    ],
    [
      'a market order with nothing to price it from is not rebuilt',
      {},
      { kind: 'no_price', quantity: '20000', reason: expect.any(String) as string },
    ],
  ])('%s', (_name, overrides, expected) => {
    expect(reconstructFill({ ...base, ...overrides })).toEqual(expected);
  });

  it('names a rebuilt fill by perm id and filled quantity, in a correction group of its own', () => {
    const id = reconstructedExecId(1_234_567, '20000.0');
    expect(id).toBe('reconstructed.1234567-20000.01');
    expect(reconstructedExecId(1_234_567, '20000')).toBe(id);
    expect(isReconstructedExecId(id)).toBe(true);
    expect(isReconstructedExecId('0000e0d5.6745a1b2.01.01')).toBe(false);
    expect(parseExecId(id)).toEqual({ base: 'reconstructed.1234567-20000', revision: 1 });
    expect(parseExecId(reconstructedExecId(1_234_567, '30000')).base).not.toBe(parseExecId(id).base);
  });
});
