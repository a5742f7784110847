/** The sleeves file is unreadable or invalid; `problems` lists every one, each on its own line. */
export class SleeveConfigError extends Error {
  override readonly name = 'SleeveConfigError';
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
    options: { cause?: unknown } = {},
  ) {
    super(
      `strategy: invalid sleeves file ${file} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((problem) => `  - ${problem}`).join('\n'),
      options,
    );
  }
}

/** A strategy threw (or returned something that is not a decision); its sleeve is paused. */
export class StrategyFailedError extends Error {
  override readonly name = 'StrategyFailedError';
  constructor(
    readonly sleeve: string,
    readonly phase: 'create' | 'warm-up' | 'bar' | 'tick' | 'fill',
    options: { cause?: unknown } = {},
  ) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`sleeve ${sleeve}: strategy failed in ${phase}: ${reason}`, options);
  }
}

/** The service was asked to stop while a bar was waiting for the database or NATS. */
export class ServiceStoppingError extends Error {
  override readonly name = 'ServiceStoppingError';
  constructor() {
    super('the strategy service is stopping');
  }
}
