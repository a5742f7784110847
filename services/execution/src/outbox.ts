/**
 * Publishes what the database recorded: order events on `order.event.<sym>` and fills on `fill.<sym>`.
 * Rows are written unpublished in the same transaction as the change they describe, published here, then
 * marked; a crash in between re-publishes them after restart and JetStream drops the duplicate by its
 * Nats-Msg-Id. A fill waits briefly for its commission report so subscribers see the commission; a
 * commission that arrives after its fill was published is published as a correction: the same fill
 * (same exec id) again, now with its commission, under its own Nats-Msg-Id.
 */
import { type Bus, InvalidMessageError } from '@ibstack/bus';
import { type OrderSide, type OrderStatus, topics } from '@ibstack/contracts';
import { type Database, type Kysely, sql } from '@ibstack/db';
import type { Logger } from '@ibstack/observability';

export interface OutboxOptions {
  /** How long a fill waits for its commission before it is published without one. @default 2000 */
  commissionWaitMs?: number;
  /** Poll interval when nothing wakes the publisher. @default 500 */
  intervalMs?: number;
}

export class Outbox {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private pass: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly options: OutboxOptions = {},
  ) {}

  start(): void {
    this.running = true;
    this.kick();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await this.pass;
  }

  /** Publishes now (or right after the pass in progress). */
  kick(): void {
    if (!this.running) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.pass = this.publishPending()
      .catch((error: unknown) => this.log.warn({ err: error }, 'outbox pass failed; will retry'))
      .finally(() => {
        this.pass = null;
        if (!this.running) return;
        if (this.again) {
          this.again = false;
          this.kick();
        } else {
          this.timer = setTimeout(() => this.kick(), this.options.intervalMs ?? 500);
        }
      });
  }

  /** One full pass; exposed for shutdown and tests. */
  async flush(): Promise<void> {
    await this.pass;
    await this.publishPending();
  }

  private async publishPending(): Promise<void> {
    while (
      (await this.publishOrderEvents()) +
        (await this.publishFills()) +
        (await this.publishCommissionCorrections()) >
      0
    ) {
      // keep going while there is a backlog
    }
  }

  /**
   * A row that does not make a valid message (a zero-price fill from a broken feed, say) is logged and
   * skipped rather than blocking every row behind it; the database row itself is kept.
   */
  private async publishOrSkip(id: string, publish: () => Promise<unknown>): Promise<void> {
    try {
      await publish();
    } catch (error) {
      if (!(error instanceof InvalidMessageError)) throw error;
      this.log.error({ err: error, id }, 'stored row does not make a valid message; not published');
    }
  }

  private async publishOrderEvents(): Promise<number> {
    const rows = await this.db
      .selectFrom('order_events as e')
      .innerJoin('orders as o', 'o.id', 'e.order_id')
      .select([
        'e.event_id',
        'e.status',
        'e.broker_status',
        'e.filled_quantity',
        'e.remaining_quantity',
        'e.average_fill_price',
        'e.error_code',
        'e.reason',
        'e.at',
        'o.intent_id',
        'o.broker_order_id',
        'o.perm_id',
        'o.sleeve',
        'o.instrument',
        'o.side',
        'o.quantity',
      ])
      .where('e.published', '=', false)
      .orderBy('e.at')
      .limit(200)
      .execute();
    // Published side by side: one connection keeps them in order in the stream, and a pass waits for the
    // acks once instead of once per message.
    await Promise.all(
      rows.map((row) =>
        this.publishOrSkip(row.event_id, () =>
          this.bus.publish(topics.orderEvent, {
            v: 1,
            eventId: row.event_id,
            ...(row.intent_id ? { intentId: row.intent_id } : {}),
            brokerOrderId: row.broker_order_id ?? 0,
            ...(row.perm_id ? { permId: row.perm_id } : {}),
            ...(row.sleeve ? { sleeve: row.sleeve } : {}),
            instrument: row.instrument,
            side: row.side as OrderSide,
            status: row.status as OrderStatus,
            ...(row.broker_status ? { brokerStatus: row.broker_status } : {}),
            quantity: row.quantity,
            filledQuantity: row.filled_quantity,
            remainingQuantity: row.remaining_quantity,
            ...(row.average_fill_price ? { averageFillPrice: row.average_fill_price } : {}),
            ...(row.error_code !== null ? { errorCode: row.error_code } : {}),
            ...(row.reason ? { reason: row.reason } : {}),
            ts: row.at.toISOString(),
          }),
        ),
      ),
    );
    if (rows.length > 0) {
      await this.db
        .updateTable('order_events')
        .set({ published: true })
        .where(
          'event_id',
          'in',
          rows.map((row) => row.event_id),
        )
        .execute();
    }
    return rows.length;
  }

  private fillRows() {
    return this.db
      .selectFrom('executions as x')
      .leftJoin('orders as o', 'o.id', 'x.order_id')
      .select([
        'x.exec_id',
        'x.intent_id',
        'x.broker_order_id',
        'x.perm_id',
        'x.account',
        'x.instrument',
        'x.side',
        'x.quantity',
        'x.price',
        'x.commission',
        'x.commission_currency',
        'x.realized_pnl',
        'x.executed_at',
        'x.received_at',
        'o.sleeve',
      ]);
  }

  private async publishFillRows(rows: Awaited<ReturnType<ReturnType<Outbox['fillRows']>['execute']>>) {
    await Promise.all(
      rows.map((row) =>
        this.publishOrSkip(row.exec_id, () =>
          this.bus.publish(topics.fill, {
            v: 1,
            execId: row.exec_id,
            ...(row.intent_id && /^[0-9a-f]{32}$/.test(row.intent_id) ? { intentId: row.intent_id } : {}),
            brokerOrderId: row.broker_order_id,
            permId: row.perm_id,
            ...(row.sleeve ? { sleeve: row.sleeve } : {}),
            account: row.account,
            instrument: row.instrument,
            side: row.side as OrderSide,
            quantity: row.quantity,
            price: row.price,
            ...(row.commission !== null ? { commission: row.commission } : {}),
            ...(row.commission_currency ? { commissionCurrency: row.commission_currency } : {}),
            ...(row.realized_pnl !== null ? { realizedPnl: row.realized_pnl } : {}),
            ts: row.executed_at.toISOString(),
            receivedAt: row.received_at.toISOString(),
          }),
        ),
      ),
    );
  }

  private async publishFills(): Promise<number> {
    const waitMs = this.options.commissionWaitMs ?? 2_000;
    const rows = await this.fillRows()
      .where('x.published', '=', false)
      .where((eb) =>
        eb.or([
          eb('x.commission', 'is not', null),
          eb('x.received_at', '<', sql<Date>`now() - make_interval(secs => ${waitMs / 1000})`),
        ]),
      )
      .orderBy('x.received_at')
      .limit(200)
      .execute();
    await this.publishFillRows(rows);
    if (rows.length > 0) {
      // Whether the message carried the commission is what was read, not what the row holds now: a
      // commission stored in between is published as a correction by the next pass.
      await this.db
        .updateTable('executions')
        .set({
          published: true,
          commission_published: sql<boolean>`exec_id = any(${rows
            .filter((row) => row.commission !== null)
            .map((row) => row.exec_id)}::text[])`,
        })
        .where(
          'exec_id',
          'in',
          rows.map((row) => row.exec_id),
        )
        .execute();
    }
    return rows.length;
  }

  /** Fills published without a commission whose commission has arrived since. */
  private async publishCommissionCorrections(): Promise<number> {
    const rows = await this.fillRows()
      .where('x.published', '=', true)
      .where('x.commission_published', '=', false)
      .where('x.commission', 'is not', null)
      .orderBy('x.exec_id')
      .limit(200)
      .execute();
    await this.publishFillRows(rows);
    if (rows.length > 0) {
      this.log.info({ fills: rows.length }, 'published commissions that arrived after their fills');
      await this.db
        .updateTable('executions')
        .set({ commission_published: true })
        .where(
          'exec_id',
          'in',
          rows.map((row) => row.exec_id),
        )
        .execute();
    }
    return rows.length;
  }
}
