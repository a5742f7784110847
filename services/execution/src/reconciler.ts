/**
 * Runs reconciliation against the broker and acts on it: a clean run is stored; a mismatch is stored,
 * published on `sys.recon.result`, and halts trading (KV `trading` = HALTED with the reason). Trading
 * resumes only by an operator command.
 *
 * Before comparing, every broker event already received is applied and the broker's executions are
 * fetched (which stores any missed fill), so a fill in flight is not mistaken for drift. A mismatch is
 * confirmed by a second look one second later before it halts anything.
 */
import type { Bus } from '@ibstack/bus';
import {
  deterministicId,
  nowIso,
  type ReconciliationMismatch,
  type ReconciliationResult,
  randomId,
  topics,
} from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

import type { IbBroker } from './adapters/ib-broker';
import type { ExecutionStore } from './adapters/pg-store';
import { tradingDayStart } from './domain/account';
import { reconcile } from './domain/reconcile';
import type { ExecutionMetrics } from './metrics';
import type { OrderTracker } from './order-tracker';
import type { TradingStateStore } from './trading-state';

export type ReconciliationTrigger = ReconciliationResult['trigger'];

export interface ReconcilerDependencies {
  store: ExecutionStore;
  broker: IbBroker;
  tracker: OrderTracker;
  bus: Bus;
  tradingState: TradingStateStore;
  metrics: ExecutionMetrics;
  log: Logger;
  account: () => string | null;
  positionTolerance: string;
  /** Pause before the confirming second look. @default 1000 */
  confirmDelayMs?: number;
}

