/**
 * Records the broker's account values: subscribes to `reqAccountUpdates`, and every interval stores an
 * `account_snapshots` row (execution is its one writer), publishes `AccountSnapshot` for the strategy's
 * loss rules, and exports NAV, daily P&L and return, drawdown and high-water mark.
 *
 * Invariants (the loss rules depend on them):
 * - A snapshot's `ts` is when the broker last sent account data on the current subscription, never the
 *   time it was written: with nothing new from the broker, no new row is written, so an old value is never
 *   re-stamped as fresh and its age keeps growing where the order router checks it.
 * - A new subscription (a new gateway session, the broker's link back) starts from nothing: no snapshot
 *   is recorded from it before the broker's full download (`accountDownloadEnd`) has arrived.
 */
import type { Bus } from '@ibstack/bus';
import { type AccountSnapshot, toDecimalString, topics } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';
import Decimal from 'decimal.js';

import type { Broker } from './ports';
import type { ExecutionStore } from './adapters/pg-store';
import { accountFigures, tradingDayStart } from './domain/account';
import type { ExecutionMetrics } from './metrics';

const NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

export class AccountRecorder {
  private readonly values = new Map<string, { value: string; currency: string }>();
  private account: string | null = null;
  private timer: NodeJS.Timeout | undefined;
  private latest: AccountSnapshot | null = null;
  /** When the broker last sent account data on the current subscription (epoch ms); null before any. */
  private valuesAt: number | null = null;
  /** `valuesAt` of the latest stored snapshot. */
  private recordedValuesAt: number | null = null;
  /** Whether the current subscription's full download has arrived. */
  private downloaded = false;
  /** When the current subscription was made (epoch ms). */
  private subscribedAt = 0;
  private downloadWaiters: Array<() => void> = [];
  /** Recordings run one after the other. */
  private queue: Promise<unknown> = Promise.resolve();
  private periodicPending = false;
  private reaskedAt = 0;
  private readonly now: () => number;

  constructor(
    private readonly deps: {
      broker: Broker;
      store: ExecutionStore;
      bus: Bus;
      metrics: ExecutionMetrics;
      log: Logger;
      intervalMs: number;
      /**
       * With no account data from the broker for this long, the subscription is asked again for the full
       * download (IB need not push when nothing changes; the loss rules must not go blind on a quiet
       * account). Half of ACCOUNT_MAX_AGE_MS in the service. @default none (never asked again)
       */
      reaskAfterMs?: number;
      now?: () => number;
    },
  ) {
    this.now = deps.now ?? Date.now;
    deps.broker.on('accountValue', ({ key, value, currency, account }) => {
      if (this.account && account && account !== this.account) return;
      this.valuesAt = this.now();
      // IB sends some keys (RealizedPnL, UnrealizedPnL, TotalCashBalance) once per currency, each in its
      // own currency, and once as BASE: the account's total in its base currency. That total is the figure;
      // a per-currency one never replaces it, whichever arrives last.
      const existing = this.values.get(key);
      if (existing?.currency === 'BASE' && currency !== 'BASE') return;
      this.values.set(key, { value, currency });
    });
    // IB ends each batch of changes with the account time: the values held are the broker's as of now.
    deps.broker.on('accountTime', () => {
      if (this.account) this.valuesAt = this.now();
    });
    deps.broker.on('accountDownloadEnd', ({ account }) => {
      if (!this.account || (account && account !== this.account)) return;
      this.valuesAt = this.now();
      this.downloaded = true;
      for (const wake of this.downloadWaiters.splice(0)) wake();
    });
  }

  latestSnapshot(): AccountSnapshot | null {
    return this.latest;
  }

