import type { InstrumentKey } from '@ibstack/contracts';

import { parseDecisions } from '../../src/domain/decisions';

const instruments = [{ key: 'EURCAD' as InstrumentKey }];

describe('decisions', () => {
  it('reads nothing as no decision, and applies the decision defaults', () => {
    expect(parseDecisions(undefined, instruments)).toEqual([]);
    expect(
      parseDecisions([{ type: 'order', instrument: 'EURCAD', side: 'BUY', quantity: '1000' }], instruments),
    ).toEqual([{ type: 'order', instrument: 'EURCAD', side: 'BUY', quantity: '1000', orderType: 'MKT' }]);
  });

  it('refuses what is not a decision, and a decision on an instrument the sleeve does not trade', () => {
    expect(() => parseDecisions([{ type: 'target', instrument: 'EURCAD', weight: 2 }], instruments)).toThrow(
      /^returned an invalid decision: /,
    );
    expect(() => parseDecisions([{ type: 'target', instrument: 'EURUSD', weight: 1 }], instruments)).toThrow(
      'decided on EURUSD, which is not an instrument of the sleeve',
    );
  });
});
