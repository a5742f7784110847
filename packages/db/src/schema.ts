import type {
  OrderSide,
  OrderStatus,
  OrderType,
  SecurityType,
  TimeInForce,
  Timeframe,
} from '@ibstack/contracts';
import type { ColumnType, Generated, Selectable } from 'kysely';

/** `numeric` columns travel as strings: exact decimals, never floats. */
export type Numeric = ColumnType<string, string | number, string | number>;
export type Timestamptz = ColumnType<Date, Date | string, Date | string>;
export type TimestamptzDefault = ColumnType<Date, Date | string | undefined, Date | string>;
/** `bigint` columns are parsed to numbers (ids and IB perm ids stay far below 2^53). */
export type BigIntColumn = ColumnType<number, number | string, number | string>;
export type Json = ColumnType<unknown, string, string>;

export interface InstrumentsTable {
  instrument: string;
  symbol: string;
  sec_type: SecurityType;
  exchange: string;
  currency: string;
  local_symbol: string | null;
  con_id: BigIntColumn | null;
  min_tick: Numeric | null;
  time_zone: string | null;
  trading_hours: string | null;
  liquid_hours: string | null;
  updated_at: TimestamptzDefault;
}

export interface BarsTable {
  instrument: string;
  timeframe: string;
  ts: Timestamptz;
  open: Numeric;
  high: Numeric;
  low: Numeric;
  close: Numeric;
  volume: Numeric;
  source: string;
  updated_at: TimestamptzDefault;
}

export interface TicksTable {
  instrument: string;
  ts: Timestamptz;
  seq: BigIntColumn;
  bid: Numeric | null;
  ask: Numeric | null;
  last: Numeric | null;
  bid_size: Numeric | null;
  ask_size: Numeric | null;
  last_size: Numeric | null;
}

export interface OrderIntentsTable {
  intent_id: string;
  sleeve: string;
  instrument: string;
  side: OrderSide;
  quantity: Numeric;
  order_type: OrderType;
  limit_price: Numeric | null;
  stop_price: Numeric | null;
  time_in_force: TimeInForce;
  bar_ts: Timestamptz;
  timeframe: Timeframe;
  sequence: number;
  reference_price: Numeric;
  status: string;
  risk_reason: string | null;
  reason: string | null;
  created_at: Timestamptz;
}

export interface OrdersTable {
  id: Generated<number>;
  intent_id: string | null;
  /** Null for an order blocked before it was sent. */
  broker_order_id: number | null;
  perm_id: BigIntColumn | null;
  client_id: number;
  account: string | null;
  sleeve: string | null;
  instrument: string;
  side: OrderSide;
  quantity: Numeric;
  order_type: string;
  limit_price: Numeric | null;
  stop_price: Numeric | null;
  time_in_force: string;
  status: OrderStatus;
  broker_status: string | null;
  filled_quantity: ColumnType<string, string | number | undefined, string | number>;
  remaining_quantity: Numeric;
  average_fill_price: Numeric | null;
  error_code: number | null;
  error_text: string | null;
  adopted: ColumnType<boolean, boolean | undefined, boolean>;
  leader_epoch: BigIntColumn | null;
  /** When reconciliation reported this order (unexplained, a duplicate, overfilled); null before. */
  flagged_at: Timestamptz | null;
  /** A broker order carrying the intent id of this other order (a duplicate); null for the rest. */
  duplicate_of: BigIntColumn | null;
  created_at: TimestamptzDefault;
  sent_at: Timestamptz | null;
  updated_at: TimestamptzDefault;
}

