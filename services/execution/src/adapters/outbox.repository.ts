/**
 * The outbox's reads and marks: order events and fills written unpublished (`published = false`) in the
 * transaction of the change they describe, and fills whose commission arrived after they were published.
 */
import { type Database, type Kysely, sql } from '@ibstack/db';

/** At most this many rows per read: a backlog is published in passes. */
const BATCH = 200;

export type UnpublishedOrderEvent = Awaited<ReturnType<OutboxRepository['unpublishedOrderEvents']>>[number];
export type UnpublishedFill = Awaited<ReturnType<OutboxRepository['unpublishedFills']>>[number];

export class OutboxRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async unpublishedOrderEvents() {
    return this.db
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
      .limit(BATCH)
      .execute();
  }

  async markOrderEventsPublished(eventIds: readonly string[]): Promise<void> {
    if (eventIds.length === 0) return;
    await this.db
      .updateTable('order_events')
      .set({ published: true })
      .where('event_id', 'in', eventIds)
      .execute();
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

  /** Unpublished fills that have their commission or waited `commissionWaitMs` for it. */
  async unpublishedFills(commissionWaitMs: number) {
    return this.fillRows()
      .where('x.published', '=', false)
      .where((eb) =>
        eb.or([
          eb('x.commission', 'is not', null),
          eb('x.received_at', '<', sql<Date>`now() - make_interval(secs => ${commissionWaitMs / 1000})`),
        ]),
      )
      .orderBy('x.received_at')
      .limit(BATCH)
      .execute();
  }

  /**
   * Marks fills published. Whether the message carried the commission is what was read, not what the row
   * holds now: a commission stored in between is published as a correction by the next pass.
   */
  async markFillsPublished(
    rows: ReadonlyArray<Pick<UnpublishedFill, 'exec_id' | 'commission'>>,
  ): Promise<void> {
    if (rows.length === 0) return;
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

  /** Fills published without a commission whose commission has arrived since. */
  async commissionCorrections() {
    return this.fillRows()
      .where('x.published', '=', true)
      .where('x.commission_published', '=', false)
      .where('x.commission', 'is not', null)
      .orderBy('x.exec_id')
      .limit(BATCH)
      .execute();
  }

  async markCommissionsPublished(execIds: readonly string[]): Promise<void> {
    if (execIds.length === 0) return;
    await this.db
      .updateTable('executions')
      .set({ commission_published: true })
      .where('exec_id', 'in', execIds)
      .execute();
  }
}
