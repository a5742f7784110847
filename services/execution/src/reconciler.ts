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
  MINUTE_MS,
  nowIso,
  type ReconciliationMismatch,
  type ReconciliationResult,
  randomId,
  topics,
} from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

import type { Broker } from './ports';
import type { ExecutionStore } from './adapters/pg-store';
import { brokerExecutionsSince } from './domain/account';
import { type CashInstrument, type CashTolerance, compareCash, executionsCashEffect } from './domain/cash';
import { isReconstructedExecId } from './domain/reconstruct';
import { reconcile } from './domain/reconcile';
import { type BrokerOpenIdentity, isOpenAtBroker, settleMissingOrder } from './domain/settlement';
import type { CrashPoints } from './crash-points';
import type { ExecutionMetrics } from './metrics';
import type { OrderTracker } from './order-tracker';
import { cancelWorkingOrders } from './working-orders';
import type { DurableTradingState } from '@ibstack/operator';

export type ReconciliationTrigger = ReconciliationResult['trigger'];

export interface ReconcilerDependencies {
  store: ExecutionStore;
  broker: Broker;
  tracker: OrderTracker;
  bus: Bus;
  tradingState: DurableTradingState;
  metrics: ExecutionMetrics;
  log: Logger;
  account: () => string | null;
  /** The gateway's local zone (GATEWAY_TIME_ZONE): its midnight is IB's execution cut-off. */
  gatewayTimeZone: string;
  /** Units still treated as equal: a default, and per instrument key. */
  positionTolerance: { default: string; byInstrument: Readonly<Record<string, string>> };
  /** Relative average-cost difference still treated as equal (0.01 = 1 %). */
  averageCostTolerance: string;
  /** Cash difference per currency (absolute, in that currency) still treated as equal. */
  cashTolerance: CashTolerance;
  /** The instrument behind an execution's key, for the currencies its cash moves in. */
  instrumentOf: (key: string) => Promise<CashInstrument | undefined>;
  /** Whether a halt for a mismatch also cancels our working orders (RECONCILIATION_HALT_CANCELS_ORDERS). @default true */
  haltCancelsOrders?: boolean;
  /** Pause before the confirming second look. @default 1000 */
  confirmDelayMs?: number;
  /**
   * Comparisons a run makes at most while fills keep arriving for the instruments in question; a
   * mismatch on an instrument that was never quiet during one of them is left to the next run. @default 5
   */
  settleAttempts?: number;
  /** How long each broker read may take. @default 10000 */
  readTimeoutMs?: number;
  /** With no clean run for this long while trading, trading halts. @default 900000 */
  maxCleanAgeMs?: number;
  now?: () => number;
  /** Test-only kill points inside reconciliation and halting. */
  crashPoints?: CrashPoints;
}

/** A fill's commission normally follows it within a second; until this long, its account's cash waits. */
const COMMISSION_WAIT_MS = MINUTE_MS;

export class Reconciler {
  private lastCleanAt: number;
  private readonly now: () => number;

  constructor(private readonly deps: ReconcilerDependencies) {
    this.now = deps.now ?? Date.now;
    // A run must be clean within the limit of the start: the start's own reconciliation sees to that.
    this.lastCleanAt = this.now();
  }

  /** Epoch ms of the last clean run (or of the start, before the first). */
  get lastClean(): number {
    return this.lastCleanAt;
  }

