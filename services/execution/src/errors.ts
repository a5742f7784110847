/** Another execution instance holds a newer fencing epoch: this one must not write or send orders. */
export class FencedError extends Error {
  override readonly name = 'FencedError';
  constructor(readonly epoch: number) {
    super(
      `fencing epoch ${epoch} is stale: another execution instance took the lease; not writing the order`,
    );
  }
}

/** A broker request that was refused, timed out or lost its session. */
export class BrokerRequestError extends Error {
  override readonly name = 'BrokerRequestError';
  constructor(
    message: string,
    /** The IB error code, when the broker answered with one. */
    readonly code?: number,
  ) {
    super(message);
  }
}
