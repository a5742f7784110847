/**
 * WebSocket fan-out. Each event is serialised once and written to the subscribers of its channel. A
 * client whose unsent bytes would pass WS_MAX_BUFFERED_BYTES is closed at once (4429) rather than
 * buffered without bound: one slow phone must never hold memory or time that the others need. A ping
 * goes out every WS_HEARTBEAT_INTERVAL; a client that did not answer the previous one is dropped.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

import type { Logger } from '@ibstack/observability';
import { type RawData, WebSocket, WebSocketServer } from 'ws';

import { ApiError } from '../api/errors';
import type { Authenticator } from '../auth/authenticate';
import { tokenOf } from '../auth/login';
import type { TokenClaims } from '../auth/tokens';
import type { DashboardMetrics } from '../metrics';
import { Channel, ClientMessage, CloseCode } from './protocol';

export interface HubOptions {
  auth: Authenticator;
  logger: Logger;
  metrics: DashboardMetrics;
  authTimeoutMs: number;
  heartbeatMs: number;
  maxBufferedBytes: number;
  maxPayloadBytes: number;
  /** Origins allowed besides the page's own host (the CORS origins). */
  allowedOrigins: readonly string[];
  /** The current value of a snapshot channel, sent right after subscribing (trading state, gateway …). */
  snapshot: (channel: Channel) => Promise<unknown>;
}

interface Client {
  socket: WebSocket;
  cookieToken: string | null;
  user: TokenClaims | null;
  channels: Set<string>;
  alive: boolean;
  authTimer: NodeJS.Timeout | undefined;
  expiryTimer: NodeJS.Timeout | undefined;
  closed: boolean;
  /** Frames are handled one after the other, so `subscribe` sent right behind `authenticate` waits for it. */
  chain: Promise<void>;
  queued: number;
}

/** Frames a client may have waiting while an earlier one (its authentication) is being handled. */
const MAX_QUEUED_FRAMES = 64;

