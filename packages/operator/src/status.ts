/**
 * What the stack is doing, gathered from where each fact lives: service health from /readyz and
 * /metrics, trading state and lease holder from NATS KV, last prices from the MD stream, orders,
 * positions, P&L and reconciliation from Postgres. Every source is optional: a missing one is reported,
 * not fatal, because `status` is most needed when something is down.
 *
 * The queries are exported one by one as well, for the screens that show one part (the Telegram bot's
 * /positions, /orders, /trades; the dashboard).
 */
import type { Bus } from '@ibstack/bus';
import { GatewayHealth, KV_KEYS, Lease, subjects, Tick, type TradingState } from '@ibstack/contracts';
import { accountSnapshotFromRow, type AccountSnapshotRecord, type Database, type Kysely } from '@ibstack/db';

import { DurableTradingState } from './trading-state';

const RECENT_FILLS = 5;

export interface ServiceHealth {
  name: string;
  url: string;
  state: 'ready' | 'not ready' | 'down';
  detail: string;
  gatewayConnected: boolean | null;
}

export interface InstrumentQuote {
  instrument: string;
  bid: string | null;
  ask: string | null;
  tickAt: string | null;
  staleSeconds: number | null;
}

export interface OpenOrder {
  brokerOrderId: number | null;
  sleeve: string | null;
  instrument: string;
  side: string;
  quantity: string;
  filled: string;
  status: string;
}

export interface RecentFill {
  at: string;
  sleeve: string | null;
  instrument: string;
  side: string;
  quantity: string;
  price: string;
  commission: string | null;
}

export interface OpenPosition {
  account: string;
  instrument: string;
  quantity: string;
  averageCost: string;
  realizedPnl: string;
}

export interface AccountSummary {
  account: string;
  netLiquidation: string;
  dailyPnl: string;
  dailyReturnPct: string;
  drawdownPct: string;
  at: string;
}

/** Every figure of an account snapshot, as `/balance`-like screens show them; its time as `at` (ISO 8601). */
export type AccountFigures = Omit<AccountSnapshotRecord, 'ts'> & { at: string };

export interface LastReconciliation {
  ok: boolean;
  trigger: string;
  at: string;
  mismatches: Array<{ kind: string; detail: string }>;
}

export interface StackStatus {
  at: string;
  services: ServiceHealth[];
  tradingState: TradingState | null;
  lease: Lease | null;
  instruments: InstrumentQuote[];
  openOrders: OpenOrder[];
  /** The last fills, newest first. */
  recentFills: RecentFill[];
  positions: OpenPosition[];
  account: AccountSummary | null;
  lastReconciliation: LastReconciliation | null;
  problems: string[];
}

export const SERVICE_NAMES = ['gateway-sim', 'ingestor', 'strategy', 'execution', 'dashboard-api'] as const;

/** Where each service answers under `npm start`: `STACK_HTTP_PORT_BASE` + its position. */
export function localServiceUrls(httpPortBase: number): Array<{ name: string; url: string }> {
  return SERVICE_NAMES.map((name, index) => ({ name, url: `http://127.0.0.1:${httpPortBase + index}` }));
}

export async function serviceHealth(name: string, url: string): Promise<ServiceHealth> {
  try {
    const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1_500) });
    const body = (await ready.json().catch(() => ({}))) as { checks?: Record<string, boolean> };
    const failing = Object.entries(body.checks ?? {})
      .filter(([, ok]) => !ok)
      .map(([check]) => check);
    let gatewayConnected: boolean | null = null;
    const metrics = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(1_500) })
      .then((r) => r.text())
      .catch(() => '');
    const line = metrics.split('\n').find((text) => text.startsWith('ib_connection_up'));
    if (line) gatewayConnected = line.trim().endsWith(' 1');
    return {
      name,
      url,
      state: ready.ok ? 'ready' : 'not ready',
      detail: failing.length ? `waiting for ${failing.join(', ')}` : '',
      gatewayConnected,
    };
  } catch (error) {
    return { name, url, state: 'down', detail: unreachableReason(error), gatewayConnected: null };
  }
}

