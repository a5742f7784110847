import { z } from 'zod';

export const SecurityType = z.enum(['CASH', 'STK', 'FUT', 'IND']);
export type SecurityType = z.infer<typeof SecurityType>;

/** The subject-safe key of an instrument: `EURCAD` for EUR.CAD, `AAPL` for AAPL. */
export const InstrumentKey = z.string().regex(/^[A-Z0-9_]+$/, 'must be an instrument key like "EURCAD"');
export type InstrumentKey = z.infer<typeof InstrumentKey>;

/** The IB contract fields that identify an instrument (a subset of `@stoqey/ib`'s `Contract`). */
export const Instrument = z
  .object({
    symbol: z.string().min(1),
    secType: SecurityType,
    exchange: z.string().min(1),
    currency: z.string().length(3),
    localSymbol: z.string().min(1).optional(),
    primaryExchange: z.string().min(1).optional(),
    conId: z.number().int().positive().optional(),
  })
  .strict();
export type Instrument = z.infer<typeof Instrument>;

/** The key used in subjects, metric labels and table rows. */
export function instrumentKey(
  instrument: Pick<Instrument, 'symbol' | 'secType' | 'currency'>,
): InstrumentKey {
  const raw =
    instrument.secType === 'CASH' ? `${instrument.symbol}${instrument.currency}` : instrument.symbol;
  return raw.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

export class InstrumentSpecError extends Error {
  override readonly name = 'InstrumentSpecError';
  constructor(
    readonly spec: string,
    reason: string,
  ) {
    super(`instrument "${spec}": ${reason}`);
  }
}

/**
 * Parses the short form used in configuration:
 * - `EUR.CAD` → forex pair on IDEALPRO,
 * - `AAPL` → US stock on SMART in USD,
 * - `SYMBOL:SECTYPE:EXCHANGE:CURRENCY` for anything else (`SAP:STK:IBIS:EUR`).
 */
export function parseInstrumentSpec(spec: string): Instrument {
  const text = spec.trim();
  const forex = /^([A-Z]{3})\.([A-Z]{3})$/.exec(text);
  if (forex) {
    const [, base, quote] = forex as unknown as [string, string, string];
    return { symbol: base, secType: 'CASH', exchange: 'IDEALPRO', currency: quote, localSymbol: text };
  }
  if (/^[A-Z][A-Z0-9.]{0,11}$/.test(text)) {
    return { symbol: text, secType: 'STK', exchange: 'SMART', currency: 'USD' };
  }
  const parts = text.split(':');
  if (parts.length === 4) {
    const [symbol, secType, exchange, currency] = parts as [string, string, string, string];
    const parsed = Instrument.safeParse({ symbol, secType, exchange, currency });
    if (parsed.success) return parsed.data;
    throw new InstrumentSpecError(
      spec,
      parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  }
  throw new InstrumentSpecError(spec, 'expected "EUR.CAD", "AAPL" or "SYMBOL:SECTYPE:EXCHANGE:CURRENCY"');
}

/** The display form of an instrument (`EUR.CAD`, `AAPL`). */
export function instrumentLabel(instrument: Instrument): string {
  if (instrument.secType === 'CASH')
    return instrument.localSymbol ?? `${instrument.symbol}.${instrument.currency}`;
  return instrument.symbol;
}
