import { type Instrument, instrumentKey } from '@ibstack/contracts';
import type { Contract, SecType } from '@stoqey/ib';

/** The IB contract of one of our instruments (before resolution it has no conId yet). */
export function contractOf(instrument: Instrument): Contract {
  return {
    conId: instrument.conId,
    symbol: instrument.symbol,
    secType: instrument.secType as SecType,
    exchange: instrument.exchange,
    currency: instrument.currency,
    localSymbol: instrument.localSymbol,
    primaryExch: instrument.primaryExchange,
  };
}

/** Our subject-safe key (`EURCAD`) of a contract the gateway reported. */
export function keyOfContract(contract: Contract): string {
  return instrumentKey({
    symbol: contract.symbol ?? '',
    secType: (contract.secType ?? 'STK') as Instrument['secType'],
    currency: contract.currency ?? '',
  });
}
