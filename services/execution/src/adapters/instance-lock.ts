/**
 * A Postgres session advisory lock on this instance's identity (`INSTANCE_ID`), held on a connection of
 * its own for the life of the process. Postgres releases it the moment that connection ends, which the
 * kernel does for a process that dies, SIGKILL included. So holding it proves that no other live process
 * carries the same identity: a lease still held under that identity belongs to a previous life of this
 * instance, and can be taken over without waiting out its TTL.
 */
import type { DatabaseHandle } from '@ibstack/db';
import type { Logger } from '@ibstack/observability';

type Pool = DatabaseHandle['pool'];
/** The part of a pg pool client the lock uses. */
interface PoolClient {
  query<R>(text: string, values: unknown[]): Promise<{ rows: R[] }>;
  release(destroy: Error): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** First key of the two-key advisory lock: keeps these locks apart from any other use of advisory locks. */
const LOCK_CLASS = 7_305;

export class InstanceLock {
  private client: PoolClient | null = null;
  private held = false;
  private closed = false;

  constructor(
    /** The lock's connection is taken from this pool and kept until close(). */
    private readonly pool: Pool,
    private readonly identity: string,
    private readonly log: Logger,
  ) {}

  /** True once the lock is ours; tries to take it (again) when not. Never throws. */
  async holds(): Promise<boolean> {
    if (this.held || this.closed) return this.held;
    try {
      let client = this.client;
      if (!client) {
        const connected: PoolClient = await this.pool.connect();
        // A lost connection loses the lock with it: take it again on the next call.
        connected.on('error', (error) => {
          this.log.warn({ err: error }, 'instance lock connection lost');
          this.forget(connected, error);
        });
        this.client = client = connected;
      }
      const result = await client.query<{ locked: boolean }>(
        'select pg_try_advisory_lock($1, hashtext($2)) as locked',
        [LOCK_CLASS, `execution:${this.identity}`],
      );
      this.held = result.rows[0]?.locked === true;
      if (!this.held)
        this.log.warn(
          { identity: this.identity },
          'another live process holds this instance identity: no early lease take-over',
        );
    } catch (error) {
      this.log.warn({ err: error }, 'could not take the instance lock');
      if (this.client) this.forget(this.client, error as Error);
    }
    return this.held;
  }

  private forget(client: PoolClient, error: Error): void {
    if (this.client !== client) return;
    this.client = null;
    this.held = false;
    // Destroys the connection rather than returning it to the pool: that ends the lock for certain.
    client.release(error);
  }

  close(): void {
    this.closed = true;
    const client = this.client;
    this.client = null;
    this.held = false;
    client?.release(new Error('instance lock closed'));
  }
}
