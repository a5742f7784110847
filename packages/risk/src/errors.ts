/** An FX rate to USD is missing for a currency the caller asked to convert. */
export class MissingFxRateError extends Error {
  override readonly name = 'MissingFxRateError';
  constructor(readonly currency: string) {
    super(`no FX rate from ${currency} to USD; add it to the rates table`);
  }
}
