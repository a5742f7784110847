/**
 * What the strategy pipeline needs of the world, as interfaces: a store for progress, intents and what
 * rebuilds the book; an event sink for intents, audit entries, system events and the trading state; and a
 * clock. The service plugs in Postgres and NATS (adapters/); the backtest plugs in memory and a simulated
 * venue, so the same pipeline, strategies, sizing and risk run in both.
 */
import type {
  AccountSnapshot,
  AuditEntry,
  Bar,
  OrderIntent,
  SystemEvent,
  Timeframe,
  TradingState,
} from '@ibstack/contracts';

import type { IntentRow } from './domain/intents';

/** Epoch ms. */
export type Clock = () => number;

/** A sleeve's progress through an instrument's bars: the last bar it processed. */
export interface ProgressRow {
  sleeve: string;
  instrument: string;
  timeframe: Timeframe;
  barTs: string;
  /** `barTs` as epoch ms, parsed once by the pipeline that read the bar (a store need not parse it again). */
  barMs: number;
}

/** A bar's intents and the progress it makes, written in one transaction. */
export interface BarCommit {
  intents: readonly IntentRow[];
  progress: readonly ProgressRow[];
  audits: readonly AuditEntry[];
}

export interface StoredProgress {
  sleeve: string;
  instrument: string;
  timeframe: string;
  lastBarMs: number;
}

export interface StoredIntent {
  intent: OrderIntent;
  createdAtMs: number;
}

export interface PendingIntentRow {
  intentId: string;
  sleeve: string;
  instrument: string;
  side: 'BUY' | 'SELL';
  quantity: string;
  createdAtMs: number;
  orderStatus: string | null;
  orderFilled: string | null;
  executed: string;
}

export interface SleeveFillRow {
  execId: string;
  intentId: string;
  sleeve: string;
  instrument: string;
  side: 'BUY' | 'SELL';
  quantity: string;
  price: string;
  commission: string | null;
  commissionCurrency: string | null;
}

/** The trading state with the revision a compare-and-set needs. */
export interface VersionedTradingState {
  value: TradingState;
  revision: number;
}

/** Where the pipeline keeps what it decided, and what it reads back at start. */
export interface StrategyStore {
  /** Last processed bar per (sleeve, instrument, timeframe). */
  loadProgress(sleeves: readonly string[]): Promise<StoredProgress[]>;
  /** The last `limit` bars at or before `untilMs` (all if null), oldest first. */
  loadBars(instrument: string, timeframe: Timeframe, untilMs: number | null, limit: number): Promise<Bar[]>;
  /** A bar's intents (an intent already stored stays as it was), audits and progress, all or nothing. */
  commitBar(commit: BarCommit): Promise<void>;
  markPublished(intentIds: readonly string[], atMs: number): Promise<void>;
  /** Accepted intents never marked as published. */
  unpublishedIntents(sleeves: readonly string[]): Promise<StoredIntent[]>;
  /** Marks accepted-but-unpublished intents as too old to send, with their audit entries. */
  expireIntents(intentIds: readonly string[], audits: readonly AuditEntry[]): Promise<void>;
  /** Fills of the sleeves' intents, corrected rows left out. */
  loadSleeveFills(sleeves: readonly string[]): Promise<SleeveFillRow[]>;
  /** Accepted intents since `sinceMs` with their order's state and what has executed. */
  loadRecentAcceptedIntents(sleeves: readonly string[], sinceMs: number): Promise<PendingIntentRow[]>;
  intentSleeve(intentId: string): Promise<string | null>;
  latestAccountSnapshot(): Promise<AccountSnapshot | null>;
  insertAudit(entry: AuditEntry): Promise<void>;
}

/** Where the pipeline's intents and announcements go, and where the trading state lives. */
export interface StrategyEvents {
  /** Sends an intent towards execution; a repeat of the same intent id must be harmless. */
  publishIntent(intent: OrderIntent): Promise<void>;
  publishAudit(entry: AuditEntry): Promise<void>;
  publishSystemEvent(event: SystemEvent): Promise<void>;
  /** The KV copy with its revision, for compare-and-set; null when absent. */
  tradingState(): Promise<VersionedTradingState | null>;
  /** The state in force: KV and Postgres, failing closed (a missing copy or a disagreement is not RUNNING). */
  tradingStateInForce(): Promise<TradingState>;
  /** Compare-and-set: writes only if the state is still at `revision` (still absent when null). */
  setTradingState(state: TradingState, revision: number | null): Promise<boolean>;
}
