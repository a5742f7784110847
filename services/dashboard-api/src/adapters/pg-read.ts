/**
 * What the dashboard reads from Postgres. Read-only: execution, strategy and ingestor own these tables.
 * Rows become the API's shapes here (decimal strings stay strings; no float arithmetic on money).
 */
import type { OrderStatus } from '@ibstack/contracts';
import { accountSnapshotFromRow, type Database, type Kysely, type OrderRow, sql } from '@ibstack/db';
import Decimal from 'decimal.js';

import type { Order, Position } from '../api/schemas';

export const OPEN_ORDER_STATUSES = ['pending', 'submitted', 'partially_filled'] as const;

export function orderView(row: OrderRow): Order {
  return {
    id: Number(row.id),
    intentId: row.intent_id,
    brokerOrderId: row.broker_order_id,
    sleeve: row.sleeve,
    account: row.account,
    instrument: row.instrument,
    side: row.side,
    quantity: row.quantity,
    orderType: row.order_type,
    limitPrice: row.limit_price,
    stopPrice: row.stop_price,
    timeInForce: row.time_in_force,
    status: row.status,
    brokerStatus: row.broker_status,
    filledQuantity: String(row.filled_quantity),
    remainingQuantity: row.remaining_quantity,
    averageFillPrice: row.average_fill_price,
    errorCode: row.error_code,
    errorText: row.error_text,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export interface OrderFilter {
  status?: 'open' | 'closed' | 'all' | undefined;
  sleeve?: string | undefined;
  instrument?: string | undefined;
  intentId?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  before?: number | undefined;
  limit: number;
}

const TERMINAL: readonly OrderStatus[] = ['filled', 'cancelled', 'rejected', 'inactive'];

function buyingPower(raw: unknown): string | null {
  const value = (raw as Record<string, unknown> | null)?.BuyingPower;
  if (typeof value !== 'string') return null;
  const figure = value.split(' ')[0] ?? '';
  return /^-?\d+(\.\d+)?$/.test(figure) ? figure : null;
}

export class ReadStore {
  constructor(readonly db: Kysely<Database>) {}

  /** The detail of one audit entry (a manual order's first request), parsed; undefined when absent. */
  async auditDetail(auditId: string): Promise<unknown> {
    const entry = await this.db
      .selectFrom('audit_log')
      .select('detail')
      .where('audit_id', '=', auditId)
      .executeTakeFirst();
    if (!entry) return undefined;
    return typeof entry.detail === 'string' ? JSON.parse(entry.detail) : entry.detail;
  }

  async orders(filter: OrderFilter): Promise<{ items: Order[]; next: number | null }> {
    let query = this.db
      .selectFrom('orders')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(filter.limit + 1);
    if (filter.status === 'open') query = query.where('status', 'in', [...OPEN_ORDER_STATUSES]);
    if (filter.status === 'closed') query = query.where('status', 'in', TERMINAL);
    if (filter.sleeve) query = query.where('sleeve', '=', filter.sleeve);
    if (filter.instrument) query = query.where('instrument', '=', filter.instrument);
    if (filter.intentId) query = query.where('intent_id', '=', filter.intentId);
    if (filter.from) query = query.where('created_at', '>=', new Date(filter.from));
    if (filter.to) query = query.where('created_at', '<', new Date(filter.to));
    if (filter.before !== undefined) query = query.where('id', '<', filter.before);
    const rows = await query.execute();
    const items = rows.slice(0, filter.limit).map(orderView);
    return { items, next: rows.length > filter.limit ? (items.at(-1)?.id ?? null) : null };
  }

  async orderById(id: number): Promise<OrderRow | undefined> {
    return this.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async orderByIntent(intentId: string): Promise<OrderRow | undefined> {
    return this.db.selectFrom('orders').selectAll().where('intent_id', '=', intentId).executeTakeFirst();
  }

  /** The query behind GET /api/positions: each open position with its instrument's newest 1-minute bar. */
  positionsQuery() {
    return this.db
      .selectFrom('positions as p')
      .leftJoinLateral(
        (eb) =>
          eb
            .selectFrom('bars as b')
            .select(['b.close', 'b.ts'])
            .whereRef('b.instrument', '=', 'p.instrument')
            .where('b.timeframe', '=', '1m')
            .orderBy('b.ts', 'desc')
            .limit(1)
            .as('last'),
        (join) => join.onTrue(),
      )
      .select([
        'p.account',
        'p.instrument',
        'p.quantity',
        'p.average_cost',
        'p.realized_pnl',
        'p.updated_at',
        'last.close as last_price',
        'last.ts as last_price_at',
      ])
      .where('p.quantity', '<>', '0')
      .orderBy('p.instrument');
  }

  /**
   * Open positions, each valued at its instrument's last 1-minute close. `newerCloses` (instrument → the
   * newest 1-minute bar seen on the bus) wins over the stored bar when it is newer: the ingestor publishes a
   * bar before its batch reaches Postgres.
   */
  async positions(newerCloses?: ReadonlyMap<string, { ts: string; close: string }>): Promise<Position[]> {
    const rows = await this.positionsQuery().execute();
    return rows.map((row) => {
      const live = newerCloses?.get(row.instrument);
      const last =
        live && (!row.last_price_at || Date.parse(live.ts) >= row.last_price_at.getTime())
          ? live.close
          : (row.last_price ?? null);
      return {
        account: row.account,
        instrument: row.instrument,
        quantity: row.quantity,
        averageCost: row.average_cost,
        realizedPnl: String(row.realized_pnl),
        lastPrice: last,
        unrealizedPnl:
          last === null
            ? null
            : new Decimal(last).minus(row.average_cost).times(row.quantity).toDecimalPlaces(2).toFixed(),
        updatedAt: row.updated_at.toISOString(),
      };
    });
  }

  async accounts() {
    const rows = await this.db
      .selectFrom('account_snapshots')
      .selectAll()
      .distinctOn('account')
      .orderBy('account')
      .orderBy('ts', 'desc')
      .execute();
    return rows.map((row) => ({ ...accountSnapshotFromRow(row), buyingPower: buyingPower(row.raw) }));
  }

  async trades(filter: {
    instrument?: string | undefined;
    sleeve?: string | undefined;
    from?: string | undefined;
    to?: string | undefined;
    limit: number;
    offset: number;
  }) {
    let query = this.db
      .selectFrom('executions as e')
      .leftJoin('orders as o', 'o.id', 'e.order_id')
      .select([
        'e.exec_id',
        'e.broker_order_id',
        'e.intent_id',
        'o.sleeve',
        'e.account',
        'e.instrument',
        'e.side',
        'e.quantity',
        'e.price',
        'e.commission',
        'e.commission_currency',
        'e.realized_pnl',
        'e.executed_at',
      ])
      .where('e.superseded_by', 'is', null)
      .orderBy('e.executed_at', 'desc')
      .orderBy('e.exec_id')
      .limit(filter.limit)
      .offset(filter.offset);
    if (filter.instrument) query = query.where('e.instrument', '=', filter.instrument);
    if (filter.sleeve) query = query.where('o.sleeve', '=', filter.sleeve);
    if (filter.from) query = query.where('e.executed_at', '>=', new Date(filter.from));
    if (filter.to) query = query.where('e.executed_at', '<', new Date(filter.to));
    const rows = await query.execute();
    return rows.map((row) => ({
      execId: row.exec_id,
      brokerOrderId: row.broker_order_id,
      intentId: row.intent_id,
      sleeve: row.sleeve,
      account: row.account,
      instrument: row.instrument,
      side: row.side,
      quantity: row.quantity,
      price: row.price,
      commission: row.commission,
      commissionCurrency: row.commission_currency,
      realizedPnl: row.realized_pnl,
      executedAt: row.executed_at.toISOString(),
    }));
  }

  async bars(instrument: string, timeframe: string, from: string, to: string, limit: number) {
    // The newest `limit` bars of the window, returned oldest first as charts want them.
    const rows = await this.db
      .selectFrom('bars')
      .select(['ts', 'open', 'high', 'low', 'close', 'volume'])
      .where('instrument', '=', instrument)
      .where('timeframe', '=', timeframe)
      .where('ts', '>=', new Date(from))
      .where('ts', '<', new Date(to))
      .orderBy('ts', 'desc')
      .limit(limit)
      .execute();
    return rows.reverse().map((row) => ({ ...row, ts: row.ts.toISOString() }));
  }

  /** The equity curve: the last snapshot of each of `points` equal buckets of the window. */
  async equity(from: string, to: string, points: number, account?: string) {
    const span = Math.max(1, Math.ceil((Date.parse(to) - Date.parse(from)) / points / 1000));
    // Literals (two integers), so DISTINCT ON and ORDER BY are the same expression to Postgres.
    const bucket = sql`date_bin(make_interval(secs => ${sql.lit(span)}), ts, to_timestamp(${sql.lit(Math.floor(Date.parse(from) / 1000))}))`;
    let query = this.db
      .selectFrom('account_snapshots')
      .select(['ts', 'net_liquidation', 'daily_pnl', 'drawdown_pct', 'high_water_mark'])
      .distinctOn(bucket)
      .where('ts', '>=', new Date(from))
      .where('ts', '<', new Date(to))
      .orderBy(bucket)
      .orderBy('ts', 'desc');
    if (account) query = query.where('account', '=', account);
    const rows = await query.execute();
    return rows.map((row) => ({
      ts: row.ts.toISOString(),
      netLiquidation: row.net_liquidation,
      dailyPnl: row.daily_pnl,
      drawdownPct: row.drawdown_pct,
      highWaterMark: row.high_water_mark,
    }));
  }

  async reconciliations(limit: number, offset: number) {
    const rows = await this.db
      .selectFrom('reconciliation_runs')
      .selectAll()
      .orderBy('finished_at', 'desc')
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map((row) => ({
      runId: row.run_id,
      trigger: row.trigger,
      ok: row.ok,
      mismatches: Array.isArray(row.mismatches) ? (row.mismatches as unknown[]) : [],
      positionsChecked: row.positions_checked,
      openOrdersChecked: row.open_orders_checked,
      executionsChecked: row.executions_checked,
      startedAt: row.started_at.toISOString(),
      finishedAt: row.finished_at.toISOString(),
    }));
  }

  async audit(filter: {
    actor?: string | undefined;
    action?: string | undefined;
    limit: number;
    offset: number;
  }) {
    let query = this.db
      .selectFrom('audit_log')
      .select(['audit_id', 'at', 'actor', 'action', 'detail'])
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit)
      .offset(filter.offset);
    if (filter.actor) query = query.where('actor', '=', filter.actor);
    if (filter.action) query = query.where('action', '=', filter.action);
    const rows = await query.execute();
    return rows.map((row) => ({
      auditId: row.audit_id,
      at: row.at.toISOString(),
      actor: row.actor,
      action: row.action,
      detail: row.detail,
    }));
  }

  /** Sleeves as the tables know them: those the strategy has run, and those that have orders. */
  async sleeves() {
    const startOfDay = new Date();
    startOfDay.setUTCHours(0, 0, 0, 0);
    const [progress, orderStats, fills] = await Promise.all([
      this.db
        .selectFrom('strategy_progress')
        .select(['sleeve', 'instrument', sql<Date>`max(last_bar_ts)`.as('last_bar_ts')])
        .groupBy(['sleeve', 'instrument'])
        .execute(),
      this.db
        .selectFrom('orders')
        .select([
          'sleeve',
          sql<string>`count(*) filter (where status in ('pending', 'submitted', 'partially_filled'))`.as(
            'open',
          ),
          sql<string>`count(*) filter (where created_at >= ${startOfDay})`.as('today'),
        ])
        .where('sleeve', 'is not', null)
        .groupBy('sleeve')
        .execute(),
      this.db
        .selectFrom('executions as e')
        .innerJoin('orders as o', 'o.id', 'e.order_id')
        .select([
          'o.sleeve',
          'e.instrument',
          sql<string>`sum(case when e.side = 'BUY' then e.quantity else -e.quantity end)`.as('net'),
          sql<string>`coalesce(sum(e.realized_pnl), 0)`.as('realized'),
        ])
        .where('e.superseded_by', 'is', null)
        .where('o.sleeve', 'is not', null)
        .groupBy(['o.sleeve', 'e.instrument'])
        .execute(),
    ]);
    const sleeves = new Map<
      string,
      {
        instruments: Set<string>;
        lastBarTs: Date | null;
        open: number;
        today: number;
        realized: Decimal;
        position: Record<string, string>;
      }
    >();
    const entry = (name: string) => {
      let value = sleeves.get(name);
      if (!value) {
        value = {
          instruments: new Set(),
          lastBarTs: null,
          open: 0,
          today: 0,
          realized: new Decimal(0),
          position: {},
        };
        sleeves.set(name, value);
      }
      return value;
    };
    for (const row of progress) {
      const sleeve = entry(row.sleeve);
      sleeve.instruments.add(row.instrument);
      const ts = new Date(row.last_bar_ts);
      if (!sleeve.lastBarTs || ts > sleeve.lastBarTs) sleeve.lastBarTs = ts;
    }
    for (const row of orderStats) {
      const sleeve = entry(row.sleeve!);
      sleeve.open = Number(row.open);
      sleeve.today = Number(row.today);
    }
    for (const row of fills) {
      const sleeve = entry(row.sleeve!);
      sleeve.instruments.add(row.instrument);
      sleeve.position[row.instrument] = new Decimal(row.net).toFixed();
      sleeve.realized = sleeve.realized.plus(row.realized);
    }
    return [...sleeves.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, value]) => ({
        sleeve: name,
        instruments: [...value.instruments].sort(),
        lastBarTs: value.lastBarTs?.toISOString() ?? null,
        openOrders: value.open,
        ordersToday: value.today,
        realizedPnl: value.realized.toFixed(),
        position: value.position,
      }));
  }

  /** The latest price the dashboard knows for an instrument (the newest 1-minute close). */
  async lastPrice(instrument: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('bars')
      .select('close')
      .where('instrument', '=', instrument)
      .where('timeframe', '=', '1m')
      .orderBy('ts', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.close ?? null;
  }
}
