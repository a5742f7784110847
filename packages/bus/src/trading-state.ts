import { KV_BUCKETS, TradingState } from '@ibstack/contracts';

import type { Bus } from './bus';
import type { TypedKv } from './kv';

/**
 * The KV bucket that holds the trading state (key `KV_KEYS.tradingState`), opened the one way every
 * reader and writer uses: validated by the `TradingState` schema, with ten revisions of history (the
 * notifier replays recent changes). Whoever opens it first creates it with these settings.
 */
export function tradingStateKv(bus: Bus): Promise<TypedKv<TradingState>> {
  // Read before every order: from the leader, so a halt just written is seen and a lost node costs nothing.
  return bus.kv(KV_BUCKETS.trading, TradingState, { history: 10, leaderReads: true });
}
