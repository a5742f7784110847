import { EventEmitter } from 'node:events';

import { EventName, IBApi } from '@stoqey/ib';
import { ExponentialBackoff, fullJitterGenerator, handleAll, retry } from 'cockatiel';
import type { Logger, Registry } from '@ibstack/observability';

import { type ClassifiedIbError, classifyIbError, IbErrorKind } from './error-codes';
import { ibConnectionMetrics, type IbConnectionMetrics } from './metrics';

export type ConnectionState = 'disconnected' | 'connecting' | 'ready';

export interface BackoffOptions {
  /** @default 250 */
  initialDelayMs?: number;
  /** @default 30000 */
  maxDelayMs?: number;
  /** @default 2 */
  multiplier?: number;
}

export interface IbConnectionOptions {
  host: string;
  port: number;
  clientId: number;
  logger: Logger;
  registry: Registry;
  /** How often a ready session sends reqCurrentTime. @default 1000 */
  heartbeatIntervalMs?: number;
  /** Silence after which the session is dropped and re-established. @default 4000 */
  heartbeatTimeoutMs?: number;
  /** Time from TCP connect to nextValidId before an attempt counts as failed. @default 10000 */
  connectTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** The client's own request rate limit (IB allows 50/s). @default 40 */
  maxRequestsPerSecond?: number;
}

export interface IbConnectionEvents {
  state: [state: ConnectionState];
  /** A session became ready; `reconnect` is false for the first one. */
  ready: [info: { reconnect: boolean; nextValidId: number; accounts: string[]; serverVersion: number }];
  ibError: [error: ClassifiedIbError];
  /** The gateway's own link to IB went down (1100/2110) or came back (1101/1102). */
  brokerConnectivity: [info: { up: boolean; dataLost: boolean; code: number }];
}

class ConnectAttemptError extends Error {
  override readonly name = 'ConnectAttemptError';
}

/**
 * One API session to a gateway, kept alive: connects with capped exponential backoff (full jitter),
 * detects a silent gateway by heartbeat (`reqCurrentTime`) within a few seconds, classifies every IB error
 * by code and exports the connection metrics. The `api` object stays the same across reconnects, so
 * listeners attached once keep working.
 */
export class IbConnection extends EventEmitter<IbConnectionEvents> {
  readonly api: IBApi;
  readonly metrics: IbConnectionMetrics;
  private stateValue: ConnectionState = 'disconnected';
  private stopped = true;
  private loop: Promise<void> | undefined;
  private lastDataAt = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private sessionEnded: (() => void) | undefined;
  private nextValidIdValue = 0;
  private accountsValue: string[] = [];
  private brokerLinkUp = true;
  private readonly log: Logger;
  private abort = new AbortController();
  /** True from api.connect() until the client reports the socket closed. */
  private socketOpen = false;

