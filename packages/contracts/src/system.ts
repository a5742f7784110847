import { z } from 'zod';

import { InstrumentKey } from './instrument';
import { IntentIdSchema } from './orders';
import { DecimalString, PositiveDecimalString, SubjectToken, Timestamp, V1 } from './primitives';

export const ServiceName = SubjectToken.max(64);

/** A service's view of its gateway connection. */
export const GatewayStatus = z
  .object({
    v: V1,
    service: ServiceName,
    state: z.enum(['connecting', 'connected', 'disconnected']),
    host: z.string(),
    port: z.number().int(),
    clientId: z.number().int(),
    serverVersion: z.number().int().optional(),
    /** IB code behind the change (1100, 1102, 2110, 502 …) when there is one. */
    code: z.number().int().optional(),
    message: z.string().optional(),
    ts: Timestamp,
  })
  .strict();
export type GatewayStatus = z.infer<typeof GatewayStatus>;

/**
 * The gateway's session as the gateway supervisor sees it (API codes, the readiness probe, IBGA's log).
 * `reauthentication_overdue`: not logged in on Sunday evening / before Monday's open, after IBKR's weekly
 * token reset. `unreachable`: no API socket at all (the process or its relay is down).
 */
export const GatewaySessionState = z.enum([
  'unknown',
  'unreachable',
  'logged_out',
  'two_factor_pending',
  'logged_in',
  'broker_disconnected',
  'restored_data_lost',
  'restored_data_kept',
  'competing_session',
  'client_id_in_use',
  'reauthentication_overdue',
]);
export type GatewaySessionState = z.infer<typeof GatewaySessionState>;

/**
 * Published by the gateway supervisor on `sys.gateway.health` whenever the state changes, and as a
 * heartbeat; the dashboard, the notifier and the alert rules read the same facts.
 */
export const GatewayHealth = z
  .object({
    v: V1,
    state: GatewaySessionState,
    /** When the gateway entered `state`. */
    since: Timestamp,
    previous: GatewaySessionState.optional(),
    /** Inside one of IBKR's configured reset windows for the account's server region. */
    inResetWindow: z.boolean(),
    /** Result of the last readiness probe (handshake with its own client id + reqCurrentTime). */
    ready: z.boolean(),
    lastProbeAt: Timestamp.optional(),
    probeLatencyMs: z.number().nonnegative().optional(),
    /** IB code behind the state when there is one (1100, 1101, 1102, 2110, 10197, 326 …). */
    code: z.number().int().optional(),
    detail: z.string().optional(),
    tradingMode: z.enum(['paper', 'live']),
    accounts: z.array(z.string()).optional(),
    lastLoginAt: Timestamp.optional(),
    /** A broker disconnect that outlasted the grace outside every reset window (alert-worthy). */
    escalated: z.boolean().optional(),
    /** The reset window the gateway is in, by IBKR's name for it (`daily reset`). */
    resetWindow: z.string().optional(),
    ts: Timestamp,
  })
  .strict();
export type GatewayHealth = z.infer<typeof GatewayHealth>;

export const TradingStateName = z.enum(['RUNNING', 'HALTED', 'REDUCING']);
export type TradingStateName = z.infer<typeof TradingStateName>;

/** The value of KV `trading` key `state`: read by strategy and execution before every order. */
export const TradingState = z
  .object({
    v: V1,
    state: TradingStateName,
    reason: z.string().min(1),
    /** Who set it: an operator name or a service (`execution:reconciliation`). */
    by: z.string().min(1),
    at: Timestamp,
  })
  .strict();
export type TradingState = z.infer<typeof TradingState>;

/**
 * Which writable Postgres a lease holder trades on: the cluster's system identifier (the same on a
 * primary and its replicas, from `pg_control_system()`) and the timeline its WAL is written on. Every
 * promotion starts a timeline one above its parent's, so a former primary whose replica was promoted
 * behind its back is left on a lower timeline than the database that traded after it.
 */
export const PostgresIdentity = z
  .object({
    systemId: z.string().regex(/^\d+$/),
    timeline: z.number().int().positive(),
  })
  .strict();
export type PostgresIdentity = z.infer<typeof PostgresIdentity>;

/**
 * The value of KV `leases` key `execution`. `epoch` is the fencing token (the holder's `leader_fence`
 * epoch; 0 while the key is won but the fence not yet taken). `postgres`: the holder's database, set
 * with the epoch (absent at epoch 0, and in values written before it existed).
 */
export const Lease = z
  .object({
    v: V1,
    holder: z.string().min(1),
    epoch: z.number().int().nonnegative(),
    acquiredAt: Timestamp,
    renewedAt: Timestamp,
    postgres: PostgresIdentity.optional(),
  })
  .strict();
export type Lease = z.infer<typeof Lease>;