  /**
   * Subscribes for `account` on the current session (again after the broker's link came back: IB may
   * have dropped the subscription) and starts the periodic snapshot. Values of an earlier subscription
   * are forgotten; the latest snapshot stays, ageing, until the new download is recorded.
   */
  start(account: string): void {
    this.account = account;
    this.values.clear();
    this.valuesAt = null;
    this.downloaded = false;
    this.subscribedAt = this.now();
    this.deps.broker.subscribeAccountUpdates(account);
    if (!this.timer) {
      this.timer = setInterval(() => {
        this.reaskIfQuiet();
        if (this.periodicPending) return;
        this.periodicPending = true;
        // A failed snapshot (a database blip) is logged and the next interval tries again.
        this.recordNow()
          .catch((error: unknown) =>
            this.deps.log.warn({ err: error }, 'could not record the account snapshot'),
          )
          .finally(() => (this.periodicPending = false));
      }, this.deps.intervalMs);
      this.timer.unref();
    }
  }

  /** Asks for the full download again when the broker has sent nothing for `reaskAfterMs` (once per that). */
  reaskIfQuiet(): void {
    const after = this.deps.reaskAfterMs;
    if (after === undefined || !this.account || !this.downloaded) return;
    const now = this.now();
    if (now - (this.valuesAt ?? 0) <= after || now - this.reaskedAt <= after) return;
    this.reaskedAt = now;
    try {
      this.deps.broker.subscribeAccountUpdates(this.account);
      this.deps.log.info({ quietMs: now - (this.valuesAt ?? 0) }, 'account values quiet: asked again');
    } catch (error) {
      this.deps.log.warn({ err: error }, 'could not ask for the account values again');
    }
  }

  /**
   * Waits (up to `timeoutMs`) for the broker's full download on the current subscription and records it:
   * the fresh account value orders are judged against. Null if it did not arrive in time.
   */
  async awaitFresh(timeoutMs: number): Promise<AccountSnapshot | null> {
    if (!this.downloaded) {
      const arrived = await new Promise<boolean>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          this.downloadWaiters = this.downloadWaiters.filter((waiter) => waiter !== wake);
          resolve(false);
        }, timeoutMs);
        this.downloadWaiters.push(wake);
      });
      if (!arrived) return null;
    }
    const snapshot = await this.recordNow();
    // Null unless recorded from this subscription (a download without NetLiquidation records nothing).
    return snapshot !== null && Date.parse(snapshot.ts) >= this.subscribedAt ? snapshot : null;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const wake of this.downloadWaiters.splice(0)) wake();
    await this.queue;
  }

  private figure(key: string): string | null {
    const entry = this.values.get(key);
    return entry && NUMBER.test(entry.value) ? toDecimalString(entry.value) : null;
  }

  /**
   * Records the values held now, stamped with when the broker sent them; with nothing new since the last
   * snapshot, writes nothing. Returns the latest snapshot (null before the first).
   */
  recordNow(): Promise<AccountSnapshot | null> {
    const run = this.queue.then(() => this.record());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async record(): Promise<AccountSnapshot | null> {
    const { store, bus, metrics, log } = this.deps;
    const account = this.account;
    const valuesAt = this.valuesAt;
    const netLiquidation = this.figure('NetLiquidation');
    if (!account || !this.downloaded || valuesAt === null || netLiquidation === null) return this.latest;
    // Nothing new from the broker: the latest snapshot stands, with its own time.
    if (valuesAt === this.recordedValuesAt) return this.latest;
    const now = new Date(valuesAt);
    const currency = this.values.get('NetLiquidation')?.currency;
    const baseCurrency = currency && currency !== 'BASE' ? currency : 'USD';
    const history = await store.account.accountHistory(account, new Date(tradingDayStart(now.getTime())));
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
    await store.account.recordAccountSnapshot({
      ...snapshot,
      ts: now,
      raw: Object.fromEntries(
        [...this.values].map(([key, entry]) => [key, `${entry.value} ${entry.currency}`]),
      ),
    });
    this.latest = snapshot;
    this.recordedValuesAt = valuesAt;
    metrics.accountValuesTime.set(valuesAt / 1000);
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
