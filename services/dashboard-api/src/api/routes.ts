/** Every REST route: its schemas, its role, its handler. The OpenAPI document is generated from this list. */
import {
  DAY_MS,
  InstrumentKey,
  OrderSide,
  OrderType,
  PositiveDecimalString,
  SleeveName,
  Timeframe,
  TimeInForce,
} from '@ibstack/contracts';
import { runHealthcheck } from '@ibstack/ib';
import { z } from 'zod';

import { orderView, type ReadStore } from '../adapters/pg-read';
import type { LiveFeed } from '../adapters/live-feed';
import type { LoginService } from '../auth/login';
import type { OperatorActions } from '../operator-actions';
import type { ControlClient } from '../control-client';
import { ApiError, ErrorCode } from './errors';
import { queryInstant, queryInt, route, type RouteSpec } from './route';
import * as S from './schemas';

export interface RouteContext {
  read: ReadStore;
  live: LiveFeed;
  login: LoginService;
  actions: OperatorActions;
  control: ControlClient;
  tradingMode: 'paper' | 'live';
  ibkrTest: { host: string; port: number; clientId: number };
  health: () => Promise<Record<string, boolean>>;
  version: string;
  startedAt: number;
}

const Reason = z.object({ reason: z.string().trim().min(1, 'must not be empty').max(200) }).strict();
const OrderIdParams = z.object({ id: z.coerce.number({ error: 'must be an order id' }).int().positive() });
const Pagination = { limit: queryInt(1, 500, 100), offset: queryInt(0, 1_000_000, 0) };

const ManualOrderBody = z
  .object({
    instrument: InstrumentKey.describe('instrument key, EURCAD'),
    side: OrderSide,
    quantity: PositiveDecimalString,
    orderType: OrderType.default('MKT'),
    limitPrice: PositiveDecimalString.optional(),
    stopPrice: PositiveDecimalString.optional(),
    timeInForce: TimeInForce.default('DAY'),
    reason: z.string().max(200).optional(),
  })
  .strict()
  .refine((order) => order.orderType !== 'LMT' || order.limitPrice !== undefined, {
    message: 'a LMT order needs limitPrice',
    path: ['limitPrice'],
  })
  .refine((order) => order.orderType !== 'STP' || order.stopPrice !== undefined, {
    message: 'a STP order needs stopPrice',
    path: ['stopPrice'],
  })
  .refine((order) => order.orderType === 'LMT' || order.limitPrice === undefined, {
    message: 'only a LMT order has a limitPrice',
    path: ['limitPrice'],
  })
  .refine((order) => order.orderType === 'STP' || order.stopPrice === undefined, {
    message: 'only a STP order has a stopPrice',
    path: ['stopPrice'],
  });

const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string({ error: 'is required: a unique key per order, reused only to retry that order' })
    .regex(/^[A-Za-z0-9._:-]{8,128}$/, 'must be 8–128 letters, digits, ".", "_", ":" or "-"')
    .describe('Idempotency-Key: a retry with the same key returns the first result'),
});

const ModifyBody = z
  .object({
    quantity: PositiveDecimalString.optional(),
    limitPrice: PositiveDecimalString.optional(),
    stopPrice: PositiveDecimalString.optional(),
  })
  .strict()
  .refine((changes) => Object.values(changes).some((value) => value !== undefined), {
    message: 'name at least one of quantity, limitPrice, stopPrice',
    path: ['quantity'],
  });