export interface OrderEventsTable {
  event_id: string;
  order_id: BigIntColumn;
  status: OrderStatus;
  broker_status: string | null;
  filled_quantity: Numeric;
  remaining_quantity: Numeric;
  average_fill_price: Numeric | null;
  error_code: number | null;
  reason: string | null;
  at: Timestamptz;
  published: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface ExecutionsTable {
  exec_id: string;
  order_id: BigIntColumn | null;
  broker_order_id: number;
  perm_id: BigIntColumn;
  intent_id: string | null;
  account: string;
  instrument: string;
  side: OrderSide;
  quantity: Numeric;
  price: Numeric;
  cumulative_quantity: Numeric | null;
  average_price: Numeric | null;
  executed_at: Timestamptz;
  commission: Numeric | null;
  commission_currency: string | null;
  realized_pnl: Numeric | null;
  superseded_by: string | null;
  received_at: TimestamptzDefault;
  published: ColumnType<boolean, boolean | undefined, boolean>;
  /** When reconciliation reported this execution as unexplained (no intent behind it); null before. */
  flagged_at: Timestamptz | null;
  /** Whether the published fill carried its commission (a later one is published as a correction). */
  commission_published: ColumnType<boolean, boolean | undefined, boolean>;
  /** How a fill IB no longer lists was rebuilt: `completed_order/<price source>` (price source `order_average_fill_price`, `position_average_cost` or `limit_price`); null for a reported one. */
  reconstructed_from: string | null;
}

/** A change of an order's terms: requested by an operator, or seen at the broker. */
export interface OrderAmendmentsTable {
  id: Generated<number>;
  order_id: BigIntColumn;
  origin: 'operator' | 'broker';
  requested_by: string | null;
  quantity: Numeric;
  limit_price: Numeric | null;
  stop_price: Numeric | null;
  previous_quantity: Numeric;
  previous_limit_price: Numeric | null;
  previous_stop_price: Numeric | null;
  at: TimestamptzDefault;
  /** When the broker confirmed an operator's request. */
  confirmed_at: Timestamptz | null;
  /** When reconciliation reported a change nobody requested. */
  flagged_at: Timestamptz | null;
}

export interface CommissionReportsTable {
  exec_id: string;
  commission: Numeric;
  currency: string;
  realized_pnl: Numeric | null;
  received_at: TimestamptzDefault;
}

export interface PositionsTable {
  account: string;
  instrument: string;
  quantity: Numeric;
  average_cost: Numeric;
  realized_pnl: ColumnType<string, string | number | undefined, string | number>;
  cost_basis: ColumnType<string, string | number | undefined, string | number>;
  updated_at: TimestamptzDefault;
}

export interface AccountSnapshotsTable {
  id: Generated<number>;
  account: string;
  currency: string;
  ts: Timestamptz;
  net_liquidation: Numeric;
  cash: Numeric;
  realized_pnl: Numeric;
  unrealized_pnl: Numeric;
  daily_pnl: Numeric;
  daily_return_pct: Numeric;
  high_water_mark: Numeric;
  drawdown_pct: Numeric;
  raw: Json | null;
}

export interface ReconciliationRunsTable {
  run_id: string;
  trigger: string;
  ok: boolean;
  mismatches: Json;
  positions_checked: number;
  open_orders_checked: number;
  executions_checked: number;
  started_at: Timestamptz;
  finished_at: Timestamptz;
  /** Why a run could not compare (a broker read timed out); null for a run that compared. */
  error: string | null;
  /** Broker cash and our trade flows per account and currency at the compared point. */
  cash: ColumnType<unknown, string | null | undefined, string | null>;
}

export interface AuditLogTable {
  id: Generated<number>;
  audit_id: string;
  at: Timestamptz;
  actor: string;
  action: string;
  detail: Json;
}

export interface UsersTable {
  id: Generated<number>;
  username: string;
  password_hash: string;
  role: ColumnType<string, string | undefined, string>;
  created_at: TimestamptzDefault;
}

export interface LeaderFenceTable {
  name: string;
  epoch: BigIntColumn;
  holder: string;
  updated_at: TimestamptzDefault;
}

/** The durable copy of KV `trading` key `state` (one row, `name` = 'trading'). */
export interface TradingStateTable {
  name: string;
  state: string;
  reason: string;
  by: string;
  at: Date;
  updated_at: TimestamptzDefault;
}

/**
 * Cash reconciliation's baseline per account and currency: the broker's cash and the cash effect of all our
 * executions at one reconciliation (`reason`: `first`, `after_mismatch` or `after_reconstruction`).
 */
export interface CashBaselinesTable {
  account: string;
  currency: string;
  broker_cash: Numeric;
  executions_effect: Numeric;
  reason: string;
  recorded_at: TimestamptzDefault;
}

/** The whole database as kysely sees it. Table shapes are defined here once and imported everywhere. */
export interface Database {
  instruments: InstrumentsTable;
  bars: BarsTable;
  ticks: TicksTable;
  order_intents: OrderIntentsTable;
  orders: OrdersTable;
  order_events: OrderEventsTable;
  executions: ExecutionsTable;
  positions: PositionsTable;
  account_snapshots: AccountSnapshotsTable;
  reconciliation_runs: ReconciliationRunsTable;
  audit_log: AuditLogTable;
  users: UsersTable;
  leader_fence: LeaderFenceTable;
  commission_reports: CommissionReportsTable;
  order_amendments: OrderAmendmentsTable;
  trading_state: TradingStateTable;
  cash_baselines: CashBaselinesTable;
}

export type OrderRow = Selectable<OrdersTable>;
export type AccountSnapshotRow = Selectable<AccountSnapshotsTable>;

// Added by migration 0002_strategy. Declared as interface merges so the tables above stay as they were.

/** The last bar a sleeve processed per instrument and timeframe (written with that bar's intents). */
export interface StrategyProgressTable {
  sleeve: string;
  instrument: string;
  timeframe: string;
  last_bar_ts: Timestamptz;
  updated_at: TimestamptzDefault;
}

export interface OrderIntentsTable {
  /** Set when the intent is on JetStream; null for blocked intents and for accepted ones not yet published. */
  published_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface Database {
  strategy_progress: StrategyProgressTable;
}

// Added by migration 0004_ingestor.

/** A window for which historical bars were fetched; a minute inside it without a bar has no data. */
export interface BarCoverageTable {
  instrument: string;
  timeframe: string;
  start_ts: Timestamptz;
  end_ts: Timestamptz;
  fetched_at: TimestamptzDefault;
}

export interface Database {
  bar_coverage: BarCoverageTable;
}

// Added by migration 0006_history_requests.

/** A historical-data request the ingestor sent, kept for IB's pacing windows across a restart. */
export interface HistoryRequestsTable {
  /** Our wall clock when it was sent (IB's pacing counts real time). */
  sent_at: Timestamptz;
  /** What makes two requests identical (contract, end, duration, bar size, what to show…). */
  signature: string;
  /** The instrument key the same-contract rule groups by. */
  contract_key: string;
  /** IB counts a BID_ASK request twice. */
  weight: ColumnType<number, number | undefined, number>;
}

export interface Database {
  history_requests: HistoryRequestsTable;
}

// Added by migration 0009_dashboard_users.

export interface UsersTable {
  /** Consecutive failed logins; reset by a successful one. */
  failed_logins: ColumnType<number, number | undefined, number>;
  last_login_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Tokens issued before this instant are refused. */
  password_changed_at: TimestamptzDefault;
}

// Added by migration 0010_notifier.

/** A Telegram notification on its way: sent once Telegram took it, failed once given up (never silently). */
export interface NotifierOutboxTable {
  id: Generated<number>;
  chat_id: BigIntColumn;
  /** What it tells (`fill`, `rejection`, `trading_state`, …): fills waiting together go as one message. */
  kind: string;
  /** Equal for the same event told twice (a redelivery), so the chat gets it once. */
  dedupe_key: string;
  /** Sent without a sound (the chat's level for this kind is `silent`). */
  silent: ColumnType<boolean, boolean | undefined, boolean>;
  payload: Json;
  created_at: TimestamptzDefault;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: TimestamptzDefault;
  sent_at: Timestamptz | null;
  failed_at: Timestamptz | null;
  last_error: string | null;
  telegram_message_id: BigIntColumn | null;
}

/** A chat's own level for one kind of notification, set with /notify; absent means the configured default. */
export interface NotifierChatSettingsTable {
  chat_id: BigIntColumn;
  notification: string;
  level: string;
  updated_by: string;
  updated_at: TimestamptzDefault;
}

export interface Database {
  notifier_outbox: NotifierOutboxTable;
  notifier_chat_settings: NotifierChatSettingsTable;
}
