/**
 * Runs async sections one at a time, in call order. Bars of different instruments arrive on separate
 * consumers, but a sleeve may trade several instruments, and its decisions, risk view and in-flight
 * quantities must not interleave.
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
