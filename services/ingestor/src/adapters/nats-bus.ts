/**
 * The ingestor's side of NATS: ticks and bars to JetStream (validated by packages/contracts, with each
 * topic's Nats-Msg-Id so a re-published identical bar is dropped and a revised one gets through), system
 * events and gateway status. Ticks are fire-and-forget with a bound on unacknowledged publishes, so a slow
 * NATS cannot make the process grow without limit; bars are awaited.
 *
 * A bar JetStream did not acknowledge is kept and sent again (the same Nats-Msg-Id, so one that did arrive
 * is dropped as a duplicate) until it is taken: it is already in Postgres and in the feed's memory, so gap
 * repair will never fetch it again. The queue is bounded (`maxBarRetries`); beyond, the oldest is given up,
 * counted as `md_publish_errors_total{topic="bar",reason="retry_queue_full"}` and logged.
 */
import { Bus, InvalidMessageError } from '@ibstack/bus';
import { type Bar, type GatewayStatus, type SystemEvent, type Tick, topics } from '@ibstack/contracts';
import type { Logger, Registry } from '@ibstack/observability';

import type { IngestorMetrics } from '../metrics';

export interface MarketDataBusOptions {
  logger: Logger;
  metrics: IngestorMetrics;
  /** Unacknowledged tick publishes allowed before new ticks are dropped. @default 10000 */
  maxTicksInFlight?: number;
  /** Bars kept for another publish attempt. @default 100000 */
  maxBarRetries?: number;
  /** First pause before failed bars are sent again; doubles while they keep failing. @default 1000 */
  barRetryDelayMs?: number;
}

export interface MarketDataBusConnectOptions extends MarketDataBusOptions {
  url: string;
  /** Replicas of the streams (NATS_REPLICAS). @default 1 */
  replicas?: number;
  namespace: string;
  registry: Registry;
}

const MAX_BAR_RETRY_DELAY_MS = 30_000;
/** Bars sent per retry pass, so a long queue does not hold the event loop or NATS in one go. */
const BAR_RETRY_BATCH = 500;

export class MarketDataBus {
  private ticksInFlight = 0;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly maxTicksInFlight: number;
  /** Bars whose publish failed, by instrument, timeframe and time (a revised bar replaces the queued one). */
  private readonly barRetries = new Map<string, Bar>();
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs: number;
  private closed = false;

  /** On a connected bus whose streams exist; `stop()` leaves it open for its owner to close. */
  constructor(
    readonly bus: Bus,
    private readonly options: MarketDataBusOptions,
  ) {
    this.maxTicksInFlight = options.maxTicksInFlight ?? 10_000;
    this.retryDelayMs = options.barRetryDelayMs ?? 1_000;
  }

  static async connect(options: MarketDataBusConnectOptions): Promise<MarketDataBus> {
    const bus = await Bus.connect({
      url: options.url,
      replicas: options.replicas,
      name: 'ingestor',
      namespace: options.namespace,
      logger: options.logger,
      registry: options.registry,
    });
    await bus.ensureStreams();
    return new MarketDataBus(bus, options);
  }

  isConnected(): boolean {
    return this.bus.isConnected();
  }

  /** Publishes a tick without waiting for the acknowledgement. Returns false when it was not sent. */
  publishTick(tick: Tick): boolean {
    if (this.ticksInFlight >= this.maxTicksInFlight) {
      this.options.metrics.publishErrors.inc({ topic: 'tick', reason: 'backpressure' });
      return false;
    }
    this.ticksInFlight += 1;
    const sent = this.bus
      .publish(topics.tick, tick)
      .catch((error: unknown) => {
        // The domain checks should have caught it; the contract is the last line.
        if (error instanceof InvalidMessageError)
          this.options.metrics.invalid.inc({ instrument: tick.instrument, kind: 'contract' });
        this.failed('tick', error, { instrument: tick.instrument });
      })
      .finally(() => {
        this.ticksInFlight -= 1;
        this.inFlight.delete(sent);
      });
    this.inFlight.add(sent);
    return true;
  }

