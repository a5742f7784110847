import {
  Bar,
  ControlCommand,
  ControlReply,
  FailoverRecord,
  GatewayHealth,
  deriveIntentId,
  instrumentKey,
  OrderIntent,
  NonNegativeDecimalString,
  parseInstrumentSpec,
  PositiveDecimalString,
  SessionCommand,
  subjects,
  Tick,
  toDecimalString,
  topics,
  parseExecId,
} from '@ibstack/contracts';
import { makeBar, makeOrderIntent, makeTick } from '@ibstack/test-kit';

describe('instruments', () => {
  it('parses a forex pair into IB contract fields and a subject-safe key', () => {
    const instrument = parseInstrumentSpec('EUR.CAD');
    expect(instrument).toEqual({
      symbol: 'EUR',
      secType: 'CASH',
      exchange: 'IDEALPRO',
      currency: 'CAD',
      localSymbol: 'EUR.CAD',
    });
    expect(instrumentKey(instrument)).toBe('EURCAD');
  });

  it('parses a stock and the long form', () => {
    expect(parseInstrumentSpec('AAPL')).toEqual({
      symbol: 'AAPL',
      secType: 'STK',
      exchange: 'SMART',
      currency: 'USD',
    });
    expect(instrumentKey(parseInstrumentSpec('SAP:STK:IBIS:EUR'))).toBe('SAP');
  });

  it('rejects a spec it cannot read, naming it', () => {
    expect(() => parseInstrumentSpec('eur/cad')).toThrow(/instrument "eur\/cad"/);
    expect(() => parseInstrumentSpec('X:BOND:SMART:USD')).toThrow(/secType/);
  });
});

describe('subjects', () => {
  it('builds the subjects of the messaging table', () => {
    expect(subjects.tick('EURCAD')).toBe('md.tick.EURCAD');
    expect(subjects.bar('EURCAD', '1m')).toBe('md.bar.EURCAD.1m');
    expect(subjects.orderIntent('demo')).toBe('order.intent.demo');
    expect(subjects.orderEvent('EURCAD')).toBe('order.event.EURCAD');
    expect(subjects.fill('EURCAD')).toBe('fill.EURCAD');
    expect(subjects.gatewayStatus()).toBe('sys.gateway.status');
    expect(subjects.reconciliationResult()).toBe('sys.recon.result');
    expect(subjects.control('halt')).toBe('sys.control.halt');
    expect(subjects.audit()).toBe('sys.audit');
  });

  it('routes a message to its subject and gives it a de-duplication id', () => {
    const bar = makeBar();
    expect(topics.bar.subjectOf(bar)).toBe('md.bar.EURCAD.1m');
    expect(topics.bar.msgIdOf(bar)).toBe(
      topics.bar.msgIdOf({ ...bar, receivedAt: '2026-11-24T16:00:00.000Z' }),
    );
    // A revised bar (different numbers) must not be dropped as a duplicate.
    expect(topics.bar.msgIdOf(bar)).not.toBe(topics.bar.msgIdOf({ ...bar, close: '1.48260' }));
    const intent = makeOrderIntent();
    expect(topics.orderIntent.msgIdOf(intent)).toBe(intent.intentId);
  });
});

describe('messages', () => {
  it('accepts valid messages and carries a version', () => {
    expect(Tick.parse(makeTick()).v).toBe(1);
    expect(Bar.parse(makeBar()).v).toBe(1);
    expect(OrderIntent.parse(makeOrderIntent()).v).toBe(1);
  });

  it.each([
    ['a NaN price', { bid: 'NaN' }],
    ['a negative price', { ask: '-1.2' }],
    ['a float number instead of a decimal string', { bid: 1.2 }],
    ['a crossed book', { bid: '1.5', ask: '1.4' }],
    ['an unknown field', { extra: 1 }],
    ['another version', { v: 2 }],
    ['no price at all', { bid: undefined, ask: undefined }],
  ])('rejects a tick with %s', (_name, override) => {
    expect(Tick.safeParse({ ...makeTick(), ...override }).success).toBe(false);
  });

  it('rejects a bar whose high is below its low', () => {
    const result = Bar.safeParse(makeBar({ high: '1.4', low: '1.5', open: '1.45', close: '1.45' }));
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.message)).toContain('high must be >= low');
  });

  it('requires a limit price on a limit order', () => {
    const result = OrderIntent.safeParse(makeOrderIntent({ orderType: 'LMT' }));
    expect(result.error?.issues[0]?.path).toEqual(['limitPrice']);
  });

  it('tells control commands apart by their command', () => {
    const halt = ControlCommand.parse({
      v: 1,
      command: 'halt',
      commandId: 'c1',
      by: 'alice',
      at: '2026-11-24T15:00:00.000Z',
      reason: 'drill',
    });
    expect(halt.command).toBe('halt');
    expect(ControlCommand.safeParse({ ...halt, command: 'launch' }).success).toBe(false);
  });

  it('routes gateway health to sys.gateway.health and refuses an unknown session state', () => {
    const health = {
      v: 1 as const,
      state: 'two_factor_pending' as const,
      since: '2026-12-06T06:00:00.000Z',
      inResetWindow: false,
      ready: false,
      tradingMode: 'paper' as const,
      ts: '2026-12-06T06:01:00.000Z',
    };
    expect(topics.gatewayHealth.subjectOf(GatewayHealth.parse(health))).toBe('sys.gateway.health');
    expect(GatewayHealth.safeParse({ ...health, state: 'sleeping' }).success).toBe(false);
  });

  it('routes a failover record to its host on sys.failover and de-duplicates it by record id', () => {
    const record = FailoverRecord.parse({
      v: 1,
      recordId: 'standby:promoted:42',
      host: 'standby',
      step: 'promoted',
      epoch: 42,
      leaseHolder: 'standby',
      durationMs: 180,
      ts: '2026-12-06T06:01:00.000Z',
    });
    expect(record.detail).toBe('');
    expect(topics.failover.subjectOf(record)).toBe('sys.failover.standby');
    expect(topics.failover.msgIdOf(record)).toBe('fo:standby:promoted:42');
    expect(FailoverRecord.safeParse({ ...record, step: 'elected' }).success).toBe(false);
    expect(FailoverRecord.safeParse({ ...record, host: 'primary.example' }).success).toBe(false);
  });
});

