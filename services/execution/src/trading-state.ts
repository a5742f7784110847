import type { TypedKv } from '@ibstack/bus';
import { KV_KEYS, nowIso, type TradingState, type TradingStateName } from '@ibstack/contracts';

/** KV `trading` key `state`. An absent key means RUNNING (a fresh stack trades). */
export class TradingStateStore {
  constructor(private readonly kv: TypedKv<TradingState>) {}

  async get(): Promise<TradingState> {
    const entry = await this.kv.get(KV_KEYS.tradingState);
    return (
      entry?.value ?? {
        v: 1,
        state: 'RUNNING',
        reason: 'default',
        by: 'system',
        at: new Date(0).toISOString(),
      }
    );
  }

  async set(state: TradingStateName, reason: string, by: string): Promise<TradingState> {
    const value: TradingState = { v: 1, state, reason, by, at: nowIso() };
    await this.kv.put(KV_KEYS.tradingState, value);
    return value;
  }
}
