/**
 * A write queue that turns a stream of rows into batches: written when `batchSize` rows are waiting or
 * `flushIntervalMs` after the first, whichever is first. A failed batch goes back to the front of the
 * queue and is retried at the next interval, so a short database outage loses nothing. Beyond `limit`
 * rows the oldest are dropped (and reported), so a long outage cannot exhaust memory; for bars the gap
 * repair later fetches what was dropped.
 */
import type { Logger } from '@ibstack/observability';

export interface BatchWriterOptions<T> {
  name: string;
  write: (rows: T[]) => Promise<void>;
  batchSize: number;
  flushIntervalMs: number;
  limit: number;
  logger: Logger;
  onError?: (error: unknown) => void;
  onDropped?: (row: T) => void;
  onLength?: (length: number) => void;
}

export class BatchWriter<T> {
  private queue: T[] = [];
  private inFlight: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private failing = false;

  constructor(private readonly options: BatchWriterOptions<T>) {}

  /** Rows queued or being written. */
  get pending(): readonly T[] {
    return [...this.inFlight, ...this.queue];
  }

  enqueue(row: T): void {
    this.queue.push(row);
    if (this.queue.length > this.options.limit) {
      const dropped = this.queue.splice(0, this.queue.length - this.options.limit);
      for (const old of dropped) this.options.onDropped?.(old);
    }
    this.options.onLength?.(this.queue.length + this.inFlight.length);
    if (this.queue.length >= this.options.batchSize && !this.failing) void this.flushOnce();
    else this.arm();
  }

  /** Writes everything queued; rejects if a batch fails (the rows stay queued). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0 || this.running) {
      await this.flushOnce();
      if (this.failing) throw new Error(`${this.options.name}: rows still queued after a failed write`);
    }
  }

  /** Stops the timer and writes what is queued, giving up after `deadlineMs`. */
  async stop(deadlineMs = 10_000): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while ((this.queue.length > 0 || this.running) && Date.now() < deadline) {
      await this.flushOnce();
      if (this.failing) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (this.queue.length > 0)
      this.options.logger.error(
        { rows: this.queue.length, writer: this.options.name },
        'stopping with rows that could not be written',
      );
  }

  private arm(): void {
    if (this.timer || this.queue.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flushOnce().finally(() => this.arm());
    }, this.options.flushIntervalMs);
  }

  private flushOnce(): Promise<void> {
    if (this.running) return this.running;
    if (this.queue.length === 0) return Promise.resolve();
    this.inFlight = this.queue.splice(0, this.options.batchSize);
    this.running = this.options
      .write(this.inFlight)
      .then(() => {
        if (this.failing) this.options.logger.info({ writer: this.options.name }, 'writes succeed again');
        this.failing = false;
        this.inFlight = [];
      })
      .catch((error: unknown) => {
        if (!this.failing)
          this.options.logger.error(
            { err: error, writer: this.options.name, rows: this.inFlight.length },
            'write failed; keeping the rows and retrying',
          );
        this.failing = true;
        this.options.onError?.(error);
        this.queue.unshift(...this.inFlight);
        this.inFlight = [];
      })
      .finally(() => {
        this.running = undefined;
        this.options.onLength?.(this.queue.length + this.inFlight.length);
        // More than a batch waiting: keep going without waiting for the timer (unless writes fail).
        if (!this.failing && this.queue.length >= this.options.batchSize) void this.flushOnce();
      });
    return this.running;
  }
}
