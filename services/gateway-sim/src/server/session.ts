/**
 * One API connection: reads the handshake and frames, answers the version, waits for startApi, then hands
 * each decoded request to the gateway. Writes are batched per event-loop turn. While the gateway is stalled
 * the session neither reads nor writes, like a frozen Gateway process: the socket stops reading (the peer's
 * bytes wait in the kernel, which pushes back on the peer), and outbound order, account and error messages
 * queue up and go out when the stall ends. Market-data ticks are dropped instead (the stream resumes with
 * the current quote). The queue is bounded: a session that would exceed it is closed rather than lose a
 * message silently.
 */
import type { Socket } from 'node:net';

import type { Logger } from '@ibstack/observability';

import { ProtocolViolationError, RequestDecodeError } from '../errors';
import { encodeFrame, type ClientHello, type Field, InboundReader } from '../protocol/framing';
import { decodeRequest, type ClientRequest } from '../protocol/requests';

export type SessionPhase = 'hello' | 'start-api' | 'ready' | 'closed';

export interface SessionHost {
  readonly stalled: boolean;
  /** Bytes of outbound messages a session may queue during a stall before it is closed. */
  readonly stallBacklogBytes: number;
  readonly handshakeTimeoutMs: number;
  /** The version to speak with this client, or undefined to refuse it (the socket is closed). */
  chooseVersion(hello: ClientHello): number | undefined;
  connectionTime(): string;
  onStartApi(session: Session, clientId: number): void;
  onRequest(session: Session, request: ClientRequest): void;
  onDecodeError(session: Session, error: RequestDecodeError): void;
  onClosed(session: Session): void;
  countInbound(messageId: number): void;
  countOutbound(messageId: number): void;
  countProtocolError(reason: string): void;
  countMarketDataDropped(): void;
}

let nextSessionId = 1;

const MARKET_DATA_BACKLOG_BYTES = 1024 * 1024;

export class Session {
  readonly id = nextSessionId++;
  readonly remote: string;
  private readonly reader = new InboundReader();
  private phaseValue: SessionPhase = 'hello';
  private serverVersionValue = 0;
  private clientIdValue: number | undefined;
  private readonly held: Buffer[] = [];
  private outbox: Buffer[] = [];
  /** Messages produced while stalled, sent when the stall ends. */
  private stalledOutbox: Buffer[] = [];
  private stalledOutboxBytes = 0;
  private flushScheduled = false;
  readonly connectedAt = Date.now();
  private readonly log: Logger;