  /** Publishes a bar; resolves true once JetStream stored it (or dropped it as a duplicate). */
  /**
   * Publishes a bar; resolves true once JetStream stored it (or dropped it as a duplicate), false when it
   * failed (it is then sent again later, see the module header). Never rejects.
   */
  async publishBar(bar: Bar): Promise<boolean> {
    const key = barKey(bar);
    // This version supersedes a queued one: the older must not be sent after it.
    this.barRetries.delete(key);
    try {
      await this.bus.publish(topics.bar, bar);
      return true;
    } catch (error) {
      this.failed('bar', error, { instrument: bar.instrument, timeframe: bar.timeframe, ts: bar.ts });
      if (!(error instanceof InvalidMessageError)) this.queueRetry(key, bar);
      return false;
    } finally {
      this.options.metrics.barRetryQueueLength.set(this.barRetries.size);
    }
  }

  /** Bars waiting for another publish attempt. */
  get pendingBarRetries(): number {
    return this.barRetries.size;
  }

  private queueRetry(key: string, bar: Bar): void {
    if (this.closed) return;
    if (!this.barRetries.has(key) && this.barRetries.size >= (this.options.maxBarRetries ?? 100_000)) {
      const [oldestKey, oldest] = this.barRetries.entries().next().value as [string, Bar];
      this.barRetries.delete(oldestKey);
      this.options.metrics.publishErrors.inc({ topic: 'bar', reason: 'retry_queue_full' });
      this.options.logger.error(
        { instrument: oldest.instrument, timeframe: oldest.timeframe, ts: oldest.ts },
        'bar publish retry queue full; the oldest bar is not published',
      );
    }
    this.barRetries.set(key, bar);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed || this.barRetries.size === 0) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryBars()
        .catch((error: unknown) => this.options.logger.error({ err: error }, 'bar publish retry failed'))
        .finally(() => this.scheduleRetry());
    }, this.retryDelayMs);
    this.retryTimer.unref();
  }

  private async retryBars(): Promise<void> {
    const first = this.options.barRetryDelayMs ?? 1_000;
    for (const [key, bar] of [...this.barRetries].slice(0, BAR_RETRY_BATCH)) {
      if (this.closed) return;
      if (this.barRetries.get(key) !== bar) continue;
      try {
        await this.bus.publish(topics.bar, bar);
        if (this.barRetries.get(key) === bar) this.barRetries.delete(key);
      } catch (error) {
        if (error instanceof InvalidMessageError) {
          this.barRetries.delete(key);
          continue;
        }
        // Still failing: wait longer before the next pass rather than hammer NATS bar by bar.
        this.retryDelayMs = Math.min(MAX_BAR_RETRY_DELAY_MS, this.retryDelayMs * 2);
        this.options.metrics.barRetryQueueLength.set(this.barRetries.size);
        return;
      }
    }
    this.retryDelayMs = first;
    this.options.metrics.barRetryQueueLength.set(this.barRetries.size);
  }

  async publishSystemEvent(event: SystemEvent): Promise<void> {
    await this.bus
      .publish(topics.systemEvent, event)
      .catch((error: unknown) => this.failed('system_event', error));
  }

  async publishGatewayStatus(status: GatewayStatus): Promise<void> {
    await this.bus
      .publish(topics.gatewayStatus, status)
      .catch((error: unknown) => this.failed('gateway_status', error));
  }

  /** Waits for every publish still in flight. */
  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Sends what is still failing once more and waits for the publishes in flight; the bus stays open. */
  async stop(): Promise<void> {
    if (this.closed) return;
    // One last pass for bars still failing; what is left is lost with the process (and logged).
    if (this.barRetries.size > 0) await this.retryBars().catch(() => undefined);
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.barRetries.size > 0)
      this.options.logger.error({ bars: this.barRetries.size }, 'bars never acknowledged by JetStream');
    await this.flush();
  }

  /** `stop()`, then closes the bus (for a MarketDataBus made by `connect`). */
  async close(): Promise<void> {
    await this.stop();
    await this.bus.close();
  }

  private failed(topic: string, error: unknown, context: Record<string, unknown> = {}): void {
    const reason = error instanceof InvalidMessageError ? 'invalid' : 'not_acknowledged';
    this.options.metrics.publishErrors.inc({ topic, reason });
    this.options.logger.warn({ err: error, topic, ...context }, `publish of ${topic} failed`);
  }
}

function barKey(bar: Bar): string {
  return `${bar.instrument}:${bar.timeframe}:${bar.ts}`;
}
