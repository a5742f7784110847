import type { InstrumentKey } from '@ibstack/contracts';

import { parseDecisions } from '../../src/domain/decisions';
import { Decision } from '../../src/sdk';

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

  it('refuses a limit price of zero, which no intent can carry', () => {
    // A strategy printing a small price to two decimals (`(0.004).toFixed(2)`): taken, the intent was
    // stored as accepted and counted in flight, then could not be published (an intent's limit price must
    // be > 0) until the outbox expired it, and the strategy never heard of it.
    const limitAt = (limitPrice: string) => [
      { type: 'order', instrument: 'EURCAD', side: 'BUY', quantity: '1000', orderType: 'LMT', limitPrice },
    ];
    expect(() => parseDecisions(limitAt('0.00'), instruments)).toThrow(
      'returned an invalid decision: 0.limitPrice: limit price must be > 0',
    );
    expect(() => parseDecisions(limitAt('0'), instruments)).toThrow(/limit price must be > 0/);
    expect(parseDecisions(limitAt('0.004'), instruments)).toMatchObject([{ limitPrice: '0.004' }]);
  });
});

describe('plain target decisions', () => {
  const schema = Decision.array();
  const instrumentsAll = [{ key: 'EURCAD' as InstrumentKey }, { key: 'EUR_X1' as InstrumentKey }];
  const reason201 = 'x'.repeat(201);

  it.each([
    [[{ type: 'target', instrument: 'EURCAD', weight: 1 }]],
    [[{ type: 'target', instrument: 'EURCAD', weight: -1, reason: 'fast MA crossed below slow' }]],
    [
      [
        { type: 'target', instrument: 'EURCAD', weight: 0 },
        { type: 'target', instrument: 'EUR_X1', weight: -0 },
      ],
    ],
    [[{ reason: 'order of keys', weight: 0.25, instrument: 'EURCAD', type: 'target' }]],
    [[{ type: 'target', instrument: 'EURCAD', weight: 1.0000000000000002 }]],
    [[{ type: 'target', instrument: 'EURCAD', weight: Number.NaN }]],
    [[{ type: 'target', instrument: 'EURCAD', weight: Number.POSITIVE_INFINITY }]],
    [[{ type: 'target', instrument: 'EURCAD', weight: '0.5' }]],
    [[{ type: 'target', instrument: 'EURCAD', weight: 1, reason: undefined }]],
    [[{ type: 'target', instrument: 'EURCAD', weight: 1, reason: reason201 }]],
    [[{ type: 'target', instrument: 'EURCAD', weight: 1, reason: 'x'.repeat(200) }]],
    [[{ type: 'target', instrument: 'EURCAD', weight: 1, reason: 7 }]],
    [[{ type: 'target', instrument: 'eurcad', weight: 1 }]],
    [[{ type: 'target', instrument: 'EURCAD', weight: 1, extra: true }]],
    [[{ type: 'target', instrument: 'EURCAD' }]],
    [[{ type: 'order', instrument: 'EURCAD', side: 'BUY', quantity: '1000' }]],
    [
      [
        { type: 'target', instrument: 'EURCAD', weight: 1 },
        { type: 'order', instrument: 'EURCAD', side: 'SELL', quantity: '5' },
      ],
    ],
    [
      [
        Object.assign(Object.create({ inherited: 1 }) as object, {
          type: 'target',
          instrument: 'EURCAD',
          weight: 1,
        }),
      ],
    ],
    [[null]],
    [['target']],
    [{ type: 'target', instrument: 'EURCAD', weight: 1 }],
  ])('reads %j as the schema does', (output) => {
    const parsed = schema.safeParse(output);
    if (!parsed.success) {
      expect(() => parseDecisions(output, instrumentsAll)).toThrow(/^returned an invalid decision: /);
      return;
    }
    const decisions = parseDecisions(output, instrumentsAll);
    expect(decisions).toEqual(parsed.data);
    // The same objects down to the order of their keys.
    expect(JSON.stringify(decisions)).toBe(JSON.stringify(parsed.data));
  });
});
