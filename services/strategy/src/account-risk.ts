import {
  type AccountSnapshot,
  type AuditEntry,
  deterministicId,
  nowIso,
  parseIsoMs,
  type SystemEvent,
  type TradingState,
} from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';
import { drawdownLevel, type RiskLimits } from '@ibstack/risk';

import type { StrategyEvents, StrategyStore } from './ports';
import { DrawdownWatch } from './domain/drawdown-watch';
import type { StrategyMetrics } from './metrics';

/**
 * Keeps the latest account snapshot (the daily-loss and drawdown rules of pre-trade risk read it), and acts
 * when the account's drawdown crosses a threshold: a warning at the first, REDUCING at the second.
 */
export class AccountRiskMonitor {
  private account: AccountSnapshot | null = null;
  /** The latest snapshot's time, epoch ms (parsed once). */
  private accountMs = Number.NEGATIVE_INFINITY;
  private readonly watch = new DrawdownWatch();

  constructor(
    private readonly deps: {
      events: StrategyEvents;
      store: StrategyStore;
      log: Logger;
      metrics: StrategyMetrics;
      clock: () => number;
      /** The sleeves file's own limits; their drawdown thresholds are the account's. */
      limits: RiskLimits;
      /** The `service` of system events. */
      service: string;
    },
  ) {}

  /** The latest snapshot, or null before execution has recorded one. */
  latest(): AccountSnapshot | null {
    return this.account;
  }

  /** Takes a snapshot; an older one than the latest is ignored. */
  async onSnapshot(snapshot: AccountSnapshot): Promise<void> {
    const snapshotMs = parseIsoMs(snapshot.ts);
    if (this.account && snapshotMs <= this.accountMs) return;
    // The account-level strategy_* gauges are execution's (it records the snapshots); exporting them here
    // too would give Prometheus two series for one figure.
    this.account = snapshot;
    this.accountMs = snapshotMs;
    this.deps.metrics.accountSnapshotTime.set(snapshotMs / 1000);
    await this.assessDrawdown(snapshot, snapshotMs);
  }

  private async assessDrawdown(snapshot: AccountSnapshot, snapshotMs: number): Promise<void> {
    const { limits, log } = this.deps;
    const { warn, reduce } = this.watch.observe(drawdownLevel(snapshot, limits), snapshotMs);
    if (warn) {
      log.warn({ drawdownPct: snapshot.drawdownPct, threshold: limits.drawdownWarnPct }, 'drawdown warning');
      await this.systemEvent(
        'warning',
        'drawdown_warning',
        `drawdown ${snapshot.drawdownPct}% passed ${limits.drawdownWarnPct}%`,
        {
          drawdownPct: snapshot.drawdownPct,
          account: snapshot.account,
        },
        snapshot.ts,
      );
    }
    if (!reduce) return;
    try {
      await this.switchToReducing(snapshot);
    } catch (error) {
      this.watch.reduceFailed();
      log.error({ err: error }, 'could not set the trading state to REDUCING');
    }
  }

  /** Compare-and-set of the trading state from RUNNING to REDUCING; a state other than RUNNING is left. */
  private async switchToReducing(snapshot: AccountSnapshot): Promise<void> {
    const { events, store, log, clock, limits } = this.deps;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const current = await events.tradingState();
      if (current && current.value.state !== 'RUNNING') {
        log.warn(
          { state: current.value.state },
          `drawdown past the reducing threshold; trading already ${current.value.state}`,
        );
        return;
      }
      const state: TradingState = {
        v: 1,
        state: 'REDUCING',
        reason: `drawdown ${snapshot.drawdownPct}% reached ${limits.drawdownReducePct}%`,
        by: 'strategy:risk',
        at: nowIso(clock),
      };
      if (await events.setTradingState(state, current?.revision ?? null)) {
        log.fatal(
          { drawdownPct: snapshot.drawdownPct },
          'drawdown past the reducing threshold; trading set to REDUCING',
        );
        const audit: AuditEntry = {
          v: 1,
          auditId: deterministicId('trading_state', 'REDUCING', snapshot.account, snapshot.ts),
          actor: 'strategy:risk',
          action: 'trading_state_changed',
          detail: {
            from: current?.value.state ?? 'RUNNING',
            to: 'REDUCING',
            reason: state.reason,
            account: snapshot.account,
          },
          at: state.at,
        };
        await store.insertAudit(audit);
        await events
          .publishAudit(audit)
          .catch((error: unknown) => log.error({ err: error }, 'audit publish failed'));
        await this.systemEvent(
          'critical',
          'drawdown_reducing',
          state.reason,
          { drawdownPct: snapshot.drawdownPct },
          snapshot.ts,
        );
        return;
      }
    }
    throw new Error('the trading state kept changing under us');
  }

  private async systemEvent(
    severity: SystemEvent['severity'],
    code: string,
    message: string,
    detail: Record<string, unknown>,
    key: string,
  ): Promise<void> {
    await this.deps.events
      .publishSystemEvent({
        v: 1,
        eventId: deterministicId(code, key),
        service: this.deps.service,
        severity,
        code,
        message,
        detail,
        ts: nowIso(this.deps.clock),
      })
      .catch((error: unknown) => this.deps.log.error({ err: error, code }, 'system event publish failed'));
  }
}
