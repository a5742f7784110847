import { type Bar, deriveIntentId, type Fill, type OrderIntent, type Tick } from '@ibstack/contracts';

const T0 = '2026-11-24T15:00:00.000Z';

/** Message factories: a valid message with overrides, so a test states only what it is about. */
export function makeTick(overrides: Partial<Tick> = {}): Tick {
  return {
    v: 1,
    instrument: 'EURCAD',
    ts: T0,
    receivedAt: T0,
    bid: '1.48230',
    ask: '1.48240',
    bidSize: '1000000',
    askSize: '1000000',
    ...overrides,
  };
}

export function makeBar(overrides: Partial<Bar> = {}): Bar {
  return {
    v: 1,
    instrument: 'EURCAD',
    timeframe: '1m',
    ts: T0,
    open: '1.48230',
    high: '1.48300',
    low: '1.48200',
    close: '1.48250',
    volume: '0',
    source: 'live',
    receivedAt: T0,
    ...overrides,
  };
}

export function makeOrderIntent(overrides: Partial<OrderIntent> = {}): OrderIntent {
  const sleeve = overrides.sleeve ?? 'demo';
  const instrument = overrides.instrument ?? 'EURCAD';
  const barTs = overrides.barTs ?? T0;
  const sequence = overrides.sequence ?? 0;
  return {
    v: 1,
    intentId: deriveIntentId({ sleeve, instrument, barTs, sequence }),
    sleeve,
    instrument,
    side: 'BUY',
    quantity: '20000',
    orderType: 'MKT',
    timeInForce: 'DAY',
    barTs,
    timeframe: '1m',
    sequence,
    referencePrice: '1.48250',
    createdAt: T0,
    ...overrides,
  };
}

export function makeFill(overrides: Partial<Fill> = {}): Fill {
  return {
    v: 1,
    execId: '0000e0d5.6745a1b2.01.01',
    brokerOrderId: 1,
    permId: 1_000_001,
    account: 'DU1234567',
    instrument: 'EURCAD',
    side: 'BUY',
    quantity: '20000',
    price: '1.48250',
    ts: T0,
    receivedAt: T0,
    ...overrides,
  };
}