/**
 * Why a service did not answer, in words an operator acts on: fetch only says "fetch failed", its cause
 * says why. A name that does not resolve in a compose network is a service that is not running there
 * (gateway-sim under the `ibga` profile, a service of a profile that is off).
 */
function unreachableReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  if (cause?.code === 'ENOTFOUND' || cause?.code === 'EAI_AGAIN') return 'not running here (no such host)';
  if (cause?.code) return cause.code;
  return (error as Error).message;
}

/** The trading state in force, from KV `trading` and Postgres, failing closed (see DurableTradingState). */
export async function readTradingState(bus: Bus, db: Kysely<Database> | null): Promise<TradingState> {
  return new DurableTradingState({ bus, db }).get();
}

/** The execution lease, without creating its bucket when no execution ever ran. */
export async function readLease(bus: Bus): Promise<Lease | null> {
  const leases = await bus.jsm.streams.info(`KV_${bus.namespace.bucket('leases')}`).then(
    () => bus.kv('leases', Lease),
    () => null,
  );
  return (await leases?.get(KV_KEYS.executionLease))?.value ?? null;
}

/** The last message on `sys.gateway.health` (the gateway supervisor's view), or null if none. */
export async function readGatewayHealth(bus: Bus): Promise<GatewayHealth | null> {
  const message = await bus.jsm.streams
    .getMessage(bus.namespace.stream('SYS'), {
      last_by_subj: bus.namespace.subject(subjects.gatewayHealth()),
    })
    .catch(() => null);
  const parsed = message ? GatewayHealth.safeParse(message.json()) : null;
  return parsed?.success ? parsed.data : null;
}

export async function instrumentQuotes(
  db: Kysely<Database>,
  bus: Bus | null,
  now: number,
): Promise<InstrumentQuote[]> {
  const instruments: InstrumentQuote[] = [];
  const keys = await db.selectFrom('instruments').select('instrument').orderBy('instrument').execute();
  for (const { instrument } of keys) {
    let tick: Tick | null = null;
    if (bus) {
      const message = await bus.jsm.streams
        .getMessage(bus.namespace.stream('MD'), {
          last_by_subj: bus.namespace.subject(subjects.tick(instrument)),
        })
        .catch(() => null);
      const parsed = message ? Tick.safeParse(message.json()) : null;
      tick = parsed?.success ? parsed.data : null;
    }
    instruments.push({
      instrument,
      bid: tick?.bid ?? null,
      ask: tick?.ask ?? null,
      tickAt: tick?.receivedAt ?? null,
      staleSeconds: tick ? Math.max(0, Math.round((now - Date.parse(tick.receivedAt)) / 1000)) : null,
    });
  }
  return instruments;
}

export async function openOrders(db: Kysely<Database>): Promise<OpenOrder[]> {
  return (
    await db
      .selectFrom('orders')
      .select(['broker_order_id', 'sleeve', 'instrument', 'side', 'quantity', 'filled_quantity', 'status'])
      .where('status', 'in', ['pending', 'submitted', 'partially_filled'])
      .orderBy('id')
      .execute()
  ).map((row) => ({
    brokerOrderId: row.broker_order_id,
    sleeve: row.sleeve,
    instrument: row.instrument,
    side: row.side,
    quantity: row.quantity,
    filled: row.filled_quantity,
    status: row.status,
  }));
}

/** The last `limit` fills, newest first (executions superseded by a correction are left out). */
export async function recentFills(db: Kysely<Database>, limit = RECENT_FILLS): Promise<RecentFill[]> {
  return (
    await db
      .selectFrom('executions as x')
      .leftJoin('orders as o', 'o.id', 'x.order_id')
      .select([
        'x.executed_at',
        'o.sleeve',
        'x.instrument',
        'x.side',
        'x.quantity',
        'x.price',
        'x.commission',
      ])
      .where('x.superseded_by', 'is', null)
      .orderBy('x.executed_at', 'desc')
      .limit(limit)
      .execute()
  ).map((row) => ({
    at: row.executed_at.toISOString(),
    sleeve: row.sleeve,
    instrument: row.instrument,
    side: row.side,
    quantity: row.quantity,
    price: row.price,
    commission: row.commission,
  }));
}

