/** Another execution instance holds a newer fencing epoch: this one must not write or send orders. */
export class FencedError extends Error {
  override readonly name = 'FencedError';
  constructor(readonly epoch: number) {
    super(
      `fencing epoch ${epoch} is stale: another execution instance took the lease; not writing the order`,
    );
  }
}

/** An intent names an instrument the gateway does not know; rejected before anything is sent. */
export class UnknownInstrumentError extends Error {
  override readonly name = 'UnknownInstrumentError';
  constructor(readonly instrument: string) {
    super(`unknown instrument ${instrument}: not in INSTRUMENTS and not resolvable at the gateway`);
  }
}