function formatIbTime(epochMs: number): string {
  const date = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}-${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

export class Reconciler {
  constructor(private readonly deps: ReconcilerDependencies) {}

  private async compare() {
    const { store, broker, tracker } = this.deps;
    const account = this.deps.account();
    await tracker.drain();
    const since = tradingDayStart(await broker.currentTime());
    const brokerExecutions = await broker.executions({ time: formatIbTime(since) });
    const brokerPositions = await broker.positions();
    const brokerOpen = await broker.openOrders();
    await tracker.drain();
    const localOpen = await store.openOrders();
    const local = {
      positions: (await store.positions()).filter((position) => !account || position.account === account),
      openOrders: localOpen
        .filter((order) => order.broker_order_id !== null || order.perm_id !== null)
        .map((order) => ({
          brokerOrderId: order.broker_order_id ?? -(order.perm_id ?? 0),
          intentId: order.intent_id,
          instrument: order.instrument,
          remainingQuantity: order.remaining_quantity,
        })),
      executions: await store.executionsSince(new Date(since)),
      knownExecIds: await store.executionIdsSince(new Date(since)),
    };
    const brokerView = {
      positions: brokerPositions.filter((position) => !account || position.account === account),
      openOrders: brokerOpen.orders.map((order) => ({
        brokerOrderId: order.clientId === broker.clientId ? order.orderId : -order.permId,
        orderRef: order.orderRef,
        instrument: order.instrument,
        brokerStatus: order.brokerStatus,
        remainingQuantity: order.quantity,
      })),
      executions: brokerExecutions.executions.map((execution) => ({
        execId: execution.execId,
        instrument: execution.instrument,
        time: execution.time,
      })),
      executionsSince: since,
    };
    // What the broker did that no intent explains (another client, a liquidation) is in our books by now,
    // so the books agree; it is still a mismatch, reported once.
    const unexplained = await store.unexplainedTrades();
    const mismatches: ReconciliationMismatch[] = [
      ...unexplained.orders.map((order) =>
        order.duplicate_of !== null
          ? {
              kind: 'duplicate_order' as const,
              instrument: order.instrument,
              local: `intent ${order.duplicate_intent_id ?? '-'}: our order ${order.duplicate_broker_order_id ?? '-'}`,
              broker: `perm ${order.perm_id ?? '-'} (client ${order.client_id}) ${order.side} ${order.quantity}`,
              detail: `a second broker order (perm ${order.perm_id ?? '-'}, client ${order.client_id}) carries intent ${order.duplicate_intent_id ?? '-'} of our order ${order.duplicate_broker_order_id ?? '-'}: a duplicate`,
            }
          : {
              kind: 'open_order_unknown_locally' as const,
              instrument: order.instrument,
              broker: `order ${order.broker_order_id ?? '-'} (client ${order.client_id}, perm ${order.perm_id ?? '-'}) ${order.side} ${order.quantity}`,
              detail: `broker order ${order.broker_order_id ?? `perm ${order.perm_id}`} matches no intent; adopted`,
            },
      ),
      ...unexplained.amendments.map((change) => {
        const terms = (quantity: string, limit: string | null, stop: string | null) =>
          `${quantity}${limit === null ? '' : ` LMT ${limit}`}${stop === null ? '' : ` STP ${stop}`}`;
        return {
          kind: 'order_modified_at_broker' as const,
          instrument: change.instrument,
          local: terms(change.previousQuantity, change.previousLimitPrice, change.previousStopPrice),
          broker: terms(change.quantity, change.limitPrice, change.stopPrice),
          detail: `our order ${change.brokerOrderId ?? '-'} (intent ${change.intentId ?? '-'}) was changed at the broker from ${terms(change.previousQuantity, change.previousLimitPrice, change.previousStopPrice)} to ${terms(change.quantity, change.limitPrice, change.stopPrice)}`,
        };
      }),
      ...unexplained.executions.map((execution) => ({
        kind: 'execution_unexplained' as const,
        instrument: execution.instrument,
        broker: `${execution.side} ${execution.quantity} @ ${execution.price}`,
        detail: `execution ${execution.execId} (${execution.side} ${execution.quantity} ${execution.instrument}) matches no intent`,
      })),
      ...reconcile(local, brokerView, { positionTolerance: this.deps.positionTolerance }),
    ];
    return {
      mismatches,
      unexplained,
      positionsChecked: new Set([
        ...local.positions.map((p) => p.instrument),
        ...brokerView.positions.map((p) => p.instrument),
      ]).size,
      openOrdersChecked: local.openOrders.length + brokerView.openOrders.length,
      executionsChecked: brokerView.executions.length,
    };
  }

  /** One reconciliation run. */
  async run(trigger: ReconciliationTrigger): Promise<ReconciliationResult> {
    const { store, bus, metrics, log } = this.deps;
    const startedAt = nowIso();
    let outcome = await this.compare();
    if (outcome.mismatches.length > 0) {
      // A fill in flight looks like drift for a moment: look again before halting anything.
      await new Promise((resolve) => setTimeout(resolve, this.deps.confirmDelayMs ?? 1_000));
      outcome = await this.compare();
    }
    const result: ReconciliationResult = {
      v: 1,
      runId: randomId(),
      trigger,
      ok: outcome.mismatches.length === 0,
      mismatches: outcome.mismatches,
      positionsChecked: outcome.positionsChecked,
      openOrdersChecked: outcome.openOrdersChecked,
      executionsChecked: outcome.executionsChecked,
      startedAt,
      finishedAt: nowIso(),
    };
    await store.recordReconciliation(result);
    await store.flagUnexplained(
      outcome.unexplained.orders.map((order) => order.id),
      outcome.unexplained.executions.map((execution) => execution.execId),
      new Date(result.finishedAt),
      outcome.unexplained.amendments.map((change) => change.id),
    );
    metrics.reconciliationRuns.inc({ trigger, result: result.ok ? 'ok' : 'mismatch' });
    metrics.reconciliationMismatches.reset();
    for (const mismatch of result.mismatches) metrics.reconciliationMismatches.inc({ kind: mismatch.kind });
    metrics.reconciliationLastRun.set(Date.parse(result.finishedAt) / 1000);
    await bus
      .publish(topics.reconciliationResult, result)
      .catch((error: unknown) => log.error({ err: error }, 'could not publish the reconciliation result'));
    if (result.ok) {
      log.info({ trigger, runId: result.runId }, 'reconciliation clean');
      return result;
    }
    const reason = `reconciliation mismatch (${result.mismatches.length}): ${result.mismatches
      .slice(0, 3)
      .map((mismatch) => mismatch.detail)
      .join('; ')}`;
    log.error(
      { trigger, runId: result.runId, mismatches: result.mismatches },
      'reconciliation found mismatches: halting trading',
    );
    await this.halt(reason, { runId: result.runId });
    return result;
  }

  async halt(reason: string, detail: Record<string, unknown>): Promise<void> {
    const { tradingState, store, bus } = this.deps;
    const state = await tradingState.set('HALTED', reason.slice(0, 500), 'execution');
    const entry = {
      v: 1 as const,
      auditId: deterministicId('halt', state.at, reason),
      actor: 'execution',
      action: 'halt',
      detail: { reason, ...detail },
      at: state.at,
    };
    await store.audit(entry);
    await bus.publish(topics.audit, entry).catch(() => undefined);
    await bus
      .publish(topics.systemEvent, {
        v: 1,
        eventId: entry.auditId,
        service: 'execution',
        severity: 'critical',
        code: 'trading_halted',
        message: reason,
        detail,
        ts: state.at,
      })
      .catch(() => undefined);
  }
}