/**
 * The value of KV `lease-mark` key `execution` (no TTL, so it outlives an expired lease): the last
 * epoch granted and the database it was granted on. An instance takes the lease only on a database
 * of the same cluster, on that timeline or a later one, and only with a larger epoch.
 */
export const LeaseMark = z
  .object({
    v: V1,
    holder: z.string().min(1),
    epoch: z.number().int().positive(),
    postgres: PostgresIdentity,
    at: Timestamp,
  })
  .strict();
export type LeaseMark = z.infer<typeof LeaseMark>;

/**
 * A step the failover agent took on its host (infra/failover): the record the runbook's incident log is
 * written from. `promoted`: this host's Postgres became the primary because this host's execution holds
 * the lease at `epoch`. `gateway_started`: the takeover command brought the gateway (and the services
 * that need it) up. `fenced`: another host holds the lease, so this host's Postgres was made read-only.
 * `demoted`: it was rewound and rejoined as a replica of `primary`. `failed`: a step did not work;
 * `detail` says which and why.
 */
export const FailoverStep = z.enum(['promoted', 'gateway_started', 'fenced', 'demoted', 'failed']);
export type FailoverStep = z.infer<typeof FailoverStep>;
export const FailoverRecord = z
  .object({
    v: V1,
    /** Deterministic: host, step and epoch, so a retried publish is de-duplicated. */
    recordId: z.string().min(1),
    host: SubjectToken,
    step: FailoverStep,
    /** The lease epoch the step was taken for (the holder's, for `fenced` and `demoted`). */
    epoch: z.number().int().nonnegative(),
    /** The lease holder when the step was taken. */
    leaseHolder: z.string().min(1).optional(),
    detail: z.string().max(2_000).default(''),
    /** How long the step took. */
    durationMs: z.number().int().nonnegative(),
    ts: Timestamp,
  })
  .strict();
export type FailoverRecord = z.infer<typeof FailoverRecord>;

export const ReconciliationTrigger = z.enum([
  'start',
  'reconnect',
  'periodic',
  'operator',
  'lease_acquired',
  /** Something at the broker we did not do (a duplicate of our order, a change of our order). */
  'broker_event',
]);
export const ReconciliationMismatch = z
  .object({
    kind: z.enum([
      'position_quantity',
      'position_unknown_locally',
      'position_unknown_at_broker',
      'open_order_unknown_locally',
      'open_order_unknown_at_broker',
      'open_order_state',
      'execution_missing_locally',
      'execution_unknown_at_broker',
      'execution_unexplained',
      /** A second broker order carrying the intent id of one of ours. */
      'duplicate_order',
      /** Our order's terms changed at the broker without a request of ours. */
      'order_modified_at_broker',
      /** An open order's quantity or price differs between the broker and our books. */
      'open_order_terms',
      /** An order's fills exceed its quantity. */
      'order_overfilled',
      /** A position's average cost differs beyond the tolerance. */
      'position_average_cost',
      /** Cash moved at the broker by more than our trades explain. */
      'cash_balance',
      /** A fill IB no longer lists (past its execution cut-off), rebuilt from what it still reports. */
      'execution_reconstructed',
      /** The comparison could not be made (a broker read failed). */
      'reconciliation_failed',
    ]),
    instrument: InstrumentKey.optional(),
    local: z.string().optional(),
    broker: z.string().optional(),
    detail: z.string(),
  })
  .strict();
export type ReconciliationMismatch = z.infer<typeof ReconciliationMismatch>;

export const ReconciliationResult = z
  .object({
    v: V1,
    runId: z.string().min(1),
    trigger: ReconciliationTrigger,
    ok: z.boolean(),
    mismatches: z.array(ReconciliationMismatch),
    positionsChecked: z.number().int().nonnegative(),
    openOrdersChecked: z.number().int().nonnegative(),
    executionsChecked: z.number().int().nonnegative(),
    startedAt: Timestamp,
    finishedAt: Timestamp,
  })
  .strict();
export type ReconciliationResult = z.infer<typeof ReconciliationResult>;

const commandBase = {
  v: V1,
  commandId: z.string().min(1).max(128),
  /** Operator or tool that issued it; recorded in the audit log. */
  by: z.string().min(1),
  at: Timestamp,
};

