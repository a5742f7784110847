import { type AccountSnapshot, type AuditEntry, type Bar, type Timeframe } from '@ibstack/contracts';

import type { IntentRow } from '../domain/intents';
import type {
  BarCommit,
  PendingIntentRow,
  SleeveFillRow,
  StoredIntent,
  StoredProgress,
  StrategyStore,
} from '../ports';

interface KeptIntent extends IntentRow {
  publishedAtMs: number | null;
  expired: boolean;
}

/**
 * The strategy store in memory, for a run that needs no Postgres (the backtest): bars it is given for
 * warm-up, and every intent, audit entry and progress row the pipeline commits, in order. Nothing executes
 * here, so there are no stored fills or orders to rebuild the book from.
 */
export class MemoryStrategyStore implements StrategyStore {
  private readonly bars = new Map<string, Bar[]>();
  /** Progress rows in the order first committed, and the same rows by sleeve, instrument and timeframe. */
  private readonly progress: StoredProgress[] = [];
  private readonly progressIndex = new Map<string, Map<string, Map<string, StoredProgress>>>();
  private readonly intentList: KeptIntent[] = [];
  private readonly intentsById = new Map<string, KeptIntent>();
  readonly audits: AuditEntry[] = [];
  private snapshot: AccountSnapshot | null = null;

  /** Bars for warm-up (`loadBars`), per instrument and timeframe, oldest first. */
  addBars(bars: readonly Bar[]): void {
    for (const bar of bars) {
      const key = `${bar.instrument}|${bar.timeframe}`;
      const list = this.bars.get(key) ?? [];
      list.push(bar);
      this.bars.set(key, list);
    }
    for (const list of this.bars.values()) list.sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
  }

  /** Every intent committed, accepted and blocked, in commit order. */
  intents(): readonly IntentRow[] {
    return this.intentList;
  }

  setAccountSnapshot(snapshot: AccountSnapshot): void {
    this.snapshot = snapshot;
  }

  ping(): Promise<boolean> {
    return Promise.resolve(true);
  }

  loadProgress(sleeves: readonly string[]): Promise<StoredProgress[]> {
    return Promise.resolve(this.progress.filter((row) => sleeves.includes(row.sleeve)));
  }

  loadBars(instrument: string, timeframe: Timeframe, untilMs: number | null, limit: number): Promise<Bar[]> {
    const list = this.bars.get(`${instrument}|${timeframe}`) ?? [];
    const upTo = untilMs === null ? list : list.filter((bar) => Date.parse(bar.ts) <= untilMs);
    return Promise.resolve(upTo.slice(Math.max(0, upTo.length - limit)));
  }

  commitBar(commit: BarCommit): Promise<void> {
    for (const row of commit.intents) {
      if (this.intentsById.has(row.intent.intentId)) continue;
      const kept: KeptIntent = {
        intent: row.intent,
        status: row.status,
        riskReason: row.riskReason,
        publishedAtMs: null,
        expired: false,
      };
      this.intentList.push(kept);
      this.intentsById.set(row.intent.intentId, kept);
    }
    for (const audit of commit.audits) this.audits.push(audit);
    for (const row of commit.progress) {
      const lastBarMs = row.barMs;
      let instruments = this.progressIndex.get(row.sleeve);
      if (!instruments)
        this.progressIndex.set(row.sleeve, (instruments = new Map<string, Map<string, StoredProgress>>()));
      let timeframes = instruments.get(row.instrument);
      if (!timeframes) instruments.set(row.instrument, (timeframes = new Map<string, StoredProgress>()));
      const current = timeframes.get(row.timeframe);
      if (!current) {
        const stored: StoredProgress = {
          sleeve: row.sleeve,
          instrument: row.instrument,
          timeframe: row.timeframe,
          lastBarMs,
        };
        timeframes.set(row.timeframe, stored);
        this.progress.push(stored);
      } else if (current.lastBarMs < lastBarMs) current.lastBarMs = lastBarMs;
    }
    return Promise.resolve();
  }

  markPublished(intentIds: readonly string[], atMs: number): Promise<void> {
    for (const id of intentIds) {
      const kept = this.intentsById.get(id);
      if (kept && kept.publishedAtMs === null) kept.publishedAtMs = atMs;
    }
    return Promise.resolve();
  }

  unpublishedIntents(sleeves: readonly string[]): Promise<StoredIntent[]> {
    return Promise.resolve(
      this.intentList
        .filter(
          (kept) =>
            kept.status === 'accepted' &&
            !kept.expired &&
            kept.publishedAtMs === null &&
            sleeves.includes(kept.intent.sleeve),
        )
        .map((kept) => ({ intent: kept.intent, createdAtMs: Date.parse(kept.intent.createdAt) })),
    );
  }

  expireIntents(intentIds: readonly string[], audits: readonly AuditEntry[]): Promise<void> {
    for (const id of intentIds) {
      const kept = this.intentsById.get(id);
      if (kept && kept.status === 'accepted' && kept.publishedAtMs === null) kept.expired = true;
    }
    this.audits.push(...audits);
    return Promise.resolve();
  }

  loadSleeveFills(): Promise<SleeveFillRow[]> {
    return Promise.resolve([]);
  }

  loadRecentAcceptedIntents(): Promise<PendingIntentRow[]> {
    return Promise.resolve([]);
  }

  intentSleeve(intentId: string): Promise<string | null> {
    return Promise.resolve(this.intentsById.get(intentId)?.intent.sleeve ?? null);
  }

  latestAccountSnapshot(): Promise<AccountSnapshot | null> {
    return Promise.resolve(this.snapshot);
  }

  insertAudit(entry: AuditEntry): Promise<void> {
    this.audits.push(entry);
    return Promise.resolve();
  }
}
