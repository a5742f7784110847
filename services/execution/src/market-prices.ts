/**
 * Execution's own view of prices, for its risk check: the ticks on `md.tick.<sym>` (the ingestor's),
 * never the strategy's numbers. An order is priced at the side it trades against (ask for a buy, bid for
 * a sell, last when the side is missing); a price is fresh while its receipt time (`receivedAt`, the
 * ingestor's clock) is younger than the limit. At start the last tick of each subject is read from the
 * stream, so a restarted execution prices at once.
 */
import type { Bus } from '@ibstack/bus';
import { STREAMS, subjects, Tick } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

type Subscription = ReturnType<Bus['nc']['subscribe']>;

export interface PricePoint {
  bid?: string;
  ask?: string;
  last?: string;
  /** Epoch ms when the ingestor received it. */
  receivedAt: number;
}

export class MarketPrices {
  private readonly points = new Map<string, PricePoint>();
  private subscription: Subscription | undefined;

  constructor(
    private readonly deps: {
      bus: Bus;
      instruments: readonly string[];
      maxAgeMs: number;
      log: Logger;
      now?: () => number;
    },
  ) {}

  async start(): Promise<void> {
    const { bus, log } = this.deps;
    const stream = bus.namespace.stream(STREAMS.MD.name);
    for (const instrument of this.deps.instruments) {
      const message = await bus.jsm.streams
        .getMessage(stream, { last_by_subj: bus.namespace.subject(subjects.tick(instrument)) })
        .catch(() => null);
      if (message) this.take(message.json());
    }
    const subscription = bus.nc.subscribe(bus.namespace.subject(subjects.allTicks()));
    this.subscription = subscription;
    void (async () => {
      for await (const message of subscription) {
        try {
          this.take(message.json());
        } catch (error) {
          log.debug({ err: error }, 'ignored an unreadable tick');
        }
      }
    })();
  }

  /** How old a price may be and still size an order. */
  get maxAgeMs(): number {
    return this.deps.maxAgeMs;
  }

  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  private take(value: unknown): void {
    const parsed = Tick.safeParse(value);
    if (!parsed.success) return;
    const tick = parsed.data;
    const receivedAt = Date.parse(tick.receivedAt);
    const previous = this.points.get(tick.instrument);
    if (previous && previous.receivedAt > receivedAt) return;
    // A tick may carry only one side: keep the other from the last one.
    this.points.set(tick.instrument, {
      bid: tick.bid ?? previous?.bid,
      ask: tick.ask ?? previous?.ask,
      last: tick.last ?? previous?.last,
      receivedAt,
    });
  }

  /** Records a price directly (tests, and a seam for other sources). */
  record(instrument: string, point: PricePoint): void {
    this.points.set(instrument, point);
  }

  /**
   * The price an order on `instrument` trades at now: ask for a buy, bid for a sell, else last. Null
   * when there is none, or it is older than the limit.
   */
  priceFor(instrument: string, side: 'BUY' | 'SELL'): { price: string; ageMs: number } | null {
    const point = this.points.get(instrument);
    if (!point) return null;
    const ageMs = (this.deps.now ?? Date.now)() - point.receivedAt;
    if (ageMs > this.deps.maxAgeMs) return null;
    const price = (side === 'BUY' ? point.ask : point.bid) ?? point.last;
    return price ? { price, ageMs } : null;
  }

  /** Last prices by instrument key (mid, else last), fresh ones only: for FX rates from USD pairs. */
  freshLastPrices(): Record<string, string> {
    const now = (this.deps.now ?? Date.now)();
    const prices: Record<string, string> = {};
    for (const [instrument, point] of this.points) {
      if (now - point.receivedAt > this.deps.maxAgeMs) continue;
      const price = point.last ?? point.bid ?? point.ask;
      if (price) prices[instrument] = price;
    }
    return prices;
  }
}
