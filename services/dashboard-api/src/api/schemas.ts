/** Response shapes of the REST API (the requests are declared beside their routes). */
import { DecimalString, InstrumentKey, OrderSide, OrderStatus, TradingState } from '@ibstack/contracts';
import { z } from 'zod';

import { Role } from '../auth/roles';

const Instant = z.string().describe('ISO 8601 instant, UTC');
const Decimal = DecimalString.describe('decimal number as a string');

export const LoginResponse = z.object({
  token: z.string().describe('JWT access token; also set as the httpOnly cookie `ibstack_token`'),
  expiresAt: Instant,
  user: z.object({ username: z.string(), role: Role }),
});

export const Me = z.object({ username: z.string(), role: Role, expiresAt: Instant });

export const Order = z.object({
  id: z.number().int(),
  intentId: z.string().nullable(),
  brokerOrderId: z.number().int().nullable(),
  sleeve: z.string().nullable(),
  account: z.string().nullable(),
  instrument: z.string(),
  side: z.string(),
  quantity: Decimal,
  orderType: z.string(),
  limitPrice: Decimal.nullable(),
  stopPrice: Decimal.nullable(),
  timeInForce: z.string(),
  status: OrderStatus.or(z.string()),
  brokerStatus: z.string().nullable(),
  filledQuantity: Decimal,
  remainingQuantity: Decimal,
  averageFillPrice: Decimal.nullable(),
  errorCode: z.number().int().nullable(),
  errorText: z.string().nullable(),
  createdAt: Instant,
  updatedAt: Instant,
});
export type Order = z.infer<typeof Order>;

export const OrderPage = z.object({
  items: z.array(Order),
  next: z.number().int().nullable().describe('pass as `before` for the next page; null on the last'),
});

/** What POST /api/orders answers, the same for the first request and every retry with its key. */
export const OrderPlacement = z.object({
  intentId: z.string(),
  idempotencyKey: z.string(),
  state: z.enum(['recorded', 'pending']).describe('recorded: execution stored the order; pending: not yet'),
  order: Order.nullable(),
});

export const CommandAccepted = z.object({
  commandId: z.string(),
  command: z.string(),
  outcome: z.string().optional(),
});

export const Position = z.object({
  account: z.string(),
  instrument: z.string(),
  quantity: Decimal,
  averageCost: Decimal,
  realizedPnl: Decimal,
  lastPrice: Decimal.nullable(),
  unrealizedPnl: Decimal.nullable(),
  updatedAt: Instant,
});
export type Position = z.infer<typeof Position>;

export const AccountView = z.object({
  account: z.string(),
  currency: z.string(),
  netLiquidation: Decimal,
  cash: Decimal,
  buyingPower: Decimal.nullable().describe("IB's BuyingPower when the account reports it"),
  realizedPnl: Decimal,
  unrealizedPnl: Decimal,
  dailyPnl: Decimal,
  dailyReturnPct: Decimal,
  drawdownPct: Decimal,
  highWaterMark: Decimal,
  ts: Instant,
});

export const Trade = z.object({
  execId: z.string(),
  brokerOrderId: z.number().int(),
  intentId: z.string().nullable(),
  sleeve: z.string().nullable(),
  account: z.string(),
  instrument: z.string(),
  side: OrderSide.or(z.string()),
  quantity: Decimal,
  price: Decimal,
  commission: Decimal.nullable(),
  commissionCurrency: z.string().nullable(),
  realizedPnl: Decimal.nullable(),
  executedAt: Instant,
});

export const BarView = z.object({
  ts: Instant,
  open: Decimal,
  high: Decimal,
  low: Decimal,
  close: Decimal,
  volume: Decimal,
});

export const EquityPoint = z.object({
  ts: Instant,
  netLiquidation: Decimal,
  dailyPnl: Decimal,
  drawdownPct: Decimal,
  highWaterMark: Decimal,
});

export const ReconciliationView = z.object({
  runId: z.string(),
  trigger: z.string(),
  ok: z.boolean(),
  mismatches: z.array(z.unknown()),
  positionsChecked: z.number().int(),
  openOrdersChecked: z.number().int(),
  executionsChecked: z.number().int(),
  startedAt: Instant,
  finishedAt: Instant,
});

export const AuditView = z.object({
  auditId: z.string(),
  at: Instant,
  actor: z.string(),
  action: z.string(),
  detail: z.unknown(),
});

export const SleeveView = z.object({
  sleeve: z.string(),
  instruments: z.array(z.string()),
  lastBarTs: Instant.nullable(),
  openOrders: z.number().int(),
  ordersToday: z.number().int(),
  realizedPnl: Decimal,
  position: z.record(z.string(), Decimal).describe('net quantity per instrument from this sleeve’s fills'),
});

export const TradingStateView = TradingState.omit({ v: true });

export const GatewayServiceStatus = z.object({
  service: z.string(),
  state: z.string(),
  host: z.string(),
  port: z.number().int(),
  clientId: z.number().int(),
  code: z.number().int().optional(),
  message: z.string().optional(),
  ts: Instant,
});

export const IbkrStatus = z.object({
  tradingMode: z.enum(['paper', 'live']),
  state: z.string().describe("the gateway supervisor's session state, or the services' view without one"),
  ready: z.boolean().nullable(),
  accounts: z.array(z.string()),
  lastHeartbeat: Instant.nullable(),
  health: z.unknown().nullable().describe('the last GatewayHealth from sys.gateway.health'),
  services: z.array(GatewayServiceStatus),
});

export const IbkrTest = z.object({
  ok: z.boolean(),
  reason: z.string(),
  serverVersion: z.number().int().optional(),
  gatewayTime: z.number().optional(),
  elapsedMs: z.number(),
  host: z.string(),
  port: z.number().int(),
  clientId: z.number().int(),
});

export const Health = z.object({
  status: z.enum(['ok', 'degraded']),
  checks: z.record(z.string(), z.boolean()),
  version: z.string(),
  uptimeSeconds: z.number(),
});

export const InstrumentKeySchema = InstrumentKey;
