/** A client sent bytes that are not the TWS API protocol; the session is closed, as IB Gateway does. */
export class ProtocolViolationError extends Error {
  override readonly name = 'ProtocolViolationError';
  constructor(
    message: string,
    readonly reason: 'bad-prefix' | 'bad-version' | 'oversized-frame' | 'unsupported-version',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A request frame that cannot be read (too few fields, a number that is not one). */
export class RequestDecodeError extends Error {
  override readonly name = 'RequestDecodeError';
  constructor(
    message: string,
    readonly messageId: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The state file exists but cannot be used; the simulator refuses to start rather than lose state. */
export class StateFileError extends Error {
  override readonly name = 'StateFileError';
  constructor(
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The price CSV is missing, empty or has a malformed row. */
export class PriceFileError extends Error {
  override readonly name = 'PriceFileError';
  constructor(
    message: string,
    readonly path: string,
    readonly line?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An instrument name given to the programmatic API (faults, quotes) that the simulator does not know. */
export class UnknownInstrumentError extends Error {
  override readonly name = 'UnknownInstrumentError';
  constructor(readonly instrument: string) {
    super(`unknown instrument "${instrument}"`);
  }
}