export class WebSocketHub {
  private readonly server: WebSocketServer;
  private readonly clients = new Set<Client>();
  private readonly byChannel = new Map<string, Set<Client>>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly options: HubOptions) {
    this.server = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayloadBytes,
      perMessageDeflate: false,
    });
    this.server.on('connection', (socket: WebSocket, request: IncomingMessage) =>
      this.accept(socket, request),
    );
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Wire to the HTTP server's `upgrade` event. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // The page authenticates with its cookie, so another site must not open a socket in its name.
    const origin = request.headers.origin;
    if (origin && !this.originAllowed(origin, request.headers.host)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      this.options.metrics.websocketDropped.inc({ reason: 'origin' });
      return;
    }
    this.server.handleUpgrade(request, socket, head, (ws) => this.server.emit('connection', ws, request));
  }

  private originAllowed(origin: string, host: string | undefined): boolean {
    if (this.options.allowedOrigins.includes(origin)) return true;
    try {
      return new URL(origin).host === host;
    } catch {
      return false;
    }
  }

  start(): void {
    this.heartbeat = setInterval(() => {
      for (const client of this.clients) {
        if (!client.alive) {
          this.drop(client, 'heartbeat');
          continue;
        }
        client.alive = false;
        try {
          client.socket.ping();
        } catch {
          this.drop(client, 'heartbeat');
        }
      }
    }, this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const client of [...this.clients]) {
      client.socket.close(CloseCode.shuttingDown, 'server stopping');
      this.forget(client);
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: WebSocket, request: IncomingMessage): void {
    const client: Client = {
      socket,
      cookieToken: tokenOf({ cookie: request.headers.cookie }),
      user: null,
      channels: new Set(),
      alive: true,
      authTimer: undefined,
      expiryTimer: undefined,
      closed: false,
      chain: Promise.resolve(),
      queued: 0,
    };
    this.clients.add(client);
    this.countClients();
    client.authTimer = setTimeout(() => {
      this.send(client, {
        type: 'error',
        payload: { code: 'authentication_timeout', message: 'authenticate first' },
      });
      this.close(client, CloseCode.authenticationTimeout, 'authentication timeout', 'auth_timeout');
    }, this.options.authTimeoutMs);
    socket.on('pong', () => (client.alive = true));
    socket.on('message', (data: RawData, isBinary: boolean) => this.enqueue(client, data, isBinary));
    socket.on('close', () => this.forget(client));
    socket.on('error', () => this.forget(client));
  }

  private enqueue(client: Client, data: RawData, isBinary: boolean): void {
    client.alive = true;
    if (++client.queued > MAX_QUEUED_FRAMES) {
      this.close(client, CloseCode.tooSlow, 'too many frames at once', 'flood');
      return;
    }
    client.chain = client.chain
      .then(() => (client.closed ? undefined : this.receive(client, data, isBinary)))
      .catch((error: unknown) => this.options.logger.warn({ err: error }, 'WebSocket frame failed'))
      .finally(() => client.queued--);
  }

  private async receive(client: Client, data: RawData, isBinary: boolean): Promise<void> {
    let message: ClientMessage;
    try {
      if (isBinary) throw new Error('binary');
      const parsed = ClientMessage.safeParse(
        JSON.parse(
          Buffer.isBuffer(data)
            ? data.toString('utf8')
            : Buffer.concat([data].flat() as Buffer[]).toString('utf8'),
        ),
      );
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        return this.reject(
          client,
          'invalid_message',
          `${issue.path.join('.') || 'message'}: ${issue.message}`,
        );
      }
      message = parsed.data;
    } catch {
      return this.reject(client, 'invalid_json', 'a message must be a JSON text frame');
    }
    if (!client.user && message.type !== 'authenticate')
      return this.reject(client, 'unauthenticated', 'authenticate first');
    switch (message.type) {
      case 'authenticate':
        return this.authenticate(client, message.payload.token ?? client.cookieToken);
      case 'subscribe':
        return this.subscribe(client, message.payload.channels);
      case 'unsubscribe':
        for (const channel of message.payload.channels) {
          client.channels.delete(channel);
          this.byChannel.get(channel)?.delete(client);
        }
        return this.send(client, { type: 'unsubscribed', payload: { channels: message.payload.channels } });
      case 'ping':
        return this.send(client, { type: 'pong', payload: { ts: new Date().toISOString() } });
    }
  }

  /** Before authentication any bad frame closes the socket; after it, the client is told and may go on. */
  private reject(client: Client, code: string, message: string): void {
    this.send(client, { type: 'error', payload: { code, message } });
    if (!client.user) this.close(client, CloseCode.unauthenticated, code, 'unauthenticated');
  }

  private async authenticate(client: Client, token: string | null): Promise<void> {
    if (client.user)
      return this.send(client, {
        type: 'error',
        payload: { code: 'already_authenticated', message: 'already authenticated' },
      });
    try {
      const user = await this.options.auth.authenticate(token);
      if (client.closed) return;
      client.user = user;
      clearTimeout(client.authTimer);
      const remaining = user.expiresAt * 1000 - Date.now();
      client.expiryTimer = setTimeout(
        () => this.close(client, CloseCode.tokenExpired, 'token expired', 'token_expired'),
        Math.max(0, Math.min(remaining, 2 ** 31 - 1)),
      );
      this.countClients();
      this.send(client, {
        type: 'authenticated',
        payload: {
          username: user.username,
          role: user.role,
          expiresAt: new Date(user.expiresAt * 1000).toISOString(),
        },
      });
    } catch (error) {
      const code = error instanceof ApiError ? error.code : 'unauthenticated';
      const text = error instanceof ApiError ? error.message : 'authentication failed';
      this.send(client, { type: 'error', payload: { code, message: text } });
      this.close(client, CloseCode.unauthenticated, code, 'unauthenticated');
    }
  }

  private async subscribe(client: Client, names: string[]): Promise<void> {
    const accepted: Channel[] = [];
    const rejected: string[] = [];
    for (const name of names) {
      const parsed = Channel.safeParse(name);
      if (parsed.success) accepted.push(parsed.data);
      else rejected.push(name);
    }
    for (const channel of accepted) {
      client.channels.add(channel);
      let set = this.byChannel.get(channel);
      if (!set) this.byChannel.set(channel, (set = new Set()));
      set.add(client);
    }
    this.send(client, { type: 'subscribed', payload: { channels: accepted } });
    if (rejected.length > 0)
      this.send(client, {
        type: 'error',
        payload: {
          code: 'unknown_channel',
          message: `unknown channel${rejected.length > 1 ? 's' : ''}: ${rejected.slice(0, 5).join(', ')}`,
        },
      });
    for (const channel of accepted) {
      const value = await this.options.snapshot(channel).catch(() => undefined);
      if (value !== undefined && !client.closed)
        this.write(
          client,
          JSON.stringify({ type: 'event', channel, payload: value, snapshot: true }),
          channel,
        );
    }
  }

  /** Sends an event to every subscriber of a channel; serialised once. */
  publish(channel: string, payload: unknown): void {
    const subscribers = this.byChannel.get(channel);
    if (!subscribers || subscribers.size === 0) return;
    const text = JSON.stringify({ type: 'event', channel, payload });
    for (const client of subscribers) this.write(client, text, channel);
  }

  hasSubscribers(channel: string): boolean {
    return (this.byChannel.get(channel)?.size ?? 0) > 0;
  }

  private send(client: Client, message: unknown): void {
    this.write(client, JSON.stringify(message), 'control');
  }

  private write(client: Client, text: string, channel: string): void {
    if (client.closed || client.socket.readyState !== WebSocket.OPEN) return;
    if (client.socket.bufferedAmount + text.length > this.options.maxBufferedBytes) {
      this.drop(client, 'slow');
      return;
    }
    client.socket.send(text);
    this.options.metrics.websocketMessages.inc({ channel: channel.split(':')[0]! });
  }

  private drop(client: Client, reason: 'slow' | 'heartbeat'): void {
    if (client.closed) return;
    this.options.metrics.websocketDropped.inc({ reason });
    if (reason === 'slow')
      this.options.logger.warn({ user: client.user?.username }, 'WebSocket client too slow: dropped');
    // A slow client's buffer is full: a close frame would queue behind it, so the socket is cut.
    client.socket.terminate();
    this.forget(client);
  }

  private close(client: Client, code: number, reason: string, metric: string): void {
    if (client.closed) return;
    this.options.metrics.websocketDropped.inc({ reason: metric });
    client.socket.close(code, reason);
    this.forget(client);
    // A peer that never completes the close handshake is cut after a second.
    setTimeout(() => client.socket.terminate(), 1_000).unref();
  }

  private forget(client: Client): void {
    if (client.closed) return;
    client.closed = true;
    clearTimeout(client.authTimer);
    clearTimeout(client.expiryTimer);
    for (const channel of client.channels) this.byChannel.get(channel)?.delete(client);
    this.clients.delete(client);
    this.countClients();
  }

  private countClients(): void {
    let authenticated = 0;
    for (const client of this.clients) if (client.user) authenticated++;
    this.options.metrics.websocketClients.set({ state: 'authenticated' }, authenticated);
    this.options.metrics.websocketClients.set({ state: 'pending' }, this.clients.size - authenticated);
  }
}
