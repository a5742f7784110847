import { createHash } from 'node:crypto';

import type { z } from 'zod';

import { type InstrumentKey } from './instrument';
import { Bar, type Timeframe, Tick } from './market-data';
import { Fill, OrderEvent, OrderIntent } from './orders';
import {
  AccountSnapshot,
  AuditEntry,
  type ControlCommandName,
  ControlCommand,
  ControlReply,
  DeadLetter,
  FailoverRecord,
  GatewayHealth,
  GatewayStatus,
  ReconciliationResult,
  SessionCommand,
  type SessionCommandName,
  SystemEvent,
} from './system';

/** JetStream streams. Names and subjects are prefixed by the bus namespace in tests. */
export const STREAMS = {
  MD: { name: 'MD', subjects: ['md.>'] },
  ORDERS: { name: 'ORDERS', subjects: ['order.>', 'fill.>'] },
  SYS: { name: 'SYS', subjects: ['sys.>'] },
} as const;
export type StreamName = keyof typeof STREAMS;

export const KV_BUCKETS = { trading: 'trading', leases: 'leases', leaseMark: 'lease-mark' } as const;
export const KV_KEYS = { tradingState: 'state', executionLease: 'execution' } as const;

/**
 * Subject builders: the only place a subject is spelled. A typo in a hand-typed subject is a silently
 * lost message.
 */
export const subjects = {
  tick: (instrument: InstrumentKey) => `md.tick.${instrument}`,
  allTicks: () => 'md.tick.*',
  bar: (instrument: InstrumentKey, timeframe: Timeframe) => `md.bar.${instrument}.${timeframe}`,
  barsOf: (timeframe: Timeframe) => `md.bar.*.${timeframe}`,
  allBars: () => 'md.bar.>',
  orderIntent: (sleeve: string) => `order.intent.${sleeve}`,
  allOrderIntents: () => 'order.intent.*',
  orderEvent: (instrument: InstrumentKey) => `order.event.${instrument}`,
  allOrderEvents: () => 'order.event.*',
  fill: (instrument: InstrumentKey) => `fill.${instrument}`,
  allFills: () => 'fill.*',
  gatewayStatus: () => 'sys.gateway.status',
  gatewayHealth: () => 'sys.gateway.health',
  reconciliationResult: () => 'sys.recon.result',
  control: (command: ControlCommandName) => `sys.control.${command}`,
  allControl: () => 'sys.control.*',
  sessionCommand: (command: SessionCommandName) => `sys.session.${command}`,
  allSessionCommands: () => 'sys.session.*',
  controlReply: (commandId: string) => `sys.reply.${commandId}`,
  allControlReplies: () => 'sys.reply.*',
  audit: () => 'sys.audit',
  failover: (host: string) => `sys.failover.${host}`,
  allFailover: () => 'sys.failover.*',
  accountSnapshot: (account: string) => `sys.account.${account}`,
  allAccountSnapshots: () => 'sys.account.*',
  systemEvent: (service: string) => `sys.event.${service}`,
  allSystemEvents: () => 'sys.event.*',
  deadLetter: (stream: string, consumer: string) => `sys.deadletter.${stream}.${consumer}`,
  allDeadLetters: () => 'sys.deadletter.>',
} as const;

/**
 * A topic ties a message schema to its stream, its subject and its de-duplication id, so a publisher
 * cannot send a message to the wrong subject or without an id.
 */
export interface Topic<S extends z.ZodType> {
  readonly name: string;
  readonly stream: StreamName;
  readonly schema: S;
  /** Subject filter that matches every message of this topic. */
  readonly filter: string;
  subjectOf(message: z.infer<S>): string;
  /** `Nats-Msg-Id`: equal for a re-publication of the same thing, different for a revision. */
  msgIdOf(message: z.infer<S>): string;
}

function topic<S extends z.ZodType>(definition: Topic<S>): Topic<S> {
  return Object.freeze(definition);
}

function shortHash(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);
}

