/**
 * Records the broker's account values: subscribes to `reqAccountUpdates`, and every interval stores an
 * `account_snapshots` row (execution is its one writer), publishes `AccountSnapshot` for the strategy's
 * loss rules, and exports NAV, daily P&L and return, drawdown and high-water mark.
 */
import type { Bus } from '@ibstack/bus';
import { type AccountSnapshot, toDecimalString, topics } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';
import Decimal from 'decimal.js';

import type { IbBroker } from './adapters/ib-broker';
import type { ExecutionStore } from './adapters/pg-store';
import { accountFigures, tradingDayStart } from './domain/account';
import type { ExecutionMetrics } from './metrics';

const NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

export class AccountRecorder {
  private readonly values = new Map<string, { value: string; currency: string }>();
  private account: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private latest: AccountSnapshot | null = null;
  private recording: Promise<void> | null = null;

  constructor(
    private readonly deps: {
      broker: IbBroker;
      store: ExecutionStore;
      bus: Bus;
      metrics: ExecutionMetrics;
      log: Logger;
      intervalMs: number;
      now?: () => number;
    },
  ) {
    deps.broker.on('accountValue', ({ key, value, currency, account }) => {
      if (this.account && account && account !== this.account) return;
      // Keep the base-currency figure: IB repeats some keys per currency and once as BASE.
      const existing = this.values.get(key);
      if (existing && existing.currency !== 'BASE' && currency === 'BASE') return;
      this.values.set(key, { value, currency });
    });
  }

  latestSnapshot(): AccountSnapshot | null {
    return this.latest;
  }

  /** Subscribes for `account` on the current session and starts the periodic snapshot. */
  start(account: string): void {
    this.account = account;
    this.deps.broker.subscribeAccountUpdates(account);
    if (!this.timer) {
      this.timer = setInterval(() => {
        // A failed snapshot (a database blip) is logged and the next interval tries again.
        this.recordNow().catch((error: unknown) =>
          this.deps.log.warn({ err: error }, 'could not record the account snapshot'),
        );
      }, this.deps.intervalMs);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.recording;
  }

  private figure(key: string): string | null {
    const entry = this.values.get(key);
    return entry && NUMBER.test(entry.value) ? toDecimalString(entry.value) : null;
  }

  async recordNow(): Promise<AccountSnapshot | null> {
    if (this.recording) return this.latest;
    const run = this.record();
    this.recording = run.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await run;
    } finally {
      this.recording = null;
    }
  }

  private async record(): Promise<AccountSnapshot | null> {
    const { store, bus, metrics, log } = this.deps;
    const account = this.account;
    const netLiquidation = this.figure('NetLiquidation');
    if (!account || netLiquidation === null) return null;
    const now = new Date((this.deps.now ?? Date.now)());
    const currency = this.values.get('NetLiquidation')?.currency;
    const baseCurrency = currency && currency !== 'BASE' ? currency : 'USD';
    const history = await store.accountHistory(account, new Date(tradingDayStart(now.getTime())));
    const figures = accountFigures({
      netLiquidation,
      dayOpeningNetLiquidation: history.dayOpening,
      previousHighWaterMark: history.highWaterMark,
    });
    const snapshot: AccountSnapshot = {
      v: 1,
      account,
      currency: baseCurrency,
      netLiquidation: figures.netLiquidation,
      cash: this.figure('TotalCashValue') ?? this.figure('TotalCashBalance') ?? '0',
      realizedPnl: this.figure('RealizedPnL') ?? '0',
      unrealizedPnl: this.figure('UnrealizedPnL') ?? '0',
      dailyPnl: figures.dailyPnl,
      dailyReturnPct: figures.dailyReturnPct,
      highWaterMark: figures.highWaterMark,
      drawdownPct: figures.drawdownPct,
      ts: now.toISOString(),
    };
    await store.recordAccountSnapshot({
      ...snapshot,
      ts: now,
      raw: Object.fromEntries(
        [...this.values].map(([key, entry]) => [key, `${entry.value} ${entry.currency}`]),
      ),
    });
    this.latest = snapshot;
    metrics.nav.set(Number(snapshot.netLiquidation));
    metrics.dailyPnl.set(Number(snapshot.dailyPnl));
    metrics.dailyReturn.set(Number(snapshot.dailyReturnPct));
    metrics.drawdown.set(Number(snapshot.drawdownPct));
    metrics.highWaterMark.set(Number(new Decimal(snapshot.highWaterMark)));
    await bus
      .publish(topics.accountSnapshot, snapshot)
      .catch((error: unknown) => log.warn({ err: error }, 'could not publish the account snapshot'));
    return snapshot;
  }
}
