/**
 * What the stack is doing, gathered from where each fact lives: service health from /readyz and
 * /metrics, trading state and lease holder from NATS KV, last prices from the MD stream, orders,
 * positions, P&L and reconciliation from Postgres. Every source is optional: a missing one is reported,
 * not fatal, because `status` is most needed when something is down.
 */
import type { Bus } from '@ibstack/bus';
import { KV_KEYS, Lease, subjects, Tick, TradingState } from '@ibstack/contracts';
import type { Database, Kysely } from '@ibstack/db';

const RECENT_FILLS = 5;

export interface ServiceHealth {
  name: string;
  url: string;
  state: 'ready' | 'not ready' | 'down';
  detail: string;
  gatewayConnected: boolean | null;
}

export interface StackStatus {
  at: string;
  services: ServiceHealth[];
  tradingState: TradingState | null;
  lease: Lease | null;
  instruments: Array<{
    instrument: string;
    bid: string | null;
    ask: string | null;
    tickAt: string | null;
    staleSeconds: number | null;
  }>;
  openOrders: Array<{
    brokerOrderId: number | null;
    sleeve: string | null;
    instrument: string;
    side: string;
    quantity: string;
    filled: string;
    status: string;
  }>;
  /** The last fills, newest first. */
  recentFills: Array<{
    at: string;
    sleeve: string | null;
    instrument: string;
    side: string;
    quantity: string;
    price: string;
    commission: string | null;
  }>;
  positions: Array<{
    account: string;
    instrument: string;
    quantity: string;
    averageCost: string;
    realizedPnl: string;
  }>;
  account: {
    account: string;
    netLiquidation: string;
    dailyPnl: string;
    dailyReturnPct: string;
    drawdownPct: string;
    at: string;
  } | null;
  lastReconciliation: {
    ok: boolean;
    trigger: string;
    at: string;
    mismatches: Array<{ kind: string; detail: string }>;
  } | null;
  problems: string[];
}

export const SERVICE_NAMES = ['gateway-sim', 'ingestor', 'strategy', 'execution', 'dashboard-api'] as const;

async function serviceHealth(name: string, url: string): Promise<ServiceHealth> {
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
    return { name, url, state: 'down', detail: (error as Error).message, gatewayConnected: null };
  }
}

export async function gatherStatus(input: {
  db: Kysely<Database> | null;
  bus: Bus | null;
  httpPortBase: number;
  now?: number;
}): Promise<StackStatus> {
  const now = input.now ?? Date.now();
  const problems: string[] = [];
  const services = await Promise.all(
    SERVICE_NAMES.map((name, index) => serviceHealth(name, `http://127.0.0.1:${input.httpPortBase + index}`)),
  );

  let tradingState: TradingState | null = null;
  let lease: Lease | null = null;
  const instruments: StackStatus['instruments'] = [];
  const { db, bus } = input;
  if (bus) {
    try {
      tradingState =
        (await (await bus.kv('trading', TradingState, { history: 10 })).get(KV_KEYS.tradingState))?.value ??
        null;
      const leases = await bus.jsm.streams.info(`KV_${bus.namespace.bucket('leases')}`).then(
        () => bus.kv('leases', Lease),
        () => null,
      );
      lease = (await leases?.get(KV_KEYS.executionLease))?.value ?? null;
    } catch (error) {
      problems.push(`NATS KV: ${(error as Error).message}`);
    }
  } else problems.push('trading state, lease and prices unknown without NATS');

  if (db) {
    try {
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
    } catch (error) {
      problems.push(`instruments: ${(error as Error).message}`);
    }
  }

  let openOrders: StackStatus['openOrders'] = [];
  let positions: StackStatus['positions'] = [];
  let recentFills: StackStatus['recentFills'] = [];
  let account: StackStatus['account'] = null;
  let lastReconciliation: StackStatus['lastReconciliation'] = null;
  if (db) {
    try {
      openOrders = (
        await db
          .selectFrom('orders')
          .select([
            'broker_order_id',
            'sleeve',
            'instrument',
            'side',
            'quantity',
            'filled_quantity',
            'status',
          ])
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
      recentFills = (
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
          .limit(RECENT_FILLS)
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
      positions = (
        await db
          .selectFrom('positions')
          .selectAll()
          .where('quantity', '!=', '0')
          .orderBy('instrument')
          .execute()
      ).map((row) => ({
        account: row.account,
        instrument: row.instrument,
        quantity: row.quantity,
        averageCost: row.average_cost,
        realizedPnl: row.realized_pnl,
      }));
      const snapshot = await db
        .selectFrom('account_snapshots')
        .selectAll()
        .orderBy('ts', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (snapshot) {
        account = {
          account: snapshot.account,
          netLiquidation: snapshot.net_liquidation,
          dailyPnl: snapshot.daily_pnl,
          dailyReturnPct: snapshot.daily_return_pct,
          drawdownPct: snapshot.drawdown_pct,
          at: snapshot.ts.toISOString(),
        };
      }
      const run = await db
        .selectFrom('reconciliation_runs')
        .selectAll()
        .orderBy('finished_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (run) {
        lastReconciliation = {
          ok: run.ok,
          trigger: run.trigger,
          at: run.finished_at.toISOString(),
          mismatches: (run.mismatches as Array<{ kind: string; detail: string }>).map(({ kind, detail }) => ({
            kind,
            detail,
          })),
        };
      }
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
    openOrders,
    recentFills,
    positions,
    account,
    lastReconciliation,
    problems,
  };
}