/** Operator commands on `sys.control.<command>`. */
export const ControlCommand = z.discriminatedUnion('command', [
  z.object({ ...commandBase, command: z.literal('halt'), reason: z.string().min(1) }).strict(),
  z.object({ ...commandBase, command: z.literal('resume'), reason: z.string().min(1) }).strict(),
  z.object({ ...commandBase, command: z.literal('reduce'), reason: z.string().min(1) }).strict(),
  z.object({ ...commandBase, command: z.literal('reconcile') }).strict(),
  z.object({ ...commandBase, command: z.literal('cancel_order'), intentId: IntentIdSchema }).strict(),
  /** Cancels every working order of ours at the broker (sent after a halt by `halt --cancel-orders`). */
  z
    .object({ ...commandBase, command: z.literal('cancel_working_orders'), reason: z.string().min(1) })
    .strict(),
  z
    .object({
      ...commandBase,
      command: z.literal('modify_order'),
      intentId: IntentIdSchema,
      quantity: PositiveDecimalString.optional(),
      limitPrice: PositiveDecimalString.optional(),
      stopPrice: PositiveDecimalString.optional(),
    })
    .strict(),
]);
export type ControlCommand = z.infer<typeof ControlCommand>;
export type ControlCommandName = ControlCommand['command'];

/**
 * Run-time commands to the services' gateway sessions and market data, on `sys.session.<command>`:
 * execution and ingestor drop or resume their gateway sessions, the ingestor adds or removes an
 * instrument. Each service that handles one answers with a `ControlReply`. They are not `sys.control.*`
 * commands because every running instance must see them (core subscriptions), not one durable consumer.
 */
/** The command id names the reply subject, so it must be one subject token. */
const sessionBase = { ...commandBase, commandId: SubjectToken.max(128) };

export const SessionCommand = z.discriminatedUnion('command', [
  z.object({ ...sessionBase, command: z.literal('gateway_connect'), reason: z.string().min(1) }).strict(),
  z.object({ ...sessionBase, command: z.literal('gateway_disconnect'), reason: z.string().min(1) }).strict(),
  z
    .object({
      ...sessionBase,
      command: z.literal('market_data_subscribe'),
      /** An instrument spec as in INSTRUMENTS: `EUR.CAD`, `AAPL`, `AAPL@SMART:USD`. */
      instrument: z.string().min(1).max(64),
    })
    .strict(),
  z
    .object({ ...sessionBase, command: z.literal('market_data_unsubscribe'), instrument: InstrumentKey })
    .strict(),
]);
export type SessionCommand = z.infer<typeof SessionCommand>;
export type SessionCommandName = SessionCommand['command'];

/** A service's answer to a `SessionCommand`, on `sys.reply.<commandId>`. */
export const ControlReply = z
  .object({
    v: V1,
    commandId: SubjectToken.max(128),
    service: ServiceName,
    ok: z.boolean(),
    /** IB's error code when the gateway refused (200: no security definition). */
    code: z.number().int().optional(),
    message: z.string(),
    instrument: InstrumentKey.optional(),
    ts: Timestamp,
  })
  .strict();
export type ControlReply = z.infer<typeof ControlReply>;

/** Who did what, for the audit log (`sys.audit` and table `audit_log`). */
export const AuditEntry = z
  .object({
    v: V1,
    auditId: z.string().min(1).max(128),
    actor: z.string().min(1),
    action: z.string().min(1),
    detail: z.record(z.string(), z.unknown()),
    at: Timestamp,
  })
  .strict();
export type AuditEntry = z.infer<typeof AuditEntry>;

/** Account values from the broker as execution records them; the strategy's loss rules read these. */
export const AccountSnapshot = z
  .object({
    v: V1,
    account: z.string().min(1),
    currency: z.string().length(3),
    netLiquidation: DecimalString,
    cash: DecimalString,
    realizedPnl: DecimalString,
    unrealizedPnl: DecimalString,
    dailyPnl: DecimalString,
    dailyReturnPct: DecimalString,
    highWaterMark: DecimalString,
    drawdownPct: DecimalString,
    ts: Timestamp,
  })
  .strict();
export type AccountSnapshot = z.infer<typeof AccountSnapshot>;

/** Something an operator should see: an unknown instrument, a paused sleeve, a halt. */
export const SystemEvent = z
  .object({
    v: V1,
    eventId: z.string().min(1).max(128),
    service: ServiceName,
    severity: z.enum(['info', 'warning', 'critical']),
    code: z.string().regex(/^[a-z0-9_]+$/),
    message: z.string(),
    detail: z.record(z.string(), z.unknown()).optional(),
    ts: Timestamp,
  })
  .strict();
export type SystemEvent = z.infer<typeof SystemEvent>;

/** A message a consumer could not handle, kept whole with the reason. */
export const DeadLetter = z
  .object({
    v: V1,
    reason: z.string(),
    stream: z.string(),
    consumer: z.string(),
    originalSubject: z.string(),
    streamSequence: z.number().int().nonnegative(),
    deliveryCount: z.number().int().nonnegative(),
    /** The original payload, base64, so nothing is lost even when it was not text. */
    payloadBase64: z.string(),
    ts: Timestamp,
  })
  .strict();
export type DeadLetter = z.infer<typeof DeadLetter>;