  private async compare() {
    const { store, broker, tracker } = this.deps;
    const timeout = this.deps.readTimeoutMs ?? 10_000;
    await tracker.drain();
    // What the tracker stores from here on happened while we read: its instruments are not settled.
    const mark = tracker.mark();
    // The window IB reports executions for: since the trading day's start, but never before the gateway's
    // midnight (IB's cut-off). A stored execution before it is not "unknown at the broker".
    const since = brokerExecutionsSince(await broker.currentTime(timeout), this.deps.gatewayTimeZone);
    const brokerExecutions = await broker.executions({ sinceMs: since }, timeout);
    const brokerPositions = await broker.positions(timeout);
    const brokerOpen = await broker.openOrders(timeout);
    await this.settleForeignOrders(brokerOpen.orders, since, timeout);
    // Cash at the broker, then the cash our stored executions explain: a fill stored in between is one
    // the tracker saw after the mark, so the comparison is not conclusive and is made again.
    const brokerCash = await broker.cashBalances(timeout);
    const cashTotals = await store.executions.executionCashTotals(new Date(this.now() - COMMISSION_WAIT_MS));
    await tracker.drain();
    // Our rows at one point in time (a repeatable-read snapshot), not row sets read one after another.
    const snapshot = await store.reconciliation.reconciliationSnapshot(new Date(since));
    const disturbed = tracker.touchedSince(mark);
    const localOpen = snapshot.openOrders;
    // Every managed account, each on its own (not only the first).
    const local = {
      positions: snapshot.positions.map((position) => ({
        account: position.account,
        instrument: position.instrument,
        quantity: position.quantity,
        averageCost: position.average_cost,
      })),
      openOrders: localOpen
        .filter((order) => order.broker_order_id !== null || order.perm_id !== null)
        .map((order) => ({
          brokerOrderId: order.broker_order_id ?? -(order.perm_id ?? 0),
          intentId: order.intent_id,
          instrument: order.instrument,
          remainingQuantity: order.remaining_quantity,
          quantity: order.quantity,
          limitPrice: order.order_type === 'LMT' ? order.limit_price : null,
          stopPrice: order.order_type === 'STP' ? order.stop_price : null,
        })),
      // A rebuilt fill is one IB no longer lists (past its cut-off): never "unknown at the broker".
      executions: snapshot.executions.filter((execution) => !isReconstructedExecId(execution.execId)),
      knownExecIds: snapshot.knownExecIds,
    };
    const brokerView = {
      positions: brokerPositions.map((position) => ({
        account: position.account,
        instrument: position.instrument,
        quantity: position.quantity,
        averageCost: position.averageCost,
      })),
      openOrders: brokerOpen.orders.map((order) => ({
        brokerOrderId: order.clientId === broker.clientId ? order.orderId : -order.permId,
        orderRef: order.orderRef,
        instrument: order.instrument,
        brokerStatus: order.brokerStatus,
        remainingQuantity: order.quantity,
        quantity: order.quantity,
        limitPrice: order.orderType === 'LMT' && order.limitPrice !== undefined ? order.limitPrice : null,
        stopPrice: order.orderType === 'STP' && order.stopPrice !== undefined ? order.stopPrice : null,
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
    const unexplained = await store.reconciliation.unexplainedTrades();
    const reconstructed = await store.executions.unreportedReconstructions();
    const reported: ReconciliationMismatch[] = [
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
    ];
    const cash = await this.compareCash(brokerCash, cashTotals);
    // A comparison of two views is conclusive only for instruments nothing happened to while they were read.
    const compared = [
      ...snapshot.overfilled.map((order) => ({
        kind: 'order_overfilled' as const,
        instrument: order.instrument,
        local: `ordered ${order.quantity}`,
        broker: `filled ${order.executed}`,
        detail: `order ${order.broker_order_id ?? `perm ${order.perm_id ?? '-'}`} (intent ${order.intent_id ?? '-'}) has ${order.executed} filled of ${order.quantity}: overfilled`,
      })),
      ...reconcile(local, brokerView, {
        positionTolerance: this.deps.positionTolerance.default,
        positionToleranceByInstrument: this.deps.positionTolerance.byInstrument,
        averageCostTolerance: this.deps.averageCostTolerance,
      }),
      // Cash has no instrument: conclusive only when nothing at all happened during the reads.
      ...cash.mismatches.map((entry) => entry.mismatch),
    ];
    const settled = (mismatch: ReconciliationMismatch) =>
      mismatch.instrument ? !disturbed.has(mismatch.instrument) : disturbed.size === 0;
    return {
      mismatches: [...reported, ...compared],
      overfilledIds: snapshot.overfilled.map((order) => order.id),
      unsettled: compared.filter((mismatch) => !settled(mismatch)),
      disturbed,
      unexplained,
      cash,
      reconstructed,
      positionsChecked: new Set([
        ...local.positions.map((p) => p.instrument),
        ...brokerView.positions.map((p) => p.instrument),
      ]).size,
      openOrdersChecked: local.openOrders.length + brokerView.openOrders.length,
      executionsChecked: brokerView.executions.length,
    };
  }

  /**
   * Settles the working orders of other clients (placed in TWS, duplicates of ours) that the broker no
   * longer lists. The broker sends a client the status of its own orders only, so such an order never
   * hears of its end: left working in our books it is "unknown at the broker" at every run (halting
   * again after every resume) and its remainder counts as pending exposure. It ended before the open
   * orders were read, so its fills are in an executions read made now; it is settled from them as
   * recovery settles ours at a session's start (filled if they cover it, else cancelled).
   */
  private async settleForeignOrders(
    brokerOpen: readonly BrokerOpenIdentity[],
    since: number,
    timeoutMs: number,
  ): Promise<void> {
    const { store, broker, tracker, log } = this.deps;
    const gone = (await store.orders.openOrders()).filter(
      (order) =>
        order.client_id !== broker.clientId &&
        order.perm_id !== null &&
        !isOpenAtBroker(
          { clientId: order.client_id, brokerOrderId: order.broker_order_id, permId: order.perm_id },
          brokerOpen,
        ),
    );
    if (gone.length === 0) return;
    await broker.executions({ sinceMs: since }, timeoutMs);
    await tracker.drain();
    for (const order of gone) {
      const settlement = settleMissingOrder({
        status: order.status,
        quantity: order.quantity,
        hasBrokerOrderId: false,
        executedQuantity: await store.executions.executedQuantity(order.id),
        policy: 'fail',
      });
      if (settlement.kind !== 'filled' && settlement.kind !== 'cancelled') continue;
      log.warn(
        { permId: order.perm_id, clientId: order.client_id, settlement },
        "another client's order is no longer open at the broker: settled from its fills",
      );
      await tracker.apply(order, {
        kind: 'status',
        brokerStatus: settlement.kind === 'filled' ? 'Filled' : 'Cancelled',
        filledQuantity: settlement.filledQuantity,
        remainingQuantity: settlement.kind === 'filled' ? '0' : settlement.remainingQuantity,
        averageFillPrice: order.average_fill_price,
      });
    }
  }

  /** The broker's cash against the baselines and what our executions explain (domain/cash.ts). */
  private async compareCash(
    brokerCash: Awaited<ReturnType<Broker['cashBalances']>>,
    totals: Awaited<ReturnType<ExecutionStore['executions']['executionCashTotals']>>,
  ) {
    const instruments = new Map<string, CashInstrument | undefined>();
    for (const trade of totals.trades)
      if (!instruments.has(trade.instrument))
        instruments.set(trade.instrument, await this.deps.instrumentOf(trade.instrument));
    const { effects, unknown } = executionsCashEffect(totals.trades, totals.commissions, (key) =>
      instruments.get(key),
    );
    const baselines = await this.deps.store.account.cashBaselines();
    const skip = new Map<string, string>();
    for (const [account, keys] of unknown) skip.set(account, `unknown instruments ${keys.join(', ')}`);
    for (const account of totals.awaitingCommission)
      if (!skip.has(account)) skip.set(account, 'a commission is still on its way');
    // A fill rebuilt from what IB still reports (past its execution window) has an approximate price and
    // no commission: its cash cannot be checked. It is reported on its own (execution_reconstructed); the
    // account's cash is measured again from here.
    const rebase: string[] = [];
    for (const [account, latest] of totals.reconstructedAt) {
      const since = baselines.find((row) => row.account === account)?.recordedAt;
      if (!since || latest <= since || skip.has(account)) continue;
      skip.set(account, 'a fill rebuilt since the baseline');
      rebase.push(account);
    }
    if (skip.size > 0) this.deps.log.warn({ accounts: Object.fromEntries(skip) }, 'cash not compared');
    const comparison = compareCash({
      broker: brokerCash.map((row) => ({ account: row.account, currency: row.currency, amount: row.cash })),
      effects,
      baselines,
      tolerance: this.deps.cashTolerance,
      skip,
    });
    // What a baseline of the re-based accounts holds (compareCash leaves skipped accounts out).
    const rebased = compareCash({
      broker: brokerCash
        .filter((row) => rebase.includes(row.account))
        .map((row) => ({ account: row.account, currency: row.currency, amount: row.cash })),
      effects: effects.filter((row) => rebase.includes(row.account)),
      baselines: [],
      tolerance: this.deps.cashTolerance,
    }).current;
    return { ...comparison, rebased };
  }

  /**
   * Baselines taken after a run: for accounts that had none (only from a comparison nothing disturbed), and
   * for accounts whose cash mismatch this run reported (the halt is written by now): a discrepancy is
   * reported once, and the next run measures from the broker's cash as it is.
   */
  private async recordCashBaselines(
    outcome: Awaited<ReturnType<Reconciler['settledCompare']>>,
    reported: readonly ReconciliationMismatch[],
  ): Promise<void> {
    const { cash } = outcome;
    const first = outcome.disturbed.size === 0 ? cash.withoutBaseline : [];
    const after = cash.mismatches
      .filter((entry) => reported.includes(entry.mismatch))
      .map((entry) => entry.account);
    const at = new Date(this.now());
    for (const [rows, reason] of [
      [cash.current.filter((row) => first.includes(row.account)), 'first'],
      [cash.current.filter((row) => after.includes(row.account)), 'after_mismatch'],
      [outcome.disturbed.size === 0 ? cash.rebased : [], 'after_reconstruction'],
    ] as const) {
      if (rows.length > 0) await this.deps.store.account.recordCashBaselines(rows, reason, at);
    }
  }

  /**
   * Compares until the answer is settled: clean, or mismatches seen twice (a fill in flight looks like
   * drift for a moment) on instruments nothing happened to during the comparison. A mismatch on an
   * instrument that kept trading through every attempt is left to the next run.
   */
  private async settledCompare() {
    const attempts = Math.max(2, this.deps.settleAttempts ?? 5);
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.compare();
      if (outcome.mismatches.length === 0) return outcome;
      if (attempt >= 2 && outcome.unsettled.length === 0) return outcome;
      if (attempt >= attempts) {
        this.deps.log.warn(
          { unsettled: outcome.unsettled, instruments: [...outcome.disturbed] },
          'instruments kept trading through every comparison: their check is left to the next run',
        );
        return { ...outcome, mismatches: outcome.mismatches.filter((m) => !outcome.unsettled.includes(m)) };
      }
      await new Promise((resolve) => setTimeout(resolve, this.deps.confirmDelayMs ?? 1_000));
    }
  }

  /**
   * One reconciliation run. A run that cannot compare (a broker read fails) is stored and counted as not
   * clean, halts trading if no run has been clean for `maxCleanAgeMs`, and throws.
   */
  async run(trigger: ReconciliationTrigger): Promise<ReconciliationResult> {
    const { store, bus, metrics, log } = this.deps;
    const startedAt = nowIso(this.now);
    let outcome: Awaited<ReturnType<Reconciler['settledCompare']>>;
    try {
      outcome = await this.settledCompare();
    } catch (error) {
      await this.failed(trigger, startedAt, error);
      throw error;
    }
    this.deps.crashPoints?.hit('during_reconciliation');
    // Fills rebuilt from what IB still reports (past its execution cut-off) are reported once for the
    // operator, but do not halt on their own: their quantity is the broker's own filled quantity, and the
    // position check of this same run confirms it (a rebuild that does not explain the position leaves a
    // position mismatch, which halts). Their price is an estimate, named in the notice.
    const notices: ReconciliationMismatch[] = outcome.reconstructed.map((fill) => ({
      kind: 'execution_reconstructed' as const,
      instrument: fill.instrument,
      local: `${fill.side} ${fill.quantity} @ ${fill.price} (${fill.reconstructedFrom})`,
      broker: `perm ${fill.permId}: filled, execution no longer listed`,
      detail: `fill of order ${fill.brokerOrderId} (intent ${fill.intentId ?? '-'}) is past IB's execution cut-off; rebuilt from its completed order as ${fill.execId}: ${fill.side} ${fill.quantity} ${fill.instrument} @ ${fill.price} (price from ${fill.reconstructedFrom.replace('completed_order/', '')})`,
    }));
    const result: ReconciliationResult = {
      v: 1,
      runId: randomId(),
      trigger,
      ok: outcome.mismatches.length === 0,
      mismatches: [...outcome.mismatches, ...notices],
      positionsChecked: outcome.positionsChecked,
      openOrdersChecked: outcome.openOrdersChecked,
      executionsChecked: outcome.executionsChecked,
      startedAt,
      finishedAt: nowIso(this.now),
    };
    await store.reconciliation.recordReconciliation(result, undefined, outcome.cash.current);
    metrics.reconciliationRuns.inc({ trigger, result: result.ok ? 'ok' : 'mismatch' });
    metrics.reconciliationMismatches.reset();
    for (const mismatch of result.mismatches) metrics.reconciliationMismatches.inc({ kind: mismatch.kind });
    metrics.reconciliationLastRun.set(Date.parse(result.finishedAt) / 1000);
    await bus
      .publish(topics.reconciliationResult, result)
      .catch((error: unknown) => log.error({ err: error }, 'could not publish the reconciliation result'));
    if (notices.length > 0)
      await bus
        .publish(topics.systemEvent, {
          v: 1,
          eventId: deterministicId('execution_reconstructed', ...notices.map((notice) => notice.local ?? '')),
          service: 'execution',
          severity: 'warning',
          code: 'execution_reconstructed',
          message: notices.map((notice) => notice.detail).join('; '),
          detail: { runId: result.runId, count: notices.length },
          ts: result.finishedAt,
        })
        .catch((error: unknown) => log.error({ err: error }, 'could not announce rebuilt fills'));
    if (!result.ok) {
      const reason = `reconciliation mismatch (${outcome.mismatches.length}): ${outcome.mismatches
        .slice(0, 3)
        .map((mismatch) => mismatch.detail)
        .join('; ')}`;
      log.error(
        { trigger, runId: result.runId, mismatches: result.mismatches },
        'reconciliation found mismatches: halting trading',
      );
      await this.halt(reason, { runId: result.runId }, { cancelOrders: this.deps.haltCancelsOrders ?? true });
    }
    // Flagged as reported only once the halt is written: a halt that could not be written throws above,
    // leaving them unflagged, so the next run finds and reports them again instead of trading on.
    const overfillReported = result.mismatches.some((mismatch) => mismatch.kind === 'order_overfilled');
    await store.reconciliation.flagUnexplained(
      [
        ...outcome.unexplained.orders.map((order) => order.id),
        ...(overfillReported ? outcome.overfilledIds : []),
      ],
      [
        ...outcome.unexplained.executions.map((execution) => execution.execId),
        ...outcome.reconstructed.map((fill) => fill.execId),
      ],
      new Date(result.finishedAt),
      outcome.unexplained.amendments.map((change) => change.id),
    );
    await this.recordCashBaselines(outcome, result.mismatches);
    if (result.ok) {
      this.lastCleanAt = this.now();
      metrics.reconciliationLastClean.set(this.lastCleanAt / 1000);
      log.info({ trigger, runId: result.runId }, 'reconciliation clean');
    }
    return result;
  }

  /** A run that could not compare: stored with why, counted, and the clean-age limit applied. */
  private async failed(trigger: ReconciliationTrigger, startedAt: string, error: unknown): Promise<void> {
    const { store, bus, metrics, log } = this.deps;
    const message = error instanceof Error ? error.message : String(error);
    metrics.reconciliationRuns.inc({ trigger, result: 'failed' });
    log.error({ err: error, trigger }, 'reconciliation could not compare');
    const result: ReconciliationResult = {
      v: 1,
      runId: randomId(),
      trigger,
      ok: false,
      mismatches: [{ kind: 'reconciliation_failed', detail: `could not compare: ${message}` }],
      positionsChecked: 0,
      openOrdersChecked: 0,
      executionsChecked: 0,
      startedAt,
      finishedAt: nowIso(this.now),
    };
    try {
      await store.reconciliation.recordReconciliation(result, message);
      await bus.publish(topics.reconciliationResult, result);
    } catch (failure) {
      log.error({ err: failure }, 'could not record the failed reconciliation');
    }
    // A run at a session's start that fails holds trading back anyway (the caller retries the session);
    // while trading, failures count against the age of the last clean run.
    if (!['start', 'reconnect', 'lease_acquired'].includes(trigger))
      await this.haltIfStale(`last failure: ${message}`);
  }

  /**
   * Halts trading when no run has been clean for `maxCleanAgeMs` (a reconciliation that cannot run must
   * not pass for clean). Returns whether it halted.
   */
  async haltIfStale(why = ''): Promise<boolean> {
    const limit = this.deps.maxCleanAgeMs ?? 900_000;
    const age = this.now() - this.lastCleanAt;
    if (age <= limit) return false;
    if ((await this.deps.tradingState.get()).state === 'HALTED') return false;
    const reason = `no clean reconciliation for ${Math.round(age / 1000)} s (limit ${Math.round(limit / 1000)} s)${why ? `; ${why}` : ''}`;
    this.deps.log.error(
      { ageMs: age, limitMs: limit },
      'no clean reconciliation for too long: halting trading',
    );
    await this.halt(reason, { lastCleanAt: new Date(this.lastCleanAt).toISOString() });
    return true;
  }

  /**
   * The one halt path of execution (reconciliation, a stale reconciliation, the error circuit, an account
   * that does not match the mode): the halt is written to NATS and Postgres first, retried until both have
   * it (throws if it cannot land, so the caller does not act as if halted); then working orders are
   * cancelled when asked, and the halt is audited and announced.
   */
  async halt(
    reason: string,
    detail: Record<string, unknown>,
    options: { cancelOrders?: boolean } = {},
  ): Promise<void> {
    const { tradingState, store, bus, log } = this.deps;
    this.deps.crashPoints?.hit('before_halt_written');
    const state = await tradingState.halt(reason, 'execution', {
      onRetry: (error, attempt) => log.error({ err: error, attempt }, 'could not write the halt; retrying'),
    });
    this.deps.crashPoints?.hit('after_halt_written');
    const cancelledOrders = options.cancelOrders
      ? await cancelWorkingOrders({ store, broker: this.deps.broker, log })
      : undefined;
    const entry = {
      v: 1 as const,
      auditId: deterministicId('halt', state.at, reason),
      actor: 'execution',
      action: 'halt',
      detail: { reason, ...detail, ...(cancelledOrders ? { cancelledOrders } : {}) },
      at: state.at,
    };
    await store.audit.record(entry);
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