export function routes(context: RouteContext): RouteSpec[] {
  const { read, live, actions } = context;
  return [
    route({
      method: 'post',
      path: '/api/auth/login',
      summary: 'Log in: a short-lived access token, also set as an httpOnly cookie',
      tag: 'auth',
      access: 'public',
      body: z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) }).strict(),
      response: S.LoginResponse,
      errors: [401, 429],
      handler: async ({ body, req, res }) => context.login.login(body.username, body.password, req, res),
    }),
    route({
      method: 'post',
      path: '/api/auth/refresh',
      summary: 'A fresh token (and cookie) for a still-valid one',
      tag: 'auth',
      access: 'viewer',
      response: S.LoginResponse,
      handler: async ({ user, res }) => context.login.issue(user.username, user.role, res),
    }),
    route({
      method: 'post',
      path: '/api/auth/logout',
      summary: 'Forget the session cookie',
      tag: 'auth',
      access: 'viewer',
      response: z.object({ ok: z.literal(true) }),
      handler: ({ res }) => {
        context.login.clearCookie(res);
        return Promise.resolve({ body: { ok: true as const } });
      },
    }),
    route({
      method: 'get',
      path: '/api/auth/me',
      summary: 'Who the token belongs to',
      tag: 'auth',
      access: 'viewer',
      response: S.Me,
      handler: ({ user }) =>
        Promise.resolve({
          body: {
            username: user.username,
            role: user.role,
            expiresAt: new Date(user.expiresAt * 1000).toISOString(),
          },
        }),
    }),
    route({
      method: 'get',
      path: '/api/ibkr/status',
      summary: 'Gateway state, paper/live, account, last heartbeat',
      tag: 'ibkr',
      access: 'viewer',
      response: S.IbkrStatus,
      handler: async () => {
        const health = live.gatewayHealth;
        const services = [...live.gatewayStatuses.values()].sort((a, b) =>
          a.service.localeCompare(b.service),
        );
        const accounts = health?.accounts ?? (await read.accounts()).map((row) => row.account);
        const beats = [health?.ts, ...services.map((status) => status.ts)].filter((ts): ts is string => !!ts);
        const state =
          health?.state ??
          (services.length === 0
            ? 'unknown'
            : services.every((status) => status.state === 'connected')
              ? 'connected'
              : (services.find((status) => status.state !== 'connected')?.state ?? 'unknown'));
        return {
          body: {
            tradingMode: health?.tradingMode ?? context.tradingMode,
            state,
            ready: health?.ready ?? null,
            accounts,
            lastHeartbeat: beats.sort().at(-1) ?? null,
            health,
            services: services.map(({ v: _v, ...status }) => status),
          },
        };
      },
    }),
    route({
      method: 'post',
      path: '/api/ibkr/test',
      summary: 'A real API handshake and reqCurrentTime against the gateway, with its own client id, timed',
      tag: 'ibkr',
      access: 'viewer',
      response: S.IbkrTest,
      handler: async () => {
        const { host, port, clientId } = context.ibkrTest;
        const result = await runHealthcheck({ host, port, clientId, timeoutMs: 5_000 });
        return { body: { ...result, host, port, clientId } };
      },
    }),
    route({
      method: 'post',
      path: '/api/ibkr/connect',
      summary: 'Ask execution and ingestor to resume their gateway sessions (audited)',
      tag: 'ibkr',
      access: 'operator',
      body: Reason,
      response: S.CommandAccepted,
      errors: [504],
      handler: async ({ user, body }) => ({
        status: 202,
        body: await context.control.gateway(user.username, 'connect', body.reason),
      }),
    }),
    route({
      method: 'post',
      path: '/api/ibkr/disconnect',
      summary: 'Ask execution and ingestor to drop their gateway sessions until connect (audited)',
      tag: 'ibkr',
      access: 'operator',
      body: Reason,
      response: S.CommandAccepted,
      errors: [504],
      handler: async ({ user, body }) => ({
        status: 202,
        body: await context.control.gateway(user.username, 'disconnect', body.reason),
      }),
    }),
    route({
      method: 'post',
      path: '/api/market-data/subscribe',
      summary:
        'Add an instrument at the ingestor at run time; an unknown contract is refused with IB’s answer',
      tag: 'market data',
      access: 'operator',
      body: z
        .object({ instrument: z.string().min(3).max(64).describe('EUR.CAD, AAPL, AAPL@SMART:USD') })
        .strict(),
      response: S.CommandAccepted,
      status: 201,
      errors: [422, 504],
      handler: async ({ user, body }) => ({
        status: 201,
        body: await context.control.marketData(user.username, 'subscribe', body.instrument),
      }),
    }),
    route({
      method: 'delete',
      path: '/api/market-data/subscribe/:id',
      summary: 'Remove an instrument (by key, EURCAD) from the ingestor at run time',
      tag: 'market data',
      access: 'operator',
      params: z.object({ id: InstrumentKey }),
      response: S.CommandAccepted,
      errors: [404, 422, 504],
      handler: async ({ user, params }) => ({
        body: await context.control.marketData(user.username, 'unsubscribe', params.id),
      }),
    }),
    route({
      method: 'post',
      path: '/api/orders',
      summary: 'Place a manual order (operator sleeve; execution applies the account risk rules)',
      description:
        'Idempotent by the Idempotency-Key header: a retry with the same key returns the first result and never ' +
        'places a second order. 201 once execution has recorded the order, 202 if it has not within ORDER_WAIT_MS.',
      tag: 'orders',
      access: 'operator',
      headers: IdempotencyHeaders,
      body: ManualOrderBody,
      response: S.OrderPlacement,
      status: 201,
      errors: [202, 409, 422],
      handler: async ({ user, headers, body }) => {
        const placement = await actions.placeOrder(user.username, headers['idempotency-key'], body);
        return { status: placement.status, body: placement.body };
      },
    }),
    route({
      method: 'get',
      path: '/api/orders',
      summary: 'Orders, newest first, with filters; page with `before`',
      tag: 'orders',
      access: 'viewer',
      query: z
        .object({
          status: z.enum(['open', 'closed', 'all']).default('all'),
          sleeve: SleeveName.optional(),
          instrument: InstrumentKey.optional(),
          intentId: z
            .string()
            .min(1)
            .max(128)
            .optional()
            .describe(
              "the order placed for this intent id (a manual order's: the intentId its POST answered)",
            ),
          from: queryInstant.optional(),
          to: queryInstant.optional(),
          before: z.coerce.number({ error: 'must be an order id' }).int().positive().optional(),
          limit: queryInt(1, 500, 100),
        })
        .strict(),
      response: S.OrderPage,
      handler: async ({ query }) => ({ body: await read.orders(query) }),
    }),
    route({
      method: 'get',
      path: '/api/orders/:id',
      summary: 'One order as execution has recorded it now',
      tag: 'orders',
      access: 'viewer',
      params: OrderIdParams,
      response: S.Order,
      errors: [404],
      handler: async ({ params }) => {
        const order = await read.orderById(params.id);
        if (!order) throw new ApiError(404, ErrorCode.notFound, `no order ${params.id}`, 'id');
        return { body: orderView(order) };
      },
    }),
    route({
      method: 'patch',
      path: '/api/orders/:id',
      summary: 'Modify a working order (quantity, limit or stop price)',
      tag: 'orders',
      access: 'operator',
      params: OrderIdParams,
      body: ModifyBody,
      response: S.CommandAccepted,
      status: 202,
      errors: [404, 409],
      handler: async ({ user, params, body }) => ({
        status: 202,
        body: await actions.modifyOrder(user.username, params.id, body),
      }),
    }),
    route({
      method: 'delete',
      path: '/api/orders/:id',
      summary: 'Cancel a working order',
      tag: 'orders',
      access: 'operator',
      params: OrderIdParams,
      response: S.CommandAccepted,
      status: 202,
      errors: [404, 409],
      handler: async ({ user, params }) => ({
        status: 202,
        body: await actions.cancelOrder(user.username, params.id),
      }),
    }),
    route({
      method: 'get',
      path: '/api/positions',
      summary: 'Open positions with the last price and unrealized P&L',
      tag: 'portfolio',
      access: 'viewer',
      response: z.array(S.Position),
      handler: async () => ({ body: await read.positions() }),
    }),
    route({
      method: 'get',
      path: '/api/account',
      summary: 'NAV, cash, buying power, daily P&L, drawdown, high-water mark (per account)',
      tag: 'portfolio',
      access: 'viewer',
      response: z.array(S.AccountView),
      handler: async () => ({ body: await read.accounts() }),
    }),
    route({
      method: 'get',
      path: '/api/trades',
      summary: 'Executions, newest first',
      tag: 'portfolio',
      access: 'viewer',
      query: z
        .object({
          instrument: InstrumentKey.optional(),
          sleeve: SleeveName.optional(),
          from: queryInstant.optional(),
          to: queryInstant.optional(),
          ...Pagination,
        })
        .strict(),
      response: z.array(S.Trade),
      handler: async ({ query }) => ({ body: await read.trades(query) }),
    }),
    route({
      method: 'get',
      path: '/api/bars',
      summary: 'Bars of an instrument, oldest first (the newest `limit` of the window)',
      tag: 'market data',
      access: 'viewer',
      query: z
        .object({
          instrument: InstrumentKey,
          timeframe: Timeframe.default('1m'),
          from: queryInstant.optional(),
          to: queryInstant.optional(),
          limit: queryInt(1, 5_000, 1_000),
        })
        .strict()
        .refine((query) => !query.from || !query.to || Date.parse(query.from) < Date.parse(query.to), {
          message: 'must be before to',
          path: ['from'],
        }),
      response: z.array(S.BarView),
      handler: async ({ query }) => {
        const to = query.to ?? new Date(Date.now() + 60_000).toISOString();
        const from = query.from ?? new Date(Date.parse(to) - 7 * DAY_MS).toISOString();
        return { body: await read.bars(query.instrument, query.timeframe, from, to, query.limit) };
      },
    }),
    route({
      method: 'get',
      path: '/api/pnl',
      summary: 'Equity curve: NAV, daily P&L, drawdown and high-water mark over time',
      tag: 'portfolio',
      access: 'viewer',
      query: z
        .object({
          from: queryInstant.optional(),
          to: queryInstant.optional(),
          points: queryInt(2, 2_000, 500),
          account: z.string().min(1).max(32).optional(),
        })
        .strict(),
      response: z.array(S.EquityPoint),
      handler: async ({ query }) => {
        const to = query.to ?? new Date().toISOString();
        const from = query.from ?? new Date(Date.parse(to) - 7 * DAY_MS).toISOString();
        if (Date.parse(from) >= Date.parse(to))
          throw new ApiError(400, ErrorCode.invalidRequest, 'from: must be before to', 'from');
        return { body: await read.equity(from, to, query.points, query.account) };
      },
    }),
    route({
      method: 'get',
      path: '/api/reconciliations',
      summary: 'Reconciliation runs, newest first',
      tag: 'trading',
      access: 'viewer',
      query: z.object(Pagination).strict(),
      response: z.array(S.ReconciliationView),
      handler: async ({ query }) => ({ body: await read.reconciliations(query.limit, query.offset) }),
    }),
    route({
      method: 'get',
      path: '/api/audit',
      summary: 'The audit log, newest first',
      tag: 'trading',
      access: 'viewer',
      query: z
        .object({
          actor: z.string().min(1).max(64).optional(),
          action: z.string().min(1).max(64).optional(),
          ...Pagination,
        })
        .strict(),
      response: z.array(S.AuditView),
      handler: async ({ query }) => ({ body: await read.audit(query) }),
    }),
    route({
      method: 'get',
      path: '/api/sleeves',
      summary: 'Sleeves: instruments, last bar, open orders, position and realized P&L from their fills',
      tag: 'trading',
      access: 'viewer',
      response: z.array(S.SleeveView),
      handler: async () => ({ body: await read.sleeves() }),
    }),
    route({
      method: 'get',
      path: '/api/trading-state',
      summary: 'RUNNING, HALTED or REDUCING, with reason, who and when',
      tag: 'trading',
      access: 'viewer',
      response: S.TradingStateView,
      handler: () => {
        const state = live.tradingState;
        return Promise.resolve({
          body: state
            ? { state: state.state, reason: state.reason, by: state.by, at: state.at }
            : { state: 'RUNNING' as const, reason: 'default', by: 'system', at: new Date(0).toISOString() },
        });
      },
    }),
    ...(['halt', 'resume'] as const).map((action) =>
      route({
        method: 'post',
        path: `/api/trading/${action}`,
        summary: action === 'halt' ? 'Halt all trading (audited)' : 'Let trading run again (audited)',
        tag: 'trading',
        access: 'operator',
        body: Reason,
        response: S.TradingStateView.extend({ auditProblems: z.array(z.string()) }),
        handler: async ({ user, body }) => {
          const change = await actions.setTradingState(
            user.username,
            action === 'halt' ? 'HALTED' : 'RUNNING',
            body.reason,
          );
          const { v: _v, ...state } = change.value;
          return { body: { ...state, auditProblems: change.auditProblems } };
        },
      }),
    ),
    route({
      method: 'post',
      path: '/api/trading/reconcile',
      summary: 'Ask execution to reconcile with the broker now',
      tag: 'trading',
      access: 'operator',
      response: S.CommandAccepted,
      status: 202,
      handler: async ({ user }) => ({ status: 202, body: await actions.reconcile(user.username) }),
    }),
    route({
      method: 'get',
      path: '/health',
      summary: 'Liveness and dependencies, without a token',
      tag: 'health',
      access: 'public',
      response: S.Health,
      errors: [503],
      handler: async () => {
        const checks = await context.health();
        const ok = Object.values(checks).every(Boolean);
        return {
          status: ok ? 200 : 503,
          body: {
            status: ok ? ('ok' as const) : ('degraded' as const),
            checks,
            version: context.version,
            uptimeSeconds: Math.round((Date.now() - context.startedAt) / 1000),
          },
        };
      },
    }),
  ];
}