export async function openPositions(db: Kysely<Database>): Promise<OpenPosition[]> {
  return (
    await db.selectFrom('positions').selectAll().where('quantity', '!=', '0').orderBy('instrument').execute()
  ).map((row) => ({
    account: row.account,
    instrument: row.instrument,
    quantity: row.quantity,
    averageCost: row.average_cost,
    realizedPnl: row.realized_pnl,
  }));
}

/** The newest account snapshot execution recorded. */
export async function latestAccount(db: Kysely<Database>): Promise<AccountSummary | null> {
  const snapshot = await db
    .selectFrom('account_snapshots')
    .selectAll()
    .orderBy('ts', 'desc')
    .limit(1)
    .executeTakeFirst();
  return snapshot
    ? {
        account: snapshot.account,
        netLiquidation: snapshot.net_liquidation,
        dailyPnl: snapshot.daily_pnl,
        dailyReturnPct: snapshot.daily_return_pct,
        drawdownPct: snapshot.drawdown_pct,
        at: snapshot.ts.toISOString(),
      }
    : null;
}

/** The newest snapshot of each account, by account; with `at`, the newest taken at or before it. */
export async function latestAccountSnapshots(db: Kysely<Database>, at?: Date): Promise<AccountFigures[]> {
  const rows = await db
    .selectFrom('account_snapshots')
    .selectAll()
    .$if(at !== undefined, (query) => query.where('ts', '<=', at!))
    .distinctOn('account')
    .orderBy('account')
    .orderBy('ts', 'desc')
    .execute();
  return rows.map((row) => {
    const { ts, ...figures } = accountSnapshotFromRow(row);
    return { ...figures, at: ts };
  });
}

export async function lastReconciliation(db: Kysely<Database>): Promise<LastReconciliation | null> {
  const run = await db
    .selectFrom('reconciliation_runs')
    .selectAll()
    .orderBy('finished_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return run
    ? {
        ok: run.ok,
        trigger: run.trigger,
        at: run.finished_at.toISOString(),
        mismatches: (run.mismatches as Array<{ kind: string; detail: string }>).map(({ kind, detail }) => ({
          kind,
          detail,
        })),
      }
    : null;
}

export async function gatherStatus(input: {
  db: Kysely<Database> | null;
  bus: Bus | null;
  httpPortBase: number;
  /** Where the services answer, when not on 127.0.0.1 at `httpPortBase` + 0…3 (containers). */
  services?: ReadonlyArray<{ name: string; url: string }>;
  now?: number;
}): Promise<StackStatus> {
  const now = input.now ?? Date.now();
  const problems: string[] = [];
  const services = await Promise.all(
    (input.services ?? localServiceUrls(input.httpPortBase)).map(({ name, url }) => serviceHealth(name, url)),
  );

  let tradingState: TradingState | null = null;
  let lease: Lease | null = null;
  let instruments: InstrumentQuote[] = [];
  const { db, bus } = input;
  if (bus) {
    try {
      tradingState = await readTradingState(bus, db);
      lease = await readLease(bus);
    } catch (error) {
      problems.push(`NATS KV: ${(error as Error).message}`);
    }
  } else problems.push('trading state, lease and prices unknown without NATS');

  if (db) {
    try {
      instruments = await instrumentQuotes(db, bus, now);
    } catch (error) {
      problems.push(`instruments: ${(error as Error).message}`);
    }
  }

  let orders: OpenOrder[] = [];
  let positions: OpenPosition[] = [];
  let fills: RecentFill[] = [];
  let account: AccountSummary | null = null;
  let reconciliation: LastReconciliation | null = null;
  if (db) {
    try {
      orders = await openOrders(db);
      fills = await recentFills(db);
      positions = await openPositions(db);
      account = await latestAccount(db);
      reconciliation = await lastReconciliation(db);
    } catch (error) {
      problems.push(`Postgres: ${(error as Error).message}`);
    }
  } else problems.push('orders, positions, P&L and reconciliation unknown without Postgres');

  return {
    at: new Date(now).toISOString(),
    services,
    tradingState,
    lease,
    instruments,
    openOrders: orders,
    recentFills: fills,
    positions,
    account,
    lastReconciliation: reconciliation,
    problems,
  };
}
