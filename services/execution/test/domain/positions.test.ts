import { applyFill, averageCost, FLAT, type PositionState } from '../../src/domain/positions';

type FillSpec = [side: 'BUY' | 'SELL', quantity: string, price: string];

function after(...fills: FillSpec[]): PositionState {
  return fills.reduce(
    (position, [side, quantity, price]) => applyFill(position, { side, quantity, price }),
    FLAT,
  );
}

describe('positions from fills', () => {
  it.each<[string, FillSpec[], PositionState]>([
    ['opens long', [['BUY', '100', '10']], { quantity: '100', costBasis: '1000', realizedPnl: '0' }],
    [
      'adds',
      [
        ['BUY', '100', '10'],
        ['BUY', '300', '12'],
      ],
      { quantity: '400', costBasis: '4600', realizedPnl: '0' },
    ],
    [
      'reduces and realizes',
      [
        ['BUY', '100', '10'],
        ['SELL', '40', '12'],
      ],
      { quantity: '60', costBasis: '600', realizedPnl: '80' },
    ],
    [
      'closes flat',
      [
        ['BUY', '100', '10'],
        ['SELL', '100', '9'],
      ],
      { quantity: '0', costBasis: '0', realizedPnl: '-100' },
    ],
    [
      'flips long to short',
      [
        ['BUY', '100', '10'],
        ['SELL', '150', '11'],
      ],
      { quantity: '-50', costBasis: '550', realizedPnl: '100' },
    ],
    [
      'opens short and covers',
      [
        ['SELL', '20000', '1.48235'],
        ['BUY', '20000', '1.48135'],
      ],
      { quantity: '0', costBasis: '0', realizedPnl: '20' },
    ],
    [
      'adds to a short and covers part',
      [
        ['SELL', '100', '10'],
        ['SELL', '100', '12'],
        ['BUY', '50', '9'],
      ],
      { quantity: '-150', costBasis: '1650', realizedPnl: '100' },
    ],
  ])('%s', (_name, fills, expected) => {
    expect(after(...fills)).toEqual(expected);
  });

  it('stays exact with forex prices (no float drift)', () => {
    const position = after(['BUY', '10000', '1.1'], ['BUY', '20000', '1.2'], ['SELL', '30000', '1.3']);
    expect(position).toEqual({ quantity: '0', costBasis: '0', realizedPnl: '4000' });
  });

  it('derives the average cost of the open quantity', () => {
    expect(averageCost(after(['BUY', '100', '10'], ['BUY', '300', '12']))).toBe('11.5');
    expect(averageCost(after(['BUY', '10000', '1.1'], ['BUY', '20000', '1.2']))).toBe('1.1666666667');
    expect(averageCost(FLAT)).toBe('0');
  });
});
