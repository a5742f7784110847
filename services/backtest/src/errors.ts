/** A command-line argument (or the file it names) that cannot be used; the message names the argument. */
export class BacktestArgumentError extends Error {
  override readonly name = 'BacktestArgumentError';
  constructor(
    readonly argument: string,
    reason: string,
  ) {
    super(`${argument}: ${reason}`);
  }
}
