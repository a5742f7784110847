/**
 * Publishes what the database recorded: order events on `order.event.<sym>` and fills on `fill.<sym>`.
 * Rows are written unpublished in the same transaction as the change they describe, published here, then
 * marked; a crash in between re-publishes them after restart and JetStream drops the duplicate by its
 * Nats-Msg-Id. A fill waits briefly for its commission report so subscribers see the commission; a
 * commission that arrives after its fill was published is published as a correction: the same fill
 * (same exec id) again, now with its commission, under its own Nats-Msg-Id.
 */
import { type Bus, InvalidMessageError } from '@ibstack/bus';
import { topics } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

import type { OutboxRepository, UnpublishedFill } from './adapters/outbox.repository';

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
    private readonly stored: OutboxRepository,
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
    const rows = await this.stored.unpublishedOrderEvents();
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
            side: row.side,
            status: row.status,
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
    await this.stored.markOrderEventsPublished(rows.map((row) => row.event_id));
    return rows.length;
  }

  private async publishFillRows(rows: readonly UnpublishedFill[]) {
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
            side: row.side,
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
    const rows = await this.stored.unpublishedFills(waitMs);
    await this.publishFillRows(rows);
    await this.stored.markFillsPublished(rows);
    return rows.length;
  }

  /** Fills published without a commission whose commission has arrived since. */
  private async publishCommissionCorrections(): Promise<number> {
    const rows = await this.stored.commissionCorrections();
    await this.publishFillRows(rows);
    if (rows.length > 0) {
      this.log.info({ fills: rows.length }, 'published commissions that arrived after their fills');
      await this.stored.markCommissionsPublished(rows.map((row) => row.exec_id));
    }
    return rows.length;
  }
}