describe('ids and decimals', () => {
  it('derives the same intent id from the same decision, a different one otherwise', () => {
    const parts = { sleeve: 'demo', instrument: 'EURCAD', barTs: '2026-11-24T15:00:00.000Z', sequence: 0 };
    expect(deriveIntentId(parts)).toBe(deriveIntentId({ ...parts }));
    expect(deriveIntentId(parts)).toMatch(/^[0-9a-f]{32}$/);
    expect(deriveIntentId({ ...parts, sequence: 1 })).not.toBe(deriveIntentId(parts));
  });

  it('writes broker doubles as plain decimal strings', () => {
    expect(toDecimalString(1.48235)).toBe('1.48235');
    expect(toDecimalString(1e-7)).toBe('0.0000001');
    expect(toDecimalString(20000)).toBe('20000');
    expect(() => toDecimalString(Number.NaN)).toThrow(/finite/);
  });
});

describe('session commands and their replies', () => {
  it('puts each command on its own subject and a reply on the subject of its command id', () => {
    const command = SessionCommand.parse({
      v: 1,
      command: 'market_data_subscribe',
      commandId: 'c-1',
      by: 'alice',
      at: '2026-11-24T10:00:00.000Z',
      instrument: 'AAPL@SMART:USD',
    });
    expect(topics.sessionCommand.subjectOf(command)).toBe('sys.session.market_data_subscribe');
    const reply = ControlReply.parse({
      v: 1,
      commandId: 'c-1',
      service: 'ingestor',
      ok: false,
      code: 200,
      message: 'No security definition has been found for the request',
      ts: '2026-11-24T10:00:01.000Z',
    });
    expect(topics.controlReply.subjectOf(reply)).toBe('sys.reply.c-1');
  });

  it('refuses a command id that is not one subject token', () => {
    const parsed = SessionCommand.safeParse({
      v: 1,
      command: 'gateway_connect',
      commandId: 'a.b',
      by: 'alice',
      at: '2026-11-24T10:00:00.000Z',
      reason: 'back',
    });
    expect(parsed.success).toBe(false);
  });
});

describe('decimal strings', () => {
  it('reports a non-number as an invalid field instead of throwing out of safeParse', () => {
    for (const schema of [PositiveDecimalString, NonNegativeDecimalString]) {
      const parsed = schema.safeParse('LMT');
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.message).toBe('must be a decimal number like "1.2345"');
    }
    expect(PositiveDecimalString.safeParse('0').success).toBe(false);
    expect(NonNegativeDecimalString.safeParse('0').success).toBe(true);
  });
});

describe('execution ids', () => {
  it.each([
    ['0000e0d5.6745a1b2.01.01', { base: '0000e0d5.6745a1b2.01', revision: 1 }],
    ['0000e0d5.6745a1b2.01.0a', { base: '0000e0d5.6745a1b2.01', revision: 10 }],
    ['0000e0d5.6745a1b2.01.zz', { base: '0000e0d5.6745a1b2.01.zz', revision: 0 }],
    ['sim-17', { base: 'sim-17', revision: 0 }],
    ['.01', { base: '.01', revision: 0 }],
  ])('reads %s as its base and revision', (execId, expected) => {
    expect(parseExecId(execId)).toEqual(expected);
  });

  it('tells a correction (a higher revision of the same base) from another execution', () => {
    const original = parseExecId('0000e0d5.6745a1b2.01.01');
    const correction = parseExecId('0000e0d5.6745a1b2.01.02');
    const other = parseExecId('0000e0d5.6745a1b3.01.02');
    expect(correction.base === original.base && correction.revision > original.revision).toBe(true);
    expect(other.base === original.base).toBe(false);
  });
});