export const topics = {
  tick: topic({
    name: 'tick',
    stream: 'MD',
    schema: Tick,
    filter: subjects.allTicks(),
    subjectOf: (m) => subjects.tick(m.instrument),
    msgIdOf: (m) => `t:${m.instrument}:${m.ts}:${m.bid ?? ''}:${m.ask ?? ''}:${m.last ?? ''}`,
  }),
  bar: topic({
    name: 'bar',
    stream: 'MD',
    schema: Bar,
    filter: subjects.allBars(),
    subjectOf: (m) => subjects.bar(m.instrument, m.timeframe),
    // Identical bars collapse; a revised bar (different numbers) gets through and replaces the old row.
    msgIdOf: (m) =>
      `b:${m.instrument}:${m.timeframe}:${m.ts}:${shortHash(m.open, m.high, m.low, m.close, m.volume)}`,
  }),
  orderIntent: topic({
    name: 'order-intent',
    stream: 'ORDERS',
    schema: OrderIntent,
    filter: subjects.allOrderIntents(),
    subjectOf: (m) => subjects.orderIntent(m.sleeve),
    msgIdOf: (m) => m.intentId,
  }),
  orderEvent: topic({
    name: 'order-event',
    stream: 'ORDERS',
    schema: OrderEvent,
    filter: subjects.allOrderEvents(),
    subjectOf: (m) => subjects.orderEvent(m.instrument),
    msgIdOf: (m) => m.eventId,
  }),
  fill: topic({
    name: 'fill',
    stream: 'ORDERS',
    schema: Fill,
    filter: subjects.allFills(),
    subjectOf: (m) => subjects.fill(m.instrument),
    // A fill published again once its late commission arrives is a revision: its own id.
    msgIdOf: (m) => (m.commission === undefined ? `f:${m.execId}` : `f:${m.execId}:${m.commission}`),
  }),
  gatewayStatus: topic({
    name: 'gateway-status',
    stream: 'SYS',
    schema: GatewayStatus,
    filter: subjects.gatewayStatus(),
    subjectOf: () => subjects.gatewayStatus(),
    msgIdOf: (m) => `g:${m.service}:${m.state}:${m.ts}`,
  }),
  gatewayHealth: topic({
    name: 'gateway-health',
    stream: 'SYS',
    schema: GatewayHealth,
    filter: subjects.gatewayHealth(),
    subjectOf: () => subjects.gatewayHealth(),
    msgIdOf: (m) => `gh:${m.state}:${m.ts}`,
  }),
  reconciliationResult: topic({
    name: 'reconciliation-result',
    stream: 'SYS',
    schema: ReconciliationResult,
    filter: subjects.reconciliationResult(),
    subjectOf: () => subjects.reconciliationResult(),
    msgIdOf: (m) => `r:${m.runId}`,
  }),
  control: topic({
    name: 'control',
    stream: 'SYS',
    schema: ControlCommand,
    filter: subjects.allControl(),
    subjectOf: (m) => subjects.control(m.command),
    msgIdOf: (m) => `c:${m.commandId}`,
  }),
  sessionCommand: topic({
    name: 'session-command',
    stream: 'SYS',
    schema: SessionCommand,
    filter: subjects.allSessionCommands(),
    subjectOf: (m) => subjects.sessionCommand(m.command),
    msgIdOf: (m) => `sc:${m.commandId}`,
  }),
  controlReply: topic({
    name: 'control-reply',
    stream: 'SYS',
    schema: ControlReply,
    filter: subjects.allControlReplies(),
    subjectOf: (m) => subjects.controlReply(m.commandId),
    msgIdOf: (m) => `cr:${m.service}:${m.commandId}`,
  }),
  audit: topic({
    name: 'audit',
    stream: 'SYS',
    schema: AuditEntry,
    filter: subjects.audit(),
    subjectOf: () => subjects.audit(),
    msgIdOf: (m) => `a:${m.auditId}`,
  }),
  accountSnapshot: topic({
    name: 'account-snapshot',
    stream: 'SYS',
    schema: AccountSnapshot,
    filter: subjects.allAccountSnapshots(),
    subjectOf: (m) => subjects.accountSnapshot(m.account),
    msgIdOf: (m) => `s:${m.account}:${m.ts}`,
  }),
  systemEvent: topic({
    name: 'system-event',
    stream: 'SYS',
    schema: SystemEvent,
    filter: subjects.allSystemEvents(),
    subjectOf: (m) => subjects.systemEvent(m.service),
    msgIdOf: (m) => `e:${m.eventId}`,
  }),
  failover: topic({
    name: 'failover',
    stream: 'SYS',
    schema: FailoverRecord,
    filter: subjects.allFailover(),
    subjectOf: (m) => subjects.failover(m.host),
    msgIdOf: (m) => `fo:${m.recordId}`,
  }),
  deadLetter: topic({
    name: 'dead-letter',
    stream: 'SYS',
    schema: DeadLetter,
    filter: subjects.allDeadLetters(),
    subjectOf: (m) => subjects.deadLetter(m.stream, m.consumer),
    msgIdOf: (m) => `d:${m.stream}:${m.consumer}:${m.streamSequence}:${m.deliveryCount}`,
  }),
} as const;

export type TopicMessage<T> = T extends Topic<infer S> ? z.infer<S> : never;
