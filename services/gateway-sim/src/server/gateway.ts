/**
 * The simulated Gateway's API side: accepts sessions, runs the handshake as IB does (managedAccounts,
 * nextValidId, farm notices), enforces unique client ids (326), dispatches requests to the market-data,
 * order and account services, drives their timers and implements the faults.
 */
import type { Socket } from 'node:net';

import { DateTime } from 'luxon';

import type { RequestDecodeError } from '../errors';
import type { HistoricalPacing } from '../market/pacing';
import { NEW_YORK } from '../market/trading-hours';
import type { ClientHello } from '../protocol/framing';
import { FARM_BROKEN_NOTICES, FARM_NOTICES, IbCode, IbText } from '../protocol/ib-errors';
import type { ClientRequest } from '../protocol/requests';
import * as response from '../protocol/responses';
import { AccountService } from './accounts';
import type { GatewayContext, SessionDirectory } from './context';
import { HistoricalService } from './historical-service';
import { MarketDataService, type MarketDataOptions } from './market-data';
import { type ExecutionWindow, OrderService } from './orders';
import { Session, type SessionHost } from './session';
import type { TcpListener } from './tcp-listener';

export interface GatewayOptions extends MarketDataOptions {
  serverVersion: number;
  pacing: HistoricalPacing | undefined;
  /** Wall ms between stream/matching ticks. */
  tickIntervalMs: number;
  /** Outbound bytes a session may queue while stalled before it is closed. */
  stallBacklogBytes: number;
  /** Wall ms a connection may take to send its handshake and startApi before it is closed. */
  handshakeTimeoutMs: number;
  /** What `reqExecutions` can reach back to (IB Gateway: the gateway's last local midnight). */
  executionWindow: ExecutionWindow;
  onStateChanged: () => void;
}

export interface ClientInfo {
  session: number;
  clientId: number | undefined;
  remote: string;
  phase: string;
  connectedAt: string;
}

export class Gateway implements SessionHost, SessionDirectory {
  readonly marketData: MarketDataService;
  readonly historical: HistoricalService;
  readonly accounts: AccountService;
  readonly orders: OrderService;
  private readonly all = new Set<Session>();
  private readonly byClient = new Map<number, Session>();
  private stalledValue = false;
  /** Requests left unanswered (a fault), by request type: how many more to swallow. */
  private readonly unanswered = new Map<string, number>();
  private linkUp = true;
  private timer: NodeJS.Timeout | undefined;
  private listener: TcpListener | undefined;
  private readonly ctx: GatewayContext;

  constructor(
    context: Omit<GatewayContext, 'sessions' | 'brokerLinkUp' | 'competingSession'>,
    private readonly options: GatewayOptions,
  ) {
    this.ctx = {
      ...context,
      sessions: this,
      brokerLinkUp: () => this.linkUp,
      competingSession: () => this.competing,
    };
    this.marketData = new MarketDataService(this.ctx, options);
    this.historical = new HistoricalService(this.ctx, options.pacing);
    this.accounts = new AccountService(this.ctx);
    this.orders = new OrderService(this.ctx, this.accounts, options.onStateChanged, options.executionWindow);
  }

  attach(listener: TcpListener): void {
    this.listener = listener;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.options.tickIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.orders.close();
    this.historical.stop();
  }

  tick(): void {
    try {
      this.orders.tick();
      this.marketData.tick();
      this.historical.tick();
      this.accounts.tick();
    } catch (error) {
      this.ctx.log.error({ err: error }, 'gateway tick failed');
    }
  }

  // ---------------------------------------------------------------- sessions

  accept(socket: Socket): void {
    if (this.login !== 'logged_in') {
      // As behind IBGA's relay while IB Gateway is not logged in: the port answers, then hangs up.
      this.ctx.metrics.connectionsRejected.inc({ reason: this.login });
      // A clean close (FIN), as socat closes a client when nothing listens behind it; not a reset.
      socket.on('error', () => undefined);
      socket.end();
      return;
    }
    const session = new Session(socket, this, this.ctx.log);
    this.all.add(session);
    this.ctx.metrics.connections.set(this.all.size);
    this.ctx.metrics.connectionsAccepted.inc();
  }

  ready(): Session[] {
    return [...this.byClient.values()];
  }

  byClientId(clientId: number): Session | undefined {
    return this.byClient.get(clientId);
  }

