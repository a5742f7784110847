import {
  type Bus,
  type ConsumerHandle,
  type KvValue,
  type MessageContext,
  tradingStateKv,
  type TypedKv,
} from '@ibstack/bus';
import {
  type AccountSnapshot,
  type AuditEntry,
  type Bar,
  type Fill,
  type InstrumentKey,
  KV_KEYS,
  type OrderEvent,
  type OrderIntent,
  subjects,
  type SystemEvent,
  type Tick,
  type Timeframe,
  topics,
  type TradingState,
} from '@ibstack/contracts';
import type { Database, Kysely } from '@ibstack/db';
import { DurableTradingState } from '@ibstack/operator';

import type { StrategyEvents } from '../ports';

type Handler<T> = (message: T, context: MessageContext) => Promise<void>;

/** Durable names are per stream; these are the strategy's. */
export const DURABLES = {
  bars: (instrument: InstrumentKey, timeframe: Timeframe) => `strategy-bars-${instrument}-${timeframe}`,
  ticks: (instrument: InstrumentKey) => `strategy-ticks-${instrument}`,
  fills: 'strategy-fills',
  orderEvents: 'strategy-order-events',
  accountSnapshots: 'strategy-account-snapshots',
} as const;

/** The strategy's use of NATS: its consumers, its publications, and the trading-state key. */
export class StrategyBus implements StrategyEvents {
  private tradingKv: TypedKv<TradingState> | undefined;
  private readonly durableState: DurableTradingState;

  constructor(
    readonly bus: Bus,
    db: Kysely<Database>,
  ) {
    this.durableState = new DurableTradingState({ bus, db });
  }

  isConnected(): boolean {
    return this.bus.isConnected();
  }

  /**
   * Bars of one instrument and timeframe, one at a time: with a single message in flight JetStream cannot
   * deliver bar n+1 before bar n is acknowledged, even across a crash and redelivery, so progress can skip
   * what it has seen without ever skipping what it has not.
   */
  consumeBars(
    instrument: InstrumentKey,
    timeframe: Timeframe,
    handler: Handler<Bar>,
    ackWaitMs: number,
  ): Promise<ConsumerHandle> {
    return this.bus.consume(topics.bar, {
      durable: DURABLES.bars(instrument, timeframe),
      filterSubject: subjects.bar(instrument, timeframe),
      maxAckPending: 1,
      ackWaitMs,
      // A new durable starts now; history comes from Postgres (warm-up), not from a stream replay.
      deliverFrom: { policy: 'new' },
      handler,
    });
  }

  consumeTicks(instrument: InstrumentKey, handler: Handler<Tick>): Promise<ConsumerHandle> {
    return this.bus.consume(topics.tick, {
      durable: DURABLES.ticks(instrument),
      filterSubject: subjects.tick(instrument),
      maxAckPending: 1,
      deliverFrom: { policy: 'new' },
      handler,
    });
  }

  consumeFills(handler: Handler<Fill>): Promise<ConsumerHandle> {
    return this.bus.consume(topics.fill, {
      durable: DURABLES.fills,
      deliverFrom: { policy: 'new' },
      handler,
    });
  }

  consumeOrderEvents(handler: Handler<OrderEvent>): Promise<ConsumerHandle> {
    return this.bus.consume(topics.orderEvent, {
      durable: DURABLES.orderEvents,
      deliverFrom: { policy: 'new' },
      handler,
    });
  }

  consumeAccountSnapshots(handler: Handler<AccountSnapshot>): Promise<ConsumerHandle> {
    return this.bus.consume(topics.accountSnapshot, {
      durable: DURABLES.accountSnapshots,
      deliverFrom: { policy: 'new' },
      handler,
    });
  }

  async publishIntent(intent: OrderIntent): Promise<void> {
    await this.bus.publish(topics.orderIntent, intent);
  }

  async publishAudit(entry: AuditEntry): Promise<void> {
    await this.bus.publish(topics.audit, entry);
  }

  async publishSystemEvent(event: SystemEvent): Promise<void> {
    await this.bus.publish(topics.systemEvent, event);
  }

  private async kv(): Promise<TypedKv<TradingState>> {
    this.tradingKv ??= await tradingStateKv(this.bus);
    return this.tradingKv;
  }

  /** The KV copy of the trading state with its revision (for compare-and-set); null when absent. */
  async tradingState(): Promise<KvValue<TradingState> | null> {
    return (await this.kv()).get(KV_KEYS.tradingState);
  }

  /** The trading state in force: KV and Postgres, failing closed (DurableTradingState). */
  async tradingStateInForce(): Promise<TradingState> {
    return this.durableState.get();
  }

  /**
   * Compare-and-set of the trading state: writes only if the key is still at `revision` (or still absent
   * when `revision` is null). Returns false when someone else wrote first.
   */
  async setTradingState(state: TradingState, revision: number | null): Promise<boolean> {
    const kv = await this.kv();
    const written =
      revision === null
        ? await kv.create(KV_KEYS.tradingState, state)
        : await kv.update(KV_KEYS.tradingState, state, revision);
    // The durable copy follows; until it does, readers see the stricter of the two, which is this one.
    if (written !== null) await this.durableState.write(state);
    return written !== null;
  }
}
