/**
 * The trading state, kept twice: in KV `trading` key `state` (fast, watched, works while Postgres is
 * down) and in Postgres `trading_state` (durable: survives a lost bucket or key). Every reader —
 * execution before each order, the strategy before each intent, the CLI and the dashboard — takes the
 * effective state from both, failing closed:
 *
 * - both agree: that state;
 * - they disagree: the stricter one (HALTED > REDUCING > RUNNING), so a halt that reached only one of
 *   them holds, and a resume takes effect only once written to both;
 * - one is missing or cannot be read: HALTED (a missing key never reads as RUNNING). A key missing from
 *   NATS is put back from Postgres (then both agree), so a lost bucket does not stop trading until an
 *   operator acts, nor lose a halt.
 */
import { type Bus, type KvValue, tradingStateKv, type TypedKv } from '@ibstack/bus';
import { backoffDelayMs, KV_KEYS, nowIso, TradingState, type TradingStateName } from '@ibstack/contracts';
import type { Database, Kysely } from '@ibstack/db';

const STRICTNESS: Record<TradingStateName, number> = { RUNNING: 0, REDUCING: 1, HALTED: 2 };
const ROW = 'trading';
const UNKNOWN_AT = new Date(0).toISOString();

/** The stricter of two states: the one that lets fewer orders through. */
export function stricterState(a: TradingStateName, b: TradingStateName): TradingStateName {
  return STRICTNESS[a] >= STRICTNESS[b] ? a : b;
}

/** The state in force given both copies (null: missing or unreadable). Pure. */
export function effectiveTradingState(
  inNats: TradingState | null,
  inPostgres: TradingState | null,
): TradingState {
  const halted = (reason: string): TradingState => ({
    v: 1,
    state: 'HALTED',
    reason,
    by: 'system',
    at: UNKNOWN_AT,
  });
  const describe = (value: TradingState) => `${value.state} (${value.reason}, by ${value.by})`;
  if (!inNats && !inPostgres) return halted('trading state unknown: missing in NATS and Postgres');
  if (!inNats) return halted(`trading state missing in NATS; Postgres says ${describe(inPostgres!)}`);
  if (!inPostgres) return halted(`trading state missing in Postgres; NATS says ${describe(inNats)}`);
  if (inNats.state === inPostgres.state) return inNats;
  const stricter = stricterState(inNats.state, inPostgres.state) === inNats.state ? inNats : inPostgres;
  return {
    ...stricter,
    reason: `NATS says ${describe(inNats)} but Postgres says ${describe(inPostgres)}`.slice(0, 1_000),
  };
}

export interface TradingStateReading {
  /** The state in force. */
  effective: TradingState;
  nats: KvValue<TradingState> | null;
  postgres: TradingState | null;
  /** Why a copy could not be read, if one could not. */
  problems: string[];
}

export class DurableTradingState {
  private kvHandle: TypedKv<TradingState> | undefined;

  constructor(private readonly deps: { bus: Bus; db: Kysely<Database> | null }) {}

  private async kv(): Promise<TypedKv<TradingState>> {
    this.kvHandle ??= await tradingStateKv(this.deps.bus);
    return this.kvHandle;
  }

  private async readPostgres(): Promise<TradingState | null> {
    if (!this.deps.db) throw new Error('Postgres is not reachable');
    const row = await this.deps.db
      .selectFrom('trading_state')
      .selectAll()
      .where('name', '=', ROW)
      .executeTakeFirst();
    if (!row) return null;
    return TradingState.parse({
      v: 1,
      state: row.state,
      reason: row.reason,
      by: row.by,
      at: row.at.toISOString(),
    });
  }

  private async writePostgres(value: TradingState): Promise<void> {
    if (!this.deps.db) throw new Error('Postgres is not reachable');
    const row = { state: value.state, reason: value.reason, by: value.by, at: new Date(value.at) };
    await this.deps.db
      .insertInto('trading_state')
      .values({ name: ROW, ...row })
      .onConflict((conflict) => conflict.column('name').doUpdateSet({ ...row, updated_at: new Date() }))
      .execute();
  }

  /** Both copies and the state in force. Puts a key missing from NATS back from Postgres. */
  async read(): Promise<TradingStateReading> {
    const problems: string[] = [];
    const [natsRead, postgres] = await Promise.all([
      this.kv()
        .then((kv) => kv.get(KV_KEYS.tradingState))
        .catch((error: unknown) => {
          problems.push(`NATS: ${(error as Error).message}`);
          return null;
        }),
      this.readPostgres().catch((error: unknown) => {
        problems.push(`Postgres: ${(error as Error).message}`);
        return null;
      }),
    ]);
    let nats = natsRead;
    if (!nats && postgres && problems.length === 0) {
      // Put back only into an absent key (a writer that got there first wins), then read what is there.
      nats = await this.kv()
        .then(async (kv) => {
          await kv.create(KV_KEYS.tradingState, postgres);
          return kv.get(KV_KEYS.tradingState);
        })
        .catch(() => null);
    }
    const state = effectiveTradingState(nats?.value ?? null, postgres);
    // A copy that could not be read says why: a refusal then names the timeout, not just a missing key.
    const effective =
      problems.length > 0
        ? { ...state, reason: `${state.reason} (${problems.join('; ')})`.slice(0, 1_000) }
        : state;
    return { effective, nats, postgres, problems };
  }

  /** The state in force (see the module header). */
  async get(): Promise<TradingState> {
    return (await this.read()).effective;
  }

  /**
   * Writes the state to both places at once. Returns where it could not be written; throws when it
   * reached neither. A halt that reached one place is in force already (the stricter state wins); a
   * resume or reduce is in force only once both have it.
   */
  async write(value: TradingState): Promise<string[]> {
    const results = await Promise.allSettled([
      this.kv().then((kv) => kv.put(KV_KEYS.tradingState, value)),
      this.writePostgres(value),
    ]);
    const problems = results.flatMap((result, index) =>
      result.status === 'rejected'
        ? [`${index === 0 ? 'NATS' : 'Postgres'}: ${(result.reason as Error).message}`]
        : [],
    );
    if (problems.length === 2) throw new Error(`trading state not written: ${problems.join('; ')}`);
    return problems;
  }

  /** Sets the state in both places; throws unless both have it. */
  async set(state: TradingStateName, reason: string, by: string): Promise<TradingState> {
    const value: TradingState = { v: 1, state, reason: reason.slice(0, 500), by, at: nowIso() };
    const problems = await this.write(value);
    if (problems.length > 0)
      throw new Error(`trading state ${state} written only in part: ${problems.join('; ')}`);
    return value;
  }

  /**
   * A halt that is not lost: written to both places, retried with backoff until both have it or the
   * attempts run out (then it throws, and the caller must not act as if halted — e.g. must not mark the
   * cause as reported). Once one place has it, the halt is already in force.
   */
  async halt(
    reason: string,
    by: string,
    options: { attempts?: number; onRetry?: (error: unknown, attempt: number) => void } = {},
  ): Promise<TradingState> {
    const attempts = options.attempts ?? 8;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.set('HALTED', reason, by);
      } catch (error) {
        if (attempt >= attempts) throw error;
        options.onRetry?.(error, attempt);
        await new Promise((resolve) =>
          setTimeout(resolve, backoffDelayMs(attempt, { firstMs: 250, maxMs: 5_000 })),
        );
      }
    }
  }
}