  clients(): ClientInfo[] {
    return [...this.all].map((session) => ({
      session: session.id,
      clientId: session.clientId,
      remote: session.remote,
      phase: session.phase,
      connectedAt: new Date(session.connectedAt).toISOString(),
    }));
  }

  get stalled(): boolean {
    return this.stalledValue;
  }

  get handshakeTimeoutMs(): number {
    return this.options.handshakeTimeoutMs;
  }

  get stallBacklogBytes(): number {
    return this.options.stallBacklogBytes;
  }

  get brokerLinkUp(): boolean {
    return this.linkUp;
  }

  chooseVersion(hello: ClientHello): number | undefined {
    const version = this.options.serverVersion;
    if (version < hello.minVersion || version > hello.maxVersion) {
      this.ctx.metrics.connectionsRejected.inc({ reason: 'version' });
      return undefined;
    }
    return version;
  }

  /** `yyyyMMdd HH:mm:ss <zone>` in New York time, as a Gateway there prints it. */
  connectionTime(): string {
    const now = DateTime.fromMillis(this.ctx.clock.now(), { zone: NEW_YORK });
    return `${now.toFormat('yyyyMMdd HH:mm:ss')} ${now.offsetNameShort ?? 'EST'}`;
  }

  onStartApi(session: Session, clientId: number): void {
    const holder = this.byClient.get(clientId);
    if (this.heldClientIds.has(clientId) || (holder && holder !== session && holder.phase !== 'closed')) {
      this.ctx.metrics.connectionsRejected.inc({ reason: 'client_id_in_use' });
      this.ctx.log.warn(
        { clientId, session: session.id },
        'client id already in use: refusing the connection',
      );
      session.send(response.errorMessage(-1, IbCode.clientIdInUse, IbText.clientIdInUse));
      session.end();
      return;
    }
    this.byClient.set(clientId, session);
    this.ctx.log.info({ clientId, session: session.id, remote: session.remote }, 'API client connected');
    session.send(response.managedAccounts(this.ctx.broker.managedAccounts()));
    session.send(response.nextValidId(this.ctx.broker.nextOrderId()));
    if (this.linkUp) {
      for (const notice of FARM_NOTICES) session.send(response.errorMessage(-1, notice.code, notice.text));
    } else {
      session.send(
        response.errorMessage(
          -1,
          2110,
          'Connectivity between Trader Workstation and server is broken. It will be restored automatically.',
        ),
      );
    }
  }

  onRequest(session: Session, request: ClientRequest): void {
    const swallow = this.unanswered.get(request.type) ?? 0;
    if (swallow > 0) {
      this.unanswered.set(request.type, swallow - 1);
      this.ctx.log.warn({ request: request.type }, 'fault: leaving a request unanswered');
      return;
    }
    try {
      if (request.type === 'reqCurrentTime') {
        session.send(response.currentTime(Math.floor(this.ctx.clock.now() / 1000)));
        return;
      }
      if (request.type === 'reqManagedAccounts') {
        session.send(response.managedAccounts(this.ctx.broker.managedAccounts()));
        return;
      }
      if (request.type === 'unknown' || request.type === 'unsupported') {
        const id = request.type === 'unsupported' ? (request.reqId ?? -1) : -1;
        const messageId = Number.isNaN(request.messageId) ? 0 : request.messageId;
        session.send(
          response.errorMessage(
            id,
            IbCode.validation,
            IbText.validation(
              messageId,
              request.type === 'unknown' ? 'Unknown message id' : 'Not supported by the simulated gateway',
            ),
          ),
        );
        return;
      }
      if (this.orders.handle(session, request)) return;
      if (this.marketData.handle(session, request)) return;
      if (this.historical.handle(session, request)) return;
      if (this.accounts.handle(session, request)) return;
    } catch (error) {
      // A bug in one handler must not take the other clients down.
      this.ctx.log.error({ err: error, request: request.type }, 'request handler failed');
      session.send(
        response.errorMessage(
          -1,
          IbCode.validation,
          IbText.validation(0, 'Internal error in the simulated gateway'),
        ),
      );
    }
  }

  onDecodeError(session: Session, error: RequestDecodeError): void {
    this.ctx.log.debug({ messageId: error.messageId, reason: error.message }, 'undecodable request');
    session.send(
      response.errorMessage(-1, IbCode.validation, IbText.validation(error.messageId || 0, error.message)),
    );
  }

