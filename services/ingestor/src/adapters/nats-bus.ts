/**
 * The ingestor's side of NATS: ticks and bars to JetStream (validated by packages/contracts, with each
 * topic's Nats-Msg-Id so a re-published identical bar is dropped and a revised one gets through), system
 * events and gateway status. Ticks are fire-and-forget with a bound on unacknowledged publishes, so a slow
 * NATS cannot make the process grow without limit; bars are awaited.
 */
import { Bus, InvalidMessageError } from '@ibstack/bus';
import { type Bar, type GatewayStatus, type SystemEvent, type Tick, topics } from '@ibstack/contracts';
import type { Logger, Registry } from '@ibstack/observability';

import type { IngestorMetrics } from '../metrics';

export interface MarketDataBusOptions {
  url: string;
  namespace: string;
  logger: Logger;
  registry: Registry;
  metrics: IngestorMetrics;
  /** Unacknowledged tick publishes allowed before new ticks are dropped. @default 10000 */
  maxTicksInFlight?: number;
}

export class MarketDataBus {
  private ticksInFlight = 0;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly maxTicksInFlight: number;

  private constructor(
    readonly bus: Bus,
    private readonly options: MarketDataBusOptions,
  ) {
    this.maxTicksInFlight = options.maxTicksInFlight ?? 10_000;
  }

  static async connect(options: MarketDataBusOptions): Promise<MarketDataBus> {
    const bus = await Bus.connect({
      url: options.url,
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
  async publishBar(bar: Bar): Promise<boolean> {
    try {
      await this.bus.publish(topics.bar, bar);
      return true;
    } catch (error) {
      this.failed('bar', error, { instrument: bar.instrument, timeframe: bar.timeframe, ts: bar.ts });
      return false;
    }
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

  async close(): Promise<void> {
    await this.flush();
    await this.bus.close();
  }

  private failed(topic: string, error: unknown, context: Record<string, unknown> = {}): void {
    const reason = error instanceof InvalidMessageError ? 'invalid' : 'not_acknowledged';
    this.options.metrics.publishErrors.inc({ topic, reason });
    this.options.logger.warn({ err: error, topic, ...context }, `publish of ${topic} failed`);
  }
}
