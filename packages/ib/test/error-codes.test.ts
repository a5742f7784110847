import {
  checkAccountsMatchMode,
  checkPortMatchesMode,
  classifyIbError,
  countsAsApiError,
  isOrderRejection,
} from '@ibstack/ib';

describe('IB error classification', () => {
  it.each([
    [1100, 'connectivity_lost', 'critical', true],
    [2110, 'connectivity_lost', 'critical', true],
    [1101, 'connectivity_restored_data_lost', 'warning', true],
    [1102, 'connectivity_restored', 'info', true],
    [2104, 'farm_ok', 'info', false],
    [2106, 'farm_ok', 'info', false],
    [2158, 'farm_ok', 'info', false],
    [2103, 'farm_broken', 'warning', false],
    [504, 'not_connected', 'error', false],
    [326, 'client_id_in_use', 'critical', false],
    [502, 'connect_failed', 'error', false],
    [201, 'order_rejected', 'error', false],
    [10148, 'cancel_rejected', 'warning', false],
    [104, 'cancel_rejected', 'warning', false],
    [161, 'cancel_rejected', 'warning', false],
    [103, 'duplicate_order_id', 'error', false],
    [202, 'order_cancelled', 'info', false],
    [200, 'no_security_definition', 'error', false],
    [162, 'historical_data_error', 'error', false],
    [2137, 'warning', 'warning', false],
    [9999, 'other', 'error', false],
  ] as const)('classifies %i as %s', (code, kind, severity, connectivity) => {
    expect(classifyIbError(code, -1, 'text')).toMatchObject({ code, kind, severity, connectivity });
  });

  it('classifies by code, not by message text', () => {
    expect(classifyIbError(201, 7, 'Warning: something').kind).toBe('order_rejected');
    expect(classifyIbError(2104, -1, 'Order rejected').kind).toBe('farm_ok');
  });

  it('treats rejects as final and notices as not counting toward the error circuit', () => {
    expect(isOrderRejection(classifyIbError(201, 7, ''))).toBe(true);
    expect(isOrderRejection(classifyIbError(202, 7, ''))).toBe(false);
    // Refusing a cancel or a modification is not a reject of the order.
    expect(isOrderRejection(classifyIbError(10148, 7, ''))).toBe(false);
    expect(isOrderRejection(classifyIbError(104, 7, ''))).toBe(false);
    expect(countsAsApiError(classifyIbError(2104, -1, ''))).toBe(false);
    expect(countsAsApiError(classifyIbError(201, 7, ''))).toBe(true);
    expect(countsAsApiError(classifyIbError(9999, 7, ''))).toBe(true);
    // The connection going up and down (a gateway restart) does not trip the circuit.
    for (const code of [1100, 2110, 1102, 502, 504, 326])
      expect(countsAsApiError(classifyIbError(code, -1, ''))).toBe(false);
  });
});

describe('paper/live guard', () => {
  it('accepts paper accounts in paper mode and refuses live ones', () => {
    expect(checkAccountsMatchMode('paper', ['DU1234567'])).toEqual([]);
    expect(checkAccountsMatchMode('paper', ['U7654321'])).toEqual([
      expect.stringMatching(/live account\(s\) U7654321/),
    ]);
    expect(checkAccountsMatchMode('live', ['U7654321'])).toEqual([]);
    expect(checkAccountsMatchMode('live', ['DU1234567'])).toHaveLength(1);
    expect(checkAccountsMatchMode('paper', [])).toHaveLength(1);
  });

  it('refuses a live port in paper mode and the reverse', () => {
    expect(checkPortMatchesMode('paper', 4002)).toEqual([]);
    expect(checkPortMatchesMode('paper', 4001)).toHaveLength(1);
    expect(checkPortMatchesMode('live', 4002)).toHaveLength(1);
    expect(checkPortMatchesMode('live', 4001)).toEqual([]);
  });
});