  onClosed(session: Session): void {
    this.all.delete(session);
    const clientId = session.clientId;
    if (clientId !== undefined && this.byClient.get(clientId) === session) {
      this.byClient.delete(clientId);
      this.ctx.log.info({ clientId, session: session.id }, 'API client disconnected');
    }
    this.marketData.dropSession(session);
    this.historical.dropSession(session);
    this.accounts.dropSession(session);
    this.ctx.metrics.connections.set(this.all.size);
  }

  countInbound(messageId: number): void {
    this.ctx.metrics.received(messageId);
  }

  countOutbound(messageId: number): void {
    this.ctx.metrics.sent(messageId);
  }

  countProtocolError(reason: string): void {
    this.ctx.metrics.protocolErrors.inc({ reason });
  }

  countMarketDataDropped(): void {
    this.ctx.metrics.marketDataDropped.inc();
  }

  // ---------------------------------------------------------------- faults

  dropAll(): void {
    for (const session of this.all) session.destroy();
    this.listener?.dropAll();
  }

  setStalled(on: boolean): void {
    if (this.stalledValue === on) return;
    this.stalledValue = on;
    this.ctx.log.warn({ stalled: on }, on ? 'gateway stalled: not answering' : 'gateway answering again');
    if (!on) for (const session of [...this.all]) session.resume();
  }

  /** IB's daily reset: 1100 to everyone, no data while down, then 1102 and the farms again. */
  async dailyReset(downMs: number): Promise<void> {
    this.setBrokerLink({ up: false });
    await new Promise((resolve) => setTimeout(resolve, downMs));
    this.setBrokerLink({ up: true });
  }

  /**
   * The gateway's own link to IB. Down: 1100 (or 2110, "TWS to server broken") and the farms broken, no
   * market data or matching. Up: 1102 (subscriptions kept) or 1101 (data lost: subscriptions are dropped,
   * as IB drops them), then the farms again.
   */
  setBrokerLink(change: { up: boolean; code?: 1100 | 2110; dataLost?: boolean }): void {
    if (!change.up) {
      this.linkUp = false;
      this.ctx.broker.setLinkUp(false);
      const code = change.code ?? IbCode.connectivityLost;
      const text =
        code === IbCode.connectivityLost
          ? IbText.connectivityLost
          : 'Connectivity between Trader Workstation and server is broken. It will be restored automatically.';
      for (const session of this.ready()) {
        session.send(response.errorMessage(-1, code, text));
        for (const notice of FARM_BROKEN_NOTICES)
          session.send(response.errorMessage(-1, notice.code, notice.text));
      }
      return;
    }
    this.linkUp = true;
    this.ctx.broker.setLinkUp(true);
    const farms = FARM_NOTICES.map((notice) => notice.text.split(':')[1]).join('; ');
    for (const session of this.ready()) {
      if (change.dataLost) {
        this.marketData.dropSession(session);
        session.send(
          response.errorMessage(-1, IbCode.connectivityRestoredDataLost, IbText.connectivityRestoredDataLost),
        );
      } else {
        session.send(
          response.errorMessage(
            -1,
            IbCode.connectivityRestored,
            `${IbText.connectivityRestored} All data farms are connected: ${farms}.`,
          ),
        );
      }
      for (const notice of FARM_NOTICES) session.send(response.errorMessage(-1, notice.code, notice.text));
    }
  }

  // ------------------------------------------------- login faults (for the gateway supervisor's tests)

  private login: 'logged_in' | 'logged_out' | 'two_factor_pending' = 'logged_in';
  private competing = false;
  private readonly heldClientIds = new Set<number>();

  /** Not logged in: every session is dropped and new connections are hung up on (IBGA's relay with no gateway behind it). */
  setLogin(state: 'logged_in' | 'logged_out' | 'two_factor_pending'): void {
    this.login = state;
    if (state !== 'logged_in') this.dropAll();
  }

  get loginState(): 'logged_in' | 'logged_out' | 'two_factor_pending' {
    return this.login;
  }

  /** Another login with the same user holds the market-data lines: market-data requests get 10197. */
  setCompetingSession(on: boolean): void {
    this.competing = on;
  }

  /** The next `count` requests of this type get no answer at all (a read that times out). */
  leaveUnanswered(requestType: string, count: number): void {
    this.unanswered.set(requestType, count);
  }

  /** Treats a client id as held by another connection (a fast restart's old socket): startApi gets 326. */
  holdClientId(clientId: number, on: boolean): void {
    if (on) this.heldClientIds.add(clientId);
    else this.heldClientIds.delete(clientId);
  }

  /** Resolves once no session is open (after dropAll). */
  async waitUntilNoSessions(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.all.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