  constructor(private readonly options: IbConnectionOptions) {
    super();
    this.log = options.logger.child({
      component: 'ib-connection',
      gateway: `${options.host}:${options.port}`,
      clientId: options.clientId,
    });
    this.metrics = ibConnectionMetrics(options.registry);
    this.metrics.connectionUp.set(0);
    this.metrics.brokerConnectivity.set(1);
    this.api = new IBApi({
      host: options.host,
      port: options.port,
      maxReqPerSec: options.maxRequestsPerSecond ?? 40,
    });
    this.api.on(EventName.received, () => {
      this.lastDataAt = Date.now();
    });
    this.api.on(EventName.nextValidId, (orderId: number) => {
      this.nextValidIdValue = Math.max(this.nextValidIdValue, orderId);
    });
    this.api.on(EventName.managedAccounts, (accounts: string) => {
      this.accountsValue = accounts
        .split(',')
        .map((account) => account.trim())
        .filter(Boolean);
    });
    this.api.on(EventName.error, (error: Error, code: number, requestId: number) =>
      this.onIbError(code, requestId, error.message),
    );
    this.api.on(EventName.info, (message: string, code: number) => this.onIbError(code, -1, message));
    this.api.on(EventName.disconnected, () => {
      this.socketOpen = false;
      this.onDisconnected();
    });
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  isReady(): boolean {
    return this.stateValue === 'ready';
  }

  /** Whether the gateway itself is linked to IB (false between 1100 and 1101/1102). */
  isBrokerLinkUp(): boolean {
    return this.brokerLinkUp;
  }

  /** The highest order id the gateway has declared usable so far. */
  get nextValidId(): number {
    return this.nextValidIdValue;
  }

  get accounts(): readonly string[] {
    return this.accountsValue;
  }

  get clientId(): number {
    return this.options.clientId;
  }

  /** Starts connecting; returns at once. Reconnects until `stop()`. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.abort = new AbortController();
    this.loop = this.run();
  }

  /** Resolves when the session is ready, or rejects after the timeout. */
  waitUntilReady(timeoutMs = 15_000): Promise<void> {
    if (this.isReady()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('ready', onReady);
        reject(
          new Error(`gateway ${this.options.host}:${this.options.port} not ready within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.once('ready', onReady);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.stopHeartbeat();
    this.closeSocket();
    this.sessionEnded?.();
    await this.loop;
    this.setState('disconnected');
  }

  /** Drops the session (the loop reconnects). For a silent gateway, and for fault tests. */
  dropSession(reason: string): void {
    this.log.warn({ reason }, 'dropping the gateway session');
    this.closeSocket();
  }

  private closeSocket(): void {
    if (!this.socketOpen) return;
    // Closed from here on: a second call before the client's `disconnected` event must not disconnect
    // again (the client answers that with a 504 warning on every clean stop).
    this.socketOpen = false;
    this.api.disconnect();
  }

  private setState(state: ConnectionState): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    this.metrics.connectionUp.set(state === 'ready' ? 1 : 0);
    this.emit('state', state);
  }

  private async run(): Promise<void> {
    const backoff = this.options.backoff ?? {};
    const policy = retry(handleAll, {
      maxAttempts: Number.MAX_SAFE_INTEGER,
      backoff: new ExponentialBackoff({
        generator: fullJitterGenerator,
        initialDelay: backoff.initialDelayMs ?? 250,
        maxDelay: backoff.maxDelayMs ?? 30_000,
        exponent: backoff.multiplier ?? 2,
      }),
    });
    policy.onRetry((reason) => {
      this.metrics.reconnectFailures.inc();
      const error = 'error' in reason ? reason.error.message : 'unknown';
      this.log.warn(
        { reason: error, nextAttemptInMs: Math.round(reason.delay) },
        'gateway connection attempt failed',
      );
    });
    let everReady = false;
    while (!this.stopped) {
      try {
        // The abort signal cancels a pending backoff delay at once when the connection is stopped.
        await policy.execute(() => this.attempt(), this.abort.signal);
      } catch {
        break; // only when stopped
      }
      if (this.stopped) {
        this.closeSocket();
        break;
      }
      if (everReady) {
        this.metrics.reconnects.inc();
        this.metrics.lastReconnect.set(Date.now() / 1000);
      }
      const ended = new Promise<void>((resolve) => (this.sessionEnded = resolve));
      // A fresh session starts with the link up: a gateway whose link is still down says 1100 again, and a
      // restarted gateway never sends the 1101/1102 that would clear an old 1100.
      this.brokerLinkUp = true;
      this.metrics.brokerConnectivity.set(1);
      this.setState('ready');
      this.startHeartbeat();
      this.log.info(
        { nextValidId: this.nextValidIdValue, accounts: this.accountsValue, reconnect: everReady },
        'gateway session ready',
      );
      this.emit('ready', {
        reconnect: everReady,
        nextValidId: this.nextValidIdValue,
        accounts: [...this.accountsValue],
        serverVersion: this.api.serverVersion,
      });
      everReady = true;
      await ended;
      this.stopHeartbeat();
      // A short pause before reconnecting, so a gateway that drops us at once is not hammered.
      await new Promise((resolve) => setTimeout(resolve, backoff.initialDelayMs ?? 250));
    }
  }

  /** One connect: TCP, handshake, startApi, until nextValidId. Rejects on any failure on the way. */
  private attempt(): Promise<void> {
    if (this.stopped) return Promise.reject(new ConnectAttemptError('stopped'));
    this.setState('connecting');
    return new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.api.off(EventName.nextValidId, onNextValidId);
        this.api.off(EventName.disconnected, onClosed);
        this.api.off(EventName.error, onError);
        this.api.off(EventName.info, onInfo);
      };
      const fail = (reason: string) => {
        cleanup();
        this.closeSocket();
        this.setState('disconnected');
        reject(new ConnectAttemptError(reason));
      };
      const onNextValidId = () => {
        cleanup();
        resolve();
      };
      const onClosed = () => fail('connection closed during the handshake');
      const onError = (error: Error, code: number) => {
        if (code === 502 || code === 506 || code === 503) fail(`${code}: ${error.message}`);
      };
      const onInfo = (message: string, code: number) => {
        if (code === 326) fail(`326: ${message}`);
      };
      const timer = setTimeout(
        () =>
          fail(
            `no nextValidId within ${this.options.connectTimeoutMs ?? 10_000} ms (gateway stalled or logged out)`,
          ),
        this.options.connectTimeoutMs ?? 10_000,
      );
      this.api.on(EventName.nextValidId, onNextValidId);
      this.api.on(EventName.disconnected, onClosed);
      this.api.on(EventName.error, onError);
      this.api.on(EventName.info, onInfo);
      this.lastDataAt = Date.now();
      this.socketOpen = true;
      this.api.connect(this.options.clientId);
    });
  }

  private onDisconnected(): void {
    if (this.stateValue === 'ready') {
      this.log.warn('gateway session lost');
      this.setState('disconnected');
      this.sessionEnded?.();
    }
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    const interval = this.options.heartbeatIntervalMs ?? 1_000;
    const timeout = this.options.heartbeatTimeoutMs ?? 4_000;
    this.lastDataAt = Date.now();
    this.heartbeat = setInterval(() => {
      if (!this.isReady()) return;
      if (Date.now() - this.lastDataAt > timeout) {
        this.metrics.heartbeatTimeouts.inc();
        this.dropSession(`no data from the gateway for ${timeout} ms`);
        return;
      }
      this.api.reqCurrentTime();
    }, interval);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private onIbError(code: number, requestId: number, message: string): void {
    const classified = classifyIbError(code, requestId, message);
    this.metrics.errors.inc({ code: String(code), kind: classified.kind });
    if (classified.kind === IbErrorKind.connectivityLost) {
      this.brokerLinkUp = false;
      this.metrics.brokerConnectivity.set(0);
      this.emit('brokerConnectivity', { up: false, dataLost: false, code });
    } else if (
      classified.kind === IbErrorKind.connectivityRestored ||
      classified.kind === IbErrorKind.connectivityRestoredDataLost
    ) {
      this.brokerLinkUp = true;
      this.metrics.brokerConnectivity.set(1);
      this.emit('brokerConnectivity', {
        up: true,
        dataLost: classified.kind === IbErrorKind.connectivityRestoredDataLost,
        code,
      });
    }
    const level =
      classified.severity === 'critical' ? 'error' : classified.severity === 'error' ? 'warn' : 'debug';
    this.log[level]({ code, requestId, kind: classified.kind }, message);
    this.emit('ibError', classified);
  }
}
