/** Another execution instance holds a newer fencing epoch: this one must not write or send orders. */
export class FencedError extends Error {
  override readonly name = 'FencedError';
  constructor(readonly epoch: number) {
    super(
      `fencing epoch ${epoch} is stale: another execution instance took the lease; not writing the order`,
    );
  }
}
