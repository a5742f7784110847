/**
 * Runs async sections one at a time, in call order, whether the one before succeeded or failed: the one
 * copy every package and service uses (execution's intents and reconciliation, its broker snapshot
 * requests, strategy's sleeves).
 */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(section: () => Promise<T>): Promise<T> {
    const result = this.tail.then(section);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves when every section queued so far has finished. */
  async idle(): Promise<void> {
    await this.tail;
  }
}
