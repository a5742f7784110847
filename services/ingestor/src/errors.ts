/** The gateway has no contract for a configured instrument (IB error 200). */
export class UnknownInstrumentError extends Error {
  override readonly name = 'UnknownInstrumentError';
  constructor(
    readonly instrument: string,
    readonly ibCode: number | undefined,
    detail: string,
    options: { cause?: unknown } = {},
  ) {
    super(`instrument ${instrument} is unknown to the gateway: ${detail}`, options);
  }
}

/** A historical-data request the gateway refused or failed (IB error 162, 366, …). */
export class HistoricalDataError extends Error {
  override readonly name = 'HistoricalDataError';
  constructor(
    readonly instrument: string,
    readonly ibCode: number,
    detail: string,
  ) {
    super(`historical data for ${instrument} refused (IB ${ibCode}): ${detail}`);
  }
}

/**
 * IB's answer that a historical window holds no data (162 "HMDS query returned no data"): an answer, not a
 * refusal. The window is done; asking again would get the same.
 */
export class NoHistoricalDataError extends Error {
  override readonly name = 'NoHistoricalDataError';
  constructor(
    readonly instrument: string,
    readonly ibCode: number,
    detail: string,
  ) {
    super(`no historical data for ${instrument} in the window (IB ${ibCode}): ${detail}`);
  }
}

/** A contract lookup that failed for a reason other than "no such contract" (pacing, a farm down, …). */
export class ContractLookupError extends Error {
  override readonly name = 'ContractLookupError';
  constructor(
    readonly instrument: string,
    readonly ibCode: number,
    detail: string,
  ) {
    super(`contract details of ${instrument} failed (IB ${ibCode}): ${detail}`);
  }
}

/** A request whose session ended before it was answered. Not a refusal: the request is retried. */
export class GatewayDisconnectedError extends Error {
  override readonly name = 'GatewayDisconnectedError';
  constructor(readonly request: string) {
    super(`the gateway session ended before ${request} was answered`);
  }
}

/** A request the gateway did not answer in time. */
export class GatewayTimeoutError extends Error {
  override readonly name = 'GatewayTimeoutError';
  constructor(
    readonly request: string,
    readonly timeoutMs: number,
  ) {
    super(`no answer to ${request} within ${timeoutMs} ms`);
  }
}

/** The contract's `tradingHours` text could not be read. */
export class TradingHoursError extends Error {
  override readonly name = 'TradingHoursError';
  constructor(
    readonly text: string,
    reason: string,
  ) {
    super(`trading hours "${text.slice(0, 80)}": ${reason}`);
  }
}

/** Work was abandoned because the service is stopping. */
export class StoppedError extends Error {
  override readonly name = 'StoppedError';
  constructor() {
    super('the ingestor is stopping');
  }
}