  constructor(
    private readonly socket: Socket,
    private readonly host: SessionHost,
    log: Logger,
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.log = log.child({ session: this.id, remote: this.remote });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.log.debug({ err: error }, 'client socket error'));
    socket.on('close', () => this.onClose());
    const handshakeTimer = setTimeout(() => this.closeIfNotStarted(), host.handshakeTimeoutMs);
    handshakeTimer.unref();
    socket.once('close', () => clearTimeout(handshakeTimer));
  }

  private closeIfNotStarted(): void {
    if (this.phaseValue === 'ready' || this.phaseValue === 'closed') return;
    // A stalled gateway is what keeps it from starting: the stall decides, not this timer.
    if (this.host.stalled) {
      setTimeout(() => this.closeIfNotStarted(), this.host.handshakeTimeoutMs).unref();
      return;
    }
    this.host.countProtocolError('handshake-timeout');
    this.log.warn(
      { phase: this.phaseValue },
      'closing a connection that never completed its handshake and startApi',
    );
    this.close();
  }

  get phase(): SessionPhase {
    return this.phaseValue;
  }

  get serverVersion(): number {
    return this.serverVersionValue;
  }

  /** The client id from startApi; undefined before it. */
  get clientId(): number | undefined {
    return this.clientIdValue;
  }

  get isReady(): boolean {
    return this.phaseValue === 'ready';
  }

  /** Queues one message; all queued messages go out together at the end of this event-loop turn. */
  send(fields: readonly Field[]): void {
    if (this.phaseValue === 'closed') return;
    const frame = encodeFrame(fields);
    if (this.host.stalled) {
      if (this.stalledOutboxBytes + frame.length > this.host.stallBacklogBytes) {
        this.log.warn(
          { queuedBytes: this.stalledOutboxBytes, limit: this.host.stallBacklogBytes },
          'closing a session whose messages outgrew the stall queue',
        );
        this.close();
        return;
      }
      this.stalledOutbox.push(frame);
      this.stalledOutboxBytes += frame.length;
      this.host.countOutbound(Number(fields[0]));
      return;
    }
    this.outbox.push(frame);
    this.host.countOutbound(Number(fields[0]));
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /**
   * Queues a market-data message unless the client is not reading fast enough (over 1 MiB waiting in the
   * socket): then the tick is dropped, which conflates the stream instead of buffering without bound.
   * Order, account and error messages always use `send`.
   */
  sendMarketData(fields: readonly Field[]): boolean {
    if (this.host.stalled || this.socket.writableLength > MARKET_DATA_BACKLOG_BYTES) {
      this.droppedMarketData += 1;
      this.host.countMarketDataDropped();
      return false;
    }
    this.send(fields);
    return true;
  }

  /** Market-data messages dropped because the client fell behind. */
  droppedMarketData = 0;

  /** Closes after the queued messages are written (a 326 answer, a refused version). */
  end(): void {
    this.flush();
    this.phaseValue = 'closed';
    this.socket.end();
    // A peer that never reads must not keep the socket half-open forever.
    setTimeout(() => this.socket.destroy(), 1_000).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Ends a stall: sends what was queued during it, then reads and answers the input that waited. */
  resume(): void {
    if (this.phaseValue === 'closed') return;
    const queued = this.stalledOutbox;
    this.stalledOutbox = [];
    this.stalledOutboxBytes = 0;
    if (queued.length > 0) {
      this.outbox.push(...queued);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    }
    const chunks = this.held.splice(0);
    for (const chunk of chunks) this.onData(chunk);
    if (!this.host.stalled) this.socket.resume();
  }

  private close(): void {
    this.phaseValue = 'closed';
    this.stalledOutbox = [];
    this.stalledOutboxBytes = 0;
    this.socket.destroy();
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.outbox.length === 0 || this.socket.destroyed) {
      this.outbox = [];
      return;
    }
    const batch = this.outbox.length === 1 ? this.outbox[0]! : Buffer.concat(this.outbox);
    this.outbox = [];
    this.socket.write(batch);
  }

  private onData(chunk: Buffer): void {
    if (this.phaseValue === 'closed') return;
    if (this.host.stalled) {
      // A frozen process reads nothing: what is already here waits, the rest stays in the kernel.
      this.held.push(chunk);
      this.socket.pause();
      return;
    }
    try {
      this.consume(chunk);
    } catch (error) {
      // A bug reached by one client's bytes ends that session, never the process and the other clients.
      this.log.error({ err: error }, 'closing a session after an unexpected error');
      this.phaseValue = 'closed';
      this.socket.destroy();
    }
  }

  private consume(chunk: Buffer): void {
    let events;
    try {
      events = this.reader.push(chunk);
    } catch (error) {
      if (error instanceof ProtocolViolationError) {
        this.host.countProtocolError(error.reason);
        this.log.warn(
          { reason: error.reason },
          `closing a connection that broke the protocol: ${error.message}`,
        );
        this.phaseValue = 'closed';
        this.socket.destroy();
        return;
      }
      throw error;
    }
    for (const event of events) {
      if (this.phaseValue === 'closed') return;
      if (event.kind === 'hello') this.onHello(event.hello);
      else this.onFrame(event.fields);
    }
  }

  private onHello(hello: ClientHello): void {
    const version = this.host.chooseVersion(hello);
    if (version === undefined) {
      this.host.countProtocolError('unsupported-version');
      this.log.warn({ hello }, 'closing a client whose version range excludes the server version');
      this.phaseValue = 'closed';
      this.socket.destroy();
      return;
    }
    this.serverVersionValue = version;
    this.phaseValue = 'start-api';
    this.send([version, this.host.connectionTime()]);
  }

  private onFrame(fields: string[]): void {
    const messageId = Number(fields[0]);
    this.host.countInbound(Number.isInteger(messageId) ? messageId : -1);
    let request: ClientRequest;
    try {
      request = decodeRequest(fields, this.serverVersionValue);
    } catch (error) {
      if (error instanceof RequestDecodeError) {
        this.host.countProtocolError('undecodable-request');
        this.host.onDecodeError(this, error);
        return;
      }
      throw error;
    }
    if (this.phaseValue === 'start-api') {
      if (request.type !== 'startApi') {
        // Nothing is served before startApi; IB ignores such requests too.
        this.log.debug({ messageId }, 'request before startApi ignored');
        return;
      }
      this.clientIdValue = request.clientId;
      this.phaseValue = 'ready';
      this.host.onStartApi(this, request.clientId);
      return;
    }
    if (request.type === 'startApi') return; // a second startApi changes nothing
    this.host.onRequest(this, request);
  }

  private onClose(): void {
    this.phaseValue = 'closed';
    this.held.length = 0;
    this.outbox = [];
    this.stalledOutbox = [];
    this.stalledOutboxBytes = 0;
    this.host.onClosed(this);
  }
}
